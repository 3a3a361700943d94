// The esbuild options both front ends' build.mjs bundle with: one self-contained CommonJS file (the
// shared client from js/src inside) that the runner's node (20 or later) loads with no node_modules
// beside it. Not minified, so the committed GitHub bundle stays reviewable.
export const nodeBundle = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  legalComments: "none",
  logLevel: "warning",
};
