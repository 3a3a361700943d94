// Browser benchmark of the dashboard at scale: a real `vedette serve` with N monitors (default
// 10,000, paused so nothing is checked) loaded from a --config file, then Chromium opens the
// overview signed in, five times per page, and prints per page the median and worst of: DOM
// interactive, the event stream connected ("live"), load end, and the page weight. The goal
// (issue 12) is interactive in < 1.5 s with 10,000 monitors.
//
// `node bench.mjs [monitors]`. Environment as run.mjs: VEDETTE_BIN (a release build gives the
// figures worth quoting), CHROMIUM.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { signIn, startServer } from "./lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(process.env.VEDETTE_BIN || join(here, "..", "target", "debug", "vedette"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const monitors = Number(process.argv[2] || 10_000);
const loads = 5;
for (const [what, path] of [["vedette binary", bin], ["chromium", chromiumPath]]) {
  if (!existsSync(path)) {
    throw new Error(`bench: the ${what} is missing at ${path}`);
  }
}
if (!Number.isInteger(monitors) || monitors < 1 || monitors > 200_000) {
  throw new Error("bench: the monitor count must be a whole number from 1 to 200000");
}

// The config: paused HTTP monitors of a closed loopback port, ten teams.
const configDir = mkdtempSync(join(tmpdir(), "vedette-web-bench-"));
const docs = [];
for (let n = 0; n < monitors; n++) {
  docs.push(`---\napiVersion: vedette.dev/v1\nkind: Monitor\nmetadata:\n  id: bench-${String(n).padStart(6, "0")}\n  labels: {team: t${n % 10}}\nspec:\n  http:\n    url: http://127.0.0.1:9/?m=${n}\n  interval: 1h\n  paused: true\n`);
}
writeFileSync(join(configDir, "monitors.yaml"), docs.join(""));
process.on("exit", () => rmSync(configDir, { recursive: true, force: true }));

const started = Date.now();
const server = await startServer(bin, ["--config", join(configDir, "monitors.yaml")], { readySeconds: 120 });
const last = `bench-${String(monitors - 1).padStart(6, "0")}`;
for (let i = 0; ; i++) {
  const r = await fetch(`${server.base}/api/v1/monitors/${last}`, { headers: { authorization: `Bearer ${server.token}` } });
  if (r.ok) break;
  if (i >= 1200) throw new Error(`${last} not loaded within 120 s`);
  await new Promise((ok) => setTimeout(ok, 100));
}
console.log(`bench: ${monitors} monitors loaded ${((Date.now() - started) / 1000).toFixed(1)} s after start`);

const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await ctx.newPage();
await signIn(page, server.base, server.token);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pages = Math.ceil(monitors / 50);
for (const [label, path] of [
  ["overview, first page", "/"],
  ["overview, last page", `/?page=${pages}`],
  ["overview, selector", "/?selector=team%3Dt3"],
  ["overview, search", "/?q=bench-0009"],
]) {
  const runs = [];
  for (let i = 0; i < loads; i++) {
    await page.goto(`${server.base}${path}`);
    await page.waitForSelector("#live.on", { timeout: 30_000 });
    const live = await page.evaluate(() => performance.now());
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const bytes = performance.getEntriesByType("resource").reduce((n, r) => n + (r.encodedBodySize || 0), nav.encodedBodySize || 0);
      return { interactive: nav.domInteractive, loaded: nav.loadEventEnd, bytes, rows: document.querySelectorAll("tr[data-id]").length };
    });
    runs.push({ ...t, live });
  }
  const col = (k) => runs.map((r) => r[k]);
  console.log(
    `${label.padEnd(22)} interactive ${median(col("interactive")).toFixed(0)} ms (worst ${Math.max(...col("interactive")).toFixed(0)}), ` +
      `live ${median(col("live")).toFixed(0)} ms, load ${median(col("loaded")).toFixed(0)} ms, ` +
      `${runs[0].rows} rows, ${(runs[0].bytes / 1024).toFixed(1)} KiB`,
  );
}
await browser.close();
server.stop();
