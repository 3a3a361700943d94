// Lints crates/server/assets/app.js and the browser tests with ESLint (eslint.config.mjs),
// printing each problem and "eslint: N files, E errors, W warnings"; exits 1 on any error or
// warning.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const eslint = new ESLint({ cwd: root, overrideConfigFile: join(here, "eslint.config.mjs") });
const results = await eslint.lintFiles([
  "crates/server/assets/app.js",
  "web-tests/run.mjs",
  "web-tests/lint.mjs",
  "web-tests/eslint.config.mjs",
  "web-tests/bench.mjs",
  "web-tests/lib/*.mjs",
  "web-tests/specs/*.mjs",
]);
const formatter = await eslint.loadFormatter("stylish");
const text = await formatter.format(results);
if (text) console.log(text);
const errors = results.reduce((n, r) => n + r.errorCount, 0);
const warnings = results.reduce((n, r) => n + r.warningCount, 0);
console.log(`eslint: ${results.length} files, ${errors} errors, ${warnings} warnings`);
process.exit(errors || warnings ? 1 : 0);
