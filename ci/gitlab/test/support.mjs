// Real parts for the pipeline tests: a `vedette serve` on 127.0.0.1 with its own data directory,
// HTTP targets on 127.0.0.1 that answer a fixed status, monitors created through the API, and a
// way to run a process without blocking the event loop the targets live in.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The admin token the test server is bootstrapped with. */
export const TOKEN = 'vdt_gitlab-ci-test-admin-token-0123456789';

/** The vedette binary under test: VEDETTE_BIN, which scripts/test-ci-cli sets. */
export function vedetteBin() {
  const bin = process.env.VEDETTE_BIN;
  if (!bin) {
    throw new Error('VEDETTE_BIN is not set: run these tests through scripts/test-ci-cli');
  }
  return bin;
}

/** A fresh directory under the system's temp directory. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts `vedette serve` on a free loopback port; resolves to {url, stop, log()} once the server
 * prints its "vedette listening on" line (60 s at most).
 */
export async function startServer() {
  const dir = tempDir('vedette-gitlab-server-');
  const child = spawn(vedetteBin(), ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')], {
    env: { ...process.env, VEDETTE_BOOTSTRAP_TOKEN: TOKEN, NO_COLOR: '1', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vedette serve did not listen within 60 s:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      // Only a whole line: a chunk may end inside the port number.
      const m = /vedette listening on (http:\/\/\S+)\r?\n/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vedette serve exited with ${code} before listening:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    log: () => output,
    stop: async () => {
      const ended = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await ended;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP server on 127.0.0.1 answering every request with `status`; resolves to {url, close}. */
export async function startTarget(status) {
  const server = createServer((req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status === 200 ? 'ok\n' : 'unavailable\n');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/healthz`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Runs a process to its end without blocking this process's event loop (the HTTP targets the
 * monitors check live in it); resolves to {status, stdout, stderr}. Killed after `timeoutMs`.
 */
export function run(command, args, { cwd, env, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (signal) {
        reject(new Error(`${command} ${args.join(' ')} was killed (${signal}) after ${timeoutMs} ms:\n${stdout}${stderr}`));
      } else {
        resolve({ status, stdout, stderr });
      }
    });
  });
}

/** Creates HTTP monitors on `server` (PUT /api/v1/monitors/{id}), checked every 2 s. */
export async function applyMonitors(server, monitors) {
  for (const m of monitors) {
    const spec = { http: { url: m.url, method: 'GET' }, interval: '2s', timeout: '2s', assertions: ['status == 200'] };
    const res = await fetch(`${server.url}/api/v1/monitors/${m.id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ labels: m.labels, spec }),
    });
    if (!res.ok) {
      throw new Error(`PUT /api/v1/monitors/${m.id}: ${res.status} ${await res.text()}`);
    }
  }
}

/** GET a path of the server's API as the admin; resolves to the parsed JSON. */
export async function api(server, path) {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}
