// End-to-end tests in real Chromium: builds the harness page (webpack --env harness), serves it
// on 127.0.0.1, renders the status timeline and SLO panels from frames recorded from a real
// `vedette serve` and the query editor, loads the built dist/ and dist-panels/ modules as
// Grafana does (AMD, Grafana's modules injected), asserts they draw (non-empty canvas, expected DOM, no
// thrown error, no console error), saves screenshots to docs/img/grafana/ and measures the
// status timeline on 500 monitors × 30 days. Debian's `chromium` is installed when missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const build = path.join(here, '.build');
const shots = path.resolve(root, '../docs/img/grafana');
const BENCH_LIMIT_MS = 1000;

function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (found) {
    return found;
  }
  console.error('chromium not found: installing Debian chromium with apt-get');
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (update.status !== 0 || install.status !== 0 || !existsSync('/usr/bin/chromium')) {
    throw new Error('chromium: not installed and `apt-get install chromium` failed; install it or set CHROMIUM_PATH');
  }
  return '/usr/bin/chromium';
}

/** Serves the harness build, and Grafana's icons from @grafana/ui where Grafana serves them. */
function serve(dir) {
  const icons = path.join(root, 'node_modules/@grafana/ui/dist/public/img/icons');
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.svg': 'image/svg+xml' };
  const server = http.createServer((req, res) => {
    const url = path.posix.normalize(new URL(req.url, 'http://x').pathname);
    const [base, rel] = url.startsWith('/public/build/img/icons/')
      ? [icons, url.slice('/public/build/img/icons/'.length)]
      : url.startsWith('/plugins/dist')
        ? [root, url.slice('/plugins/'.length)]
        : [dir, url.slice(1)];
    const file = path.join(base, rel);
    if (!file.startsWith(base) || !existsSync(file) || (base === root && !/^dist(-panels)?\//.test(rel))) {
      console.error(`harness server: 404 ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const results = [];

async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

/** Opens a view, failing on a thrown error or a console error, and waits until it is mounted. */
async function open(browser, base, view, extra = '') {
  const page = await browser.newPage({ viewport: { width: 1260, height: 700 }, deviceScaleFactor: 1 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`thrown: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      errors.push(`console error: ${m.text()}`);
    }
  });
  await page.goto(`${base}/index.html?view=${view}${extra}`);
  await page.waitForFunction(() => window.harness && (window.harness.ready || window.harness.error), null, { timeout: 30_000 });
  const state = await page.evaluate(() => window.harness);
  if (state.error) {
    throw new Error(`${view} did not mount: ${state.error}`);
  }
  return { page, errors, state };
}

function assertNoErrors(errors) {
  if (errors.length) {
    throw new Error(errors.join('; '));
  }
}

/** Counts canvas pixels of more than one colour family: a blank or single-colour canvas draws nothing. */
async function canvasColours(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('canvas');
    if (!canvas || canvas.width === 0 || canvas.height === 0) {
      return { colours: 0, painted: 0 };
    }
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const bg = data.slice(0, 4).join(',');
    const colours = new Set();
    let painted = 0;
    for (let i = 0; i < data.length; i += 16) {
      const key = `${data[i] >> 4},${data[i + 1] >> 4},${data[i + 2] >> 4}`;
      colours.add(key);
      if (`${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}` !== bg) {
        painted++;
      }
    }
    return { colours: colours.size, painted };
  });
}

