// Runs ci/gitlab/examples/.gitlab-ci.yml with gitlab-ci-local (shell executor: no container engine
// here) against a real `vedette serve`, with the `vedette` binary under test on PATH. The example's
// components resolve from templates/ of a throwaway git repository laid out like the published
// component project; only the component version is replaced, by the commit under test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKEN, api, applyMonitors, run, startServer, startTarget, tempDir, vedetteBin } from './support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const gitlabDir = join(here, '..');
const gitlabCiLocal = join(gitlabDir, 'node_modules', '.bin', 'gitlab-ci-local');

let okTarget;
let downTarget;

before(async () => {
  assert.ok(existsSync(gitlabCiLocal), `no gitlab-ci-local at ${gitlabCiLocal}: run npm ci in ci/gitlab`);
  okTarget = await startTarget(200);
  downTarget = await startTarget(503);
});

after(async () => {
  await okTarget?.close();
  await downTarget?.close();
});

/** Runs `git` in `cwd`, failing the test on a non-zero exit. */
function git(cwd, ...args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A git repository holding the component templates and the example pipeline; returns its path. */
function componentRepo(root) {
  const repo = join(root, 'repo');
  mkdirSync(join(repo, 'templates'), { recursive: true });
  for (const name of readdirSync(join(gitlabDir, 'templates'))) {
    copyFileSync(join(gitlabDir, 'templates', name), join(repo, 'templates', name));
  }
  const example = readFileSync(join(gitlabDir, 'examples', '.gitlab-ci.yml'), 'utf8');
  const pinned = example.match(/\/ops\/vedette-ci\/\w+@1\.0\.0/g) ?? [];
  assert.equal(pinned.length, 2, 'the example includes both components at version 1.0.0');
  writeFileSync(join(repo, '.gitlab-ci.yml'), example.replaceAll('@1.0.0', '@$CI_COMMIT_SHA'));
  // The deployment scripts the example calls: each records that it ran.
  for (const step of ['deploy', 'promote', 'rollback']) {
    writeFileSync(join(repo, `${step}.sh`), `#!/bin/sh\necho "${step} $*" >>"$STEPS_LOG"\n`, { mode: 0o755 });
  }
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'remote', 'add', 'origin', 'https://gitlab.example.com/ops/vedette-ci.git');
  git(repo, 'add', '-A');
  git(repo, '-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'pipeline');
  return repo;
}

/** Runs the example pipeline; resolves to {status, output, steps, commit, dotenv(job, file), junit(job, file)}. */
async function runPipeline(server, root, { token = TOKEN } = {}) {
  const repo = componentRepo(root);
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  const stepsLog = join(root, 'steps.log');
  writeFileSync(stepsLog, '');
  const r = await run(
    gitlabCiLocal,
    [
      '--force-shell-executor',
      '--no-color',
      '--home', home,
      '--variable', `VEDETTE_URL=${server.url}`,
      '--variable', `VEDETTE_TOKEN=${token}`,
      '--variable', 'VEDETTE_IMAGE=vedette-cli',
      '--variable', `STEPS_LOG=${stepsLog}`,
    ],
    {
      cwd: repo,
      timeoutMs: 240_000,
      env: { ...process.env, HOME: home, PATH: `${dirname(vedetteBin())}:${process.env.PATH}`, NO_COLOR: '1' },
    },
  );
  const output = `${r.stdout}${r.stderr}`;
  const artifacts = join(repo, '.gitlab-ci-local', 'artifacts');
  return {
    status: r.status,
    output,
    steps: readFileSync(stepsLog, 'utf8').trim().split('\n').filter(Boolean),
    dotenv(job, file) {
      const path = join(artifacts, job, '.gitlab-ci-reports', 'dotenv', file);
      assert.ok(existsSync(path), `${job} left no dotenv report ${file}; pipeline output:\n${output}`);
      return Object.fromEntries(
        readFileSync(path, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
    },
    junit(job, file) {
      // gitlab-ci-local keeps `artifacts: paths` (the JUnit file is one) under the job's name.
      const path = join(artifacts, job, file);
      assert.ok(existsSync(path), `${job} left no JUnit report ${file}; pipeline output:\n${output}`);
      return readFileSync(path, 'utf8');
    },
    commit: git(repo, 'rev-parse', 'HEAD'),
  };
}

/** The one deployment the server holds. */
async function onlyDeployment(server) {
  const list = await api(server, '/api/v1/deployments');
  const items = list.items ?? list;
  assert.equal(items.length, 1, `one deployment recorded: ${JSON.stringify(list)}`);
  return items[0];
}

/** A scenario: a fresh server with `monitors`, then the example pipeline run against it. */
async function scenario(name, monitors, check, options) {
  const root = tempDir(`vedette-gitlab-${name}-`);
  const server = await startServer();
  try {
    await applyMonitors(server, monitors);
    await check(await runPipeline(server, root, options), server);
  } catch (e) {
    e.message += `\n--- server log ---\n${server.log().slice(-4000)}`;
    throw e;
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const payments = (url) => [{ id: 'payments-api', labels: { service: 'payments', env: 'prod' }, url }];

test('a healthy deployment passes the gate and is promoted', async () => {
  await scenario('pass', payments(okTarget.url), async (run, server) => {
    assert.equal(run.status, 0, `the pipeline passes:\n${run.output}`);
    assert.deepEqual(run.steps, [`deploy prod ${run.commit.slice(0, 8)}`, `promote prod ${run.commit.slice(0, 8)}`]);
    const deployment = await onlyDeployment(server);
    const start = run.dotenv('vedette-deployment-start', 'vedette-deployment.env');
    assert.equal(start.VEDETTE_DEPLOYMENT_ID, deployment.id);
    assert.equal(start.VEDETTE_ENVIRONMENT_URL, `${server.url}/api/v1/deployments/${deployment.id}`);
    assert.equal(deployment.spec.service, 'payments');
    assert.equal(deployment.spec.version, run.commit.slice(0, 8));
    assert.equal(deployment.spec.environment, 'prod');
    assert.equal(deployment.spec.commit, run.commit);
    assert.equal(deployment.spec.ref, 'main');
    assert.equal(deployment.spec.source, 'gitlab');
    assert.equal(deployment.spec.selector, 'service=payments,env=prod');
    assert.equal(deployment.spec.status, 'succeeded');
    assert.ok(deployment.spec.finished_at, 'the finish time is recorded');

    const out = run.dotenv('vedette-verify', 'vedette-verify.env');
    assert.equal(out.VEDETTE_OUTCOME, 'passed');
    assert.equal(out.VEDETTE_FAILED_MONITORS, '');
    const verification = await api(server, `/api/v1/verifications/${out.VEDETTE_VERIFICATION_ID}`);
    assert.equal(verification.status.state, 'passed');
    assert.equal(verification.spec.deployment, deployment.id);
    assert.equal(verification.spec.selector, 'service=payments,env=prod');
    assert.equal(verification.spec.consecutive, 3);
    const junit = run.junit('vedette-verify', 'vedette-junit.xml');
    assert.match(junit, /<testcase[^>]*name="payments-api"/);
    assert.doesNotMatch(junit, /<failure/);
    assert.match(run.output, /PASS\s+vedette-verify/);
  });
});

test('a target answering 503 fails the gate and the deployment is rolled back', async () => {
  await scenario('fail', payments(downTarget.url), async (run, server) => {
    assert.notEqual(run.status, 0, `the pipeline fails:\n${run.output}`);
    assert.match(run.output, /FAIL\s+vedette-verify/);
    assert.deepEqual(run.steps, [`deploy prod ${run.commit.slice(0, 8)}`, 'rollback prod']);
    const out = run.dotenv('vedette-verify', 'vedette-verify.env');
    assert.equal(out.VEDETTE_OUTCOME, 'failed');
    assert.equal(out.VEDETTE_FAILED_MONITORS, 'payments-api');
    assert.match(run.output, /was failed \(failing monitors payments-api\)/, 'the rollback job sees the outputs');
    const verification = await api(server, `/api/v1/verifications/${out.VEDETTE_VERIFICATION_ID}`);
    assert.equal(verification.status.state, 'failed');
    const junit = run.junit('vedette-verify', 'vedette-junit.xml');
    assert.match(junit, /<testcase[^>]*name="payments-api"[^>]*>\s*<failure[^>]*503/);
    const deployment = await onlyDeployment(server);
    assert.equal(deployment.spec.status, 'rolled_back');
  });
});

test('a selector that matches no monitor fails the gate (no_monitors)', async () => {
  const billing = [{ id: 'billing-api', labels: { service: 'billing', env: 'prod' }, url: okTarget.url }];
  await scenario('none', billing, async (run, server) => {
    assert.notEqual(run.status, 0, `the pipeline fails:\n${run.output}`);
    assert.match(run.output, /FAIL\s+vedette-verify/);
    assert.deepEqual(run.steps, [`deploy prod ${run.commit.slice(0, 8)}`, 'rollback prod']);
    const out = run.dotenv('vedette-verify', 'vedette-verify.env');
    assert.equal(out.VEDETTE_OUTCOME, 'no_monitors');
    const verification = await api(server, `/api/v1/verifications/${out.VEDETTE_VERIFICATION_ID}`);
    assert.equal(verification.status.state, 'no_monitors');
    assert.equal((await onlyDeployment(server)).spec.status, 'rolled_back');
  });
});

test('a wrong token fails the pipeline and records nothing', async () => {
  const wrong = 'vdt_not-a-token-of-this-server-000000000000';
  await scenario('token', payments(okTarget.url), async (run, server) => {
    assert.notEqual(run.status, 0, `the pipeline fails:\n${run.output}`);
    assert.match(run.output, /FAIL\s+vedette-deployment-start/);
    assert.ok(!run.output.includes(wrong), 'the token never appears in the job logs');
    assert.ok(!run.steps.some((s) => s.startsWith('promote')), 'nothing is promoted');
    const list = await api(server, '/api/v1/deployments');
    assert.equal((list.items ?? list).length, 0);
  }, { token: wrong });
});
