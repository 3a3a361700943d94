// ESLint (flat config) for the dashboard's own script and the browser tests. Run by lint.mjs
// from the repository root, which scripts/test-web calls.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    // The dashboard script: a classic browser script using the vendored htmx and uPlot.
    files: ["crates/server/assets/app.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser, htmx: "readonly", uPlot: "readonly" },
    },
  },
  {
    // The harness and specs: ES modules on Node, with page.evaluate bodies that run in the page.
    files: ["web-tests/**/*.mjs"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.node, window: "readonly", document: "readonly" },
    },
  },
];