async function main() {
  const executablePath = chromiumPath();
  execFileSync('npx', ['webpack', '--mode', 'production', '--env', 'harness'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  mkdirSync(shots, { recursive: true });
  const server = await serve(build);
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    await check('status timeline renders the recorded frames', async () => {
      const { page, errors } = await open(browser, base, 'statustimeline');
      const label = await page.getAttribute('canvas', 'aria-label');
      if (!/Status timeline of [1-9]\d* monitors/.test(label ?? '')) {
        throw new Error(`canvas label: ${label}`);
      }
      const { colours, painted } = await canvasColours(page);
      if (colours < 4 || painted < 1000) {
        throw new Error(`canvas nearly empty: ${colours} colours, ${painted} painted samples`);
      }
      await page.mouse.move(16 + 8 + 600, 16 + 8 + 40);
      await page.waitForSelector('[role=tooltip]', { timeout: 5000 });
      await page.locator('#panel').screenshot({ path: path.join(shots, 'statustimeline.png') });
      assertNoErrors(errors);
      await page.close();
    });

    await check('SLO panel renders the recorded frames', async () => {
      const { page, errors } = await open(browser, base, 'slo');
      const rows = await page.locator('tbody tr').count();
      if (rows < 1) {
        throw new Error('no SLO rows');
      }
      const spark = await page.locator('polyline').count();
      if (spark < 1) {
        throw new Error('no budget-spent chart');
      }
      await page.locator('#panel').screenshot({ path: path.join(shots, 'slo.png') });
      assertNoErrors(errors);
      await page.close();
    });

    await check('query editor renders, loads label keys and builds a selector', async () => {
      const { page, errors } = await open(browser, base, 'editor');
      await page.getByText('Latency p95').waitFor({ timeout: 10_000 });
      await page.getByText('payments').waitFor();
      await page.getByLabel('add label requirement').click();
      await page.getByLabel('label key 3').click();
      await page.getByLabel('Select options menu').getByText('env', { exact: true }).click();
      await page.getByLabel('label value 3').click();
      await page.getByLabel('Select options menu').getByText('stage', { exact: true }).click();
      await page.keyboard.press('Escape');
      await page.getByRole('radio', { name: 'Raw' }).check();
      const raw = await page.getByLabel('raw selector').inputValue();
      if (raw !== 'team=payments,env in (prod,$env),env=stage') {
        throw new Error(`selector built: ${raw}`);
      }
      const json = JSON.parse(await page.getByLabel('raw query').inputValue());
      if (json.selector !== raw || json.metric !== 'latency_p95') {
        throw new Error(`raw query JSON: ${JSON.stringify(json)}`);
      }
      await page.getByLabel('raw query').fill('{"queryType":"series","metric":"p42"}');
      await page.getByLabel('raw selector').focus();
      await page.getByText('metric: expected uptime', { exact: false }).waitFor({ timeout: 5000 });
      await page.getByRole('radio', { name: 'Builder' }).check();
      await page.locator('#panel').screenshot({ path: path.join(shots, 'query-editor.png') });
      assertNoErrors(errors);
      await page.close();
    });

    await check('built plugins load as AMD modules and their panels render', async () => {
      for (const dir of ['dist', 'dist-panels/vedette-statustimeline-panel', 'dist-panels/vedette-slo-panel']) {
        if (!existsSync(path.join(root, dir, 'module.js')) || !existsSync(path.join(root, dir, 'module.js.map'))) {
          throw new Error(`${dir}: module.js and module.js.map missing; run npm run build first`);
        }
      }
      const { page, errors } = await open(browser, base, 'built');
      const { colours } = await canvasColours(page);
      if (colours < 4) {
        throw new Error('status timeline from dist-panels drew nothing');
      }
      if ((await page.locator('tbody tr').count()) < 1) {
        throw new Error('SLO panel from dist-panels rendered no rows');
      }
      assertNoErrors(errors);
      await page.close();
    });

    await check(`bench: status timeline draws 500 monitors × 30 days in < ${BENCH_LIMIT_MS} ms (median of 5 page loads)`, async () => {
      const times = [];
      for (let i = 0; i < 5; i++) {
        const { page, errors, state } = await open(browser, base, 'bench', '&rows=500&days=30');
        assertNoErrors(errors);
        times.push(state.renderMs);
        if (i === 0) {
          const { colours } = await canvasColours(page);
          if (colours < 4) {
            throw new Error('bench canvas is empty');
          }
          await page.locator('#panel').screenshot({ path: path.join(shots, 'statustimeline-500.png') });
          const scroll = await page.evaluate(async () => {
            const canvas = document.querySelector('canvas');
            const ctx = canvas.getContext('2d');
            const before = ctx.getImageData(0, 0, 200, canvas.height).data.join(',');
            const el = document.querySelector('[data-testid=statustimeline-scroll]');
            const start = performance.now();
            el.scrollTop = el.scrollHeight / 2;
            el.dispatchEvent(new Event('scroll'));
            await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
            const after = ctx.getImageData(0, 0, 200, canvas.height).data.join(',');
            return { ms: performance.now() - start, changed: before !== after };
          });
          if (!scroll.changed) {
            throw new Error('scrolling to the middle rows did not redraw the names');
          }
          console.log(`bench: scroll to row 250 and redraw: ${scroll.ms.toFixed(0)} ms`);
        }
        await page.close();
      }
      const sorted = [...times].sort((a, b) => a - b);
      const median = sorted[2];
      console.log(
        `bench: status timeline, 500 rows × 720 hourly buckets (30 days), frames to pixels: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median.toFixed(0)} ms, best ${sorted[0].toFixed(0)} ms)`
      );
      if (median >= BENCH_LIMIT_MS) {
        throw new Error(`median render ${median.toFixed(0)} ms ≥ ${BENCH_LIMIT_MS} ms`);
      }
    });
  } finally {
    await browser.close();
    server.close();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
