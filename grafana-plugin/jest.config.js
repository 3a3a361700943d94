// Unit tests of the editors and panels in jsdom (see tests/).
const fs = require('fs');
const path = require('path');

// Packages published as ES modules only (`"type": "module"`) are compiled for jest; the rest
// of node_modules is loaded as is.
function esModulePackages() {
  const root = path.join(__dirname, 'node_modules');
  const names = fs.readdirSync(root).flatMap((d) =>
    d.startsWith('@') ? fs.readdirSync(path.join(root, d)).map((s) => `${d}/${s}`) : [d]
  );
  return names.filter((name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(root, name, 'package.json'), 'utf8')).type === 'module';
    } catch {
      return false;
    }
  });
}
const esModules = esModulePackages().map((n) => n.replace(/[.+]/g, '\\$&'));

module.exports = {
  testEnvironment: 'jsdom',
  testTimeout: 30000,
  roots: ['<rootDir>/tests'],
  setupFiles: ['<rootDir>/tests/polyfills.js'],
  setupFilesAfterEnv: ['<rootDir>/tests/setup.ts'],
  transform: {
    '^.+\\.(t|j|mj|cj)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'classic' } } } },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!(${esModules.join('|')})/)`],
  moduleNameMapper: { '\\.(css|scss|sass)$': 'identity-obj-proxy' },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'json'],
};
