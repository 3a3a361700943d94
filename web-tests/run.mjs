// Runs every spec in specs/ (in name order) against a real `vedette serve --demo` on a free
// 127.0.0.1 port, in Debian's chromium driven by playwright-core. A spec is one file that
// exports `name` and a default async function taking the context below; adding a test is
// adding a file. Prints one line per spec and "web: N passed, M failed"; exits 1 on a failure.
//
// `node run.mjs 03 live` runs only the specs whose file names contain one of the words.
// Environment: VEDETTE_BIN (default ../target/debug/vedette), CHROMIUM (default
// /usr/bin/chromium), SCREENSHOTS (directory for screenshots, default results/).
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { signIn, startServer } from "./lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(process.env.VEDETTE_BIN || join(here, "..", "target", "debug", "vedette"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const shots = resolve(process.env.SCREENSHOTS || join(here, "results"));
const axeSource = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");

function fail(message) {
  console.error(`web-tests: ${message}`);
  process.exit(1);
}
if (!existsSync(bin)) fail(`the vedette binary is missing at ${bin} (cargo build -p vedette-cli, or set VEDETTE_BIN)`);
if (!existsSync(chromiumPath)) fail(`chromium is missing at ${chromiumPath} (apt-get install chromium, or set CHROMIUM)`);

let server;
try {
  server = await startServer(bin, ["--demo"]);
} catch (e) {
  fail(e.message);
}
const { base, token } = server;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

// What every spec gets.
function context(errors, allowed) {
  return {
    base,
    token,
    // Lets console errors matching `pattern` pass (an answer the spec provokes on purpose).
    allowConsole(pattern) {
      allowed.push(pattern);
    },
    // A new page in a new browser context (own cookies) of `width` × `height`; console
    // errors and uncaught exceptions are collected and fail the spec.
    async newPage({ width = 1280, height = 900, colorScheme = "light", javaScriptEnabled = true } = {}) {
      const ctx = await browser.newContext({ viewport: { width, height }, colorScheme, javaScriptEnabled });
      const page = await ctx.newPage();
      page.on("console", (m) => {
        if (m.type() === "error" && !allowed.some((p) => p.test(m.text()))) errors.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
      return page;
    },
    // Signs `page` in with `secret` (the admin token by default) and lands on the overview.
    async signIn(page, secret = token) {
      await signIn(page, base, secret);
    },
    // axe-core on the page as it is: no serious or critical violation.
    async checkA11y(page, label) {
      await page.evaluate(axeSource);
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
      const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      if (bad.length) {
        const lines = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
        throw new Error(`axe on ${label}:\n  ${lines.join("\n  ")}`);
      }
    },
    // Saves a screenshot as <name>.png (the whole page with `fullPage`).
    async screenshot(page, name, { fullPage = false } = {}) {
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
    },
    // Prints a measured figure (not an assertion).
    figure(text) {
      console.log(`  figure: ${text}`);
    },
  };
}

const only = process.argv.slice(2);
const specs = readdirSync(join(here, "specs"))
  .filter((f) => f.endsWith(".mjs") && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();
let passed = 0;
let failed = 0;
for (const file of specs) {
  const spec = await import(pathToFileURL(join(here, "specs", file)).href);
  const errors = [];
  const allowed = [];
  const started = Date.now();
  try {
    await spec.default(context(errors, allowed));
    if (errors.length) throw new Error(`browser errors:\n  ${errors.join("\n  ")}`);
    passed++;
    console.log(`ok   ${file}: ${spec.name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${file}: ${spec.name}\n  ${String(e && e.stack || e).split("\n").join("\n  ")}`);
  }
}
await browser.close();
server.stop();
console.log(`web: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
