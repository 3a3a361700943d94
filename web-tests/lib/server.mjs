// Starting a real `vedette serve` for the browser tests and the browser bench: a free
// 127.0.0.1 port, a temporary data directory, a bootstrap admin token, and a stop that
// removes the directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

/** A port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.on("error", ko);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Waits (at most `seconds`) until `/readyz` answers 200; throws if the server exits first. */
async function waitReady(base, server, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`vedette serve exited with ${server.exitCode}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vedette serve did not become ready within ${seconds} s`);
}

/**
 * Starts `bin serve` with `args` (after --listen and --data-dir) and waits until it is ready.
 * Returns { base, token, stop }.
 */
export async function startServer(bin, args, { readySeconds = 30 } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const token = "vdt_" + randomBytes(32).toString("base64url");
  const dataDir = mkdtempSync(join(tmpdir(), "vedette-web-"));
  const server = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, ...args], {
    env: { ...process.env, VEDETTE_BOOTSTRAP_TOKEN: token, RUST_LOG: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const stop = () => {
    if (server.exitCode === null) server.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  try {
    await waitReady(base, server, readySeconds);
  } catch (e) {
    stop();
    throw e;
  }
  return { base, token, stop };
}

/** Signs `page` in with `token` through the form and lands on the overview. */
export async function signIn(page, base, token) {
  await page.goto(`${base}/`);
  if (!page.url().includes("/login")) throw new Error(`expected the sign-in page, got ${page.url()}`);
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
}
