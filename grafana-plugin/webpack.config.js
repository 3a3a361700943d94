// Builds each plugin into its own directory (see README "Layout"), or with `--env harness` the
// end-to-end harness page that mounts the panels and the query editor outside Grafana.
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');
const pkg = require('./package.json');

const fs = require('fs');

const PLUGINS = [
  { src: 'src/datasource', out: 'dist', readme: 'README.md', dashboards: true },
  { src: 'src/panels/statustimeline', out: 'dist-panels/vedette-statustimeline-panel', readme: 'src/panels/statustimeline/README.md' },
  { src: 'src/panels/slo', out: 'dist-panels/vedette-slo-panel', readme: 'src/panels/slo/README.md' },
];

// Modules Grafana provides to plugins at run time (SystemJS/AMD), never bundled.
const GRAFANA_EXTERNALS = [
  'react',
  'react-dom',
  'rxjs',
  'lodash',
  'moment',
  '@emotion/css',
  '@emotion/react',
  '@grafana/data',
  '@grafana/ui',
  '@grafana/runtime',
  'd3',
];

const swc = {
  test: /\.[tj]sx?$/,
  exclude: /node_modules/,
  use: {
    loader: 'swc-loader',
    options: {
      jsc: {
        parser: { syntax: 'typescript', tsx: true },
        transform: { react: { runtime: 'classic' } },
        target: 'es2018',
      },
    },
  },
};

// Bundled dashboards (dashboards/*.json) the data source lists on its Dashboards tab.
function dashboardIncludes() {
  const dir = path.join(__dirname, 'dashboards');
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const title = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).title;
      if (typeof title !== 'string' || title === '') {
        throw new Error(`dashboards/${f}: expected a "title" string`);
      }
      return { type: 'dashboard', name: title, path: `dashboards/${f}` };
    });
}

// plugin.json with its version and date filled in, and for the data source its dashboards.
function pluginJson(plugin) {
  return (content) => {
    const today = new Date().toISOString().slice(0, 10);
    const json = JSON.parse(content.toString().replace('%VERSION%', pkg.version).replace('%TODAY%', today));
    const includes = plugin.dashboards ? dashboardIncludes() : [];
    if (includes.length) {
      json.includes = [...(json.includes ?? []), ...includes];
    }
    return JSON.stringify(json, null, 2) + '\n';
  };
}

// The READMEs point at the screenshots in the repository; inside a plugin they are img/screenshots/.
function catalogReadme(content) {
  return content.toString().replace(/(\.\.\/)+docs\/img\/grafana\//g, 'img/screenshots/');
}

function pluginConfig(plugin) {
  return {
    name: plugin.src,
    context: __dirname,
    entry: { module: `./${plugin.src}/module.ts` },
    devtool: 'source-map',
    output: {
      path: path.resolve(__dirname, plugin.out),
      filename: '[name].js',
      library: { type: 'amd' },
      publicPath: '/',
      clean: { keep: /^(gpx_|MANIFEST)/ },
    },
    externals: GRAFANA_EXTERNALS,
    resolve: { extensions: ['.ts', '.tsx', '.js'] },
    module: { rules: [swc] },
    performance: { hints: false },
    plugins: [
      new CopyWebpackPlugin({
        patterns: [
          { from: `${plugin.src}/plugin.json`, to: '.', transform: pluginJson(plugin) },
          { from: `${plugin.src}/img/*.svg`, to: 'img/[name][ext]' },
          { from: plugin.readme, to: 'README.md', transform: catalogReadme },
          ...(plugin.dashboards ? [{ from: 'dashboards/*.json', to: 'dashboards/[name][ext]', noErrorOnMissing: true }] : []),
          { from: 'CHANGELOG.md', to: '.', noErrorOnMissing: true },
          { from: 'LICENSE', to: '.', noErrorOnMissing: true },
          { from: '../docs/img/grafana/*.png', to: 'img/screenshots/[name][ext]', noErrorOnMissing: true },
        ],
      }),
    ],
  };
}

function harnessConfig() {
  return {
    name: 'harness',
    context: __dirname,
    mode: 'production',
    entry: { harness: './e2e/harness/index.tsx' },
    devtool: false,
    output: { path: path.resolve(__dirname, 'e2e/.build'), filename: '[name].js', clean: true },
    resolve: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs'] },
    module: {
      rules: [
        swc,
        { test: /\.css$/, use: ['style-loader', 'css-loader'] },
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
      ],
    },
    optimization: { minimize: false },
    performance: { hints: false },
    plugins: [new CopyWebpackPlugin({ patterns: [{ from: 'e2e/harness/index.html', to: '.' }] })],
  };
}

module.exports = (env = {}) => (env.harness ? harnessConfig() : PLUGINS.map(pluginConfig));
