// The end-to-end harness page: mounts the panels and the query editor outside Grafana, fed with
// the frames recorded from a real `vedette serve` (tests/fixtures/vedette.json), and the
// 500-monitor bench. e2e/run.mjs drives it in Chromium; `?view=` picks what is shown.
import React from 'react';
import * as ReactDOM from 'react-dom';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as rxjs from 'rxjs';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import { createTheme, DataFrame, DataSourceInstanceSettings, DataSourcePlugin, PanelPlugin, PanelProps, TimeRange } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';
import { ThemeContext } from '@grafana/ui';

import { QueryEditor } from '../../src/datasource/components/QueryEditor';
import { DataSource } from '../../src/datasource/datasource';
import { VedetteOptions, VedetteQuery } from '../../src/datasource/types';
import { SloPanel } from '../../src/panels/slo/SloPanel';
import { DEFAULT_SLO_OPTIONS } from '../../src/panels/slo/types';
import { StatusTimelinePanel } from '../../src/panels/statustimeline/StatusTimelinePanel';
import { DEFAULT_OPTIONS } from '../../src/panels/statustimeline/types';
import { frames, panelProps as recordedPanelProps, recorded, recordedRange, timeRange } from '../../tests/fixtures/recorded';
import { syntheticTimeline } from './data';

/** What the page reports to the test driver. */
interface HarnessResult {
  ready: boolean;
  view: string;
  renderMs?: number;
  rows?: number;
  buckets?: number;
  error?: string;
}

declare global {
  interface Window {
    harness: HarnessResult;
  }
}

const params = new URLSearchParams(window.location.search);
const view = params.get('view') ?? 'statustimeline';
const theme = createTheme({ colors: { mode: 'dark' } });
window.harness = { ready: false, view };
document.body.style.background = theme.colors.background.canvas;
document.body.style.color = theme.colors.text.primary;

/** Props of a width×height panel titled by the view, showing `series` over `range`. */
function panelProps<T>(options: T, series: DataFrame[], range: TimeRange, width: number, height: number): PanelProps<T> {
  return recordedPanelProps(options, series, { timeRange: range, width, height, title: view });
}

/** Grafana's template service as far as the editor needs it: one `env` variable. */
const templateSrv = {
  getVariables: () => [{ name: 'env', current: { value: ['prod'] } }],
  replace: (s?: string) => s ?? '',
  containsTemplate: () => false,
  updateTimeRange: () => {},
} as unknown as TemplateSrv;

/** The data source with its resource calls answered from the recorded server answers. */
function datasource(): DataSource {
  const ds = new DataSource(
    {
      id: 1,
      uid: 'vedette',
      type: 'vedette-uptime-datasource',
      name: 'Vedette',
      jsonData: {},
      meta: { id: 'vedette-uptime-datasource' },
      access: 'proxy',
      readOnly: false,
    } as unknown as DataSourceInstanceSettings<VedetteOptions>,
    templateSrv
  );
  const r = recorded.resources;
  ds.getResource = (async (path: string) => {
    if (path === 'monitors') {
      return r.monitors;
    }
    if (path === 'labels') {
      return r.labels;
    }
    const m = /^labels\/([^/]+)\/values$/.exec(path);
    return m ? (r.labelValues[decodeURIComponent(m[1])] ?? []) : r.metrics;
  }) as DataSource['getResource'];
  return ds;
}

function Frame({ children, width, height }: { children: React.ReactNode; width: number; height: number }) {
  return (
    <ThemeContext.Provider value={theme}>
      <div
        id="panel"
        style={{ width, height, margin: 16, padding: 8, background: theme.colors.background.primary, border: `1px solid ${theme.colors.border.weak}` }}
      >
        {children}
      </div>
    </ThemeContext.Provider>
  );
}

/** The modules Grafana hands to a plugin's AMD `define`, here from the harness bundle. */
const GRAFANA_MODULES: Record<string, unknown> = {
  react: React,
  'react-dom': ReactDOM,
  rxjs,
  '@grafana/data': grafanaData,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/ui': grafanaUi,
};

/** Loads a built plugin's module.js the way Grafana does: an AMD module given Grafana's modules. */
function loadBuiltPlugin(url: string): Promise<{ plugin: unknown }> {
  return new Promise((resolve, reject) => {
    const w = window as unknown as { define?: unknown };
    w.define = (deps: string[], factory: (...args: unknown[]) => { plugin: unknown }) => {
      const missing = deps.filter((d) => !(d in GRAFANA_MODULES));
      if (missing.length) {
        reject(new Error(`${url} needs modules Grafana does not provide: ${missing.join(', ')}`));
        return;
      }
      resolve(factory(...deps.map((d) => GRAFANA_MODULES[d])));
    };
    (w.define as { amd?: object }).amd = {};
    const script = document.createElement('script');
    script.src = url;
    script.onerror = () => reject(new Error(`${url}: not found (run npm run build first)`));
    document.head.appendChild(script);
  });
}

/** Mounts the panels from the built dist/ and dist-panels/ modules and checks the data source module. */
async function mountBuilt(root: ReturnType<typeof createRoot>) {
  const ds = await loadBuiltPlugin('/plugins/dist/module.js');
  if (!(ds.plugin instanceof DataSourcePlugin) || !ds.plugin.components.QueryEditor || !ds.plugin.components.ConfigEditor) {
    throw new Error('dist/module.js: expected a DataSourcePlugin with a query and a config editor');
  }
  const timeline = await loadBuiltPlugin('/plugins/dist-panels/vedette-statustimeline-panel/module.js');
  const slo = await loadBuiltPlugin('/plugins/dist-panels/vedette-slo-panel/module.js');
  const panels = [timeline.plugin, slo.plugin];
  if (!panels.every((p) => p instanceof PanelPlugin && p.panel)) {
    throw new Error('dist-panels: expected PanelPlugins with a panel component');
  }
  const [Timeline, Slo] = panels.map((p) => (p as PanelPlugin).panel!) as Array<React.ComponentType<PanelProps<unknown>>>;
  const r = recordedRange();
  flushSync(() =>
    root.render(
      <Frame width={900} height={520}>
        <div style={{ height: 200 }}>
          <Timeline {...panelProps<unknown>(DEFAULT_OPTIONS, frames([...recorded.series, ...recorded.incidents]), r, 900, 200)} />
        </div>
        <Slo {...panelProps<unknown>(DEFAULT_SLO_OPTIONS, frames(recorded.slo), r, 900, 300)} />
      </Frame>
    )
  );
}

function mount() {
  const root = createRoot(document.getElementById('root')!);
  const range = recordedRange();
  switch (view) {
    case 'statustimeline': {
      const series = frames([...recorded.series, ...recorded.incidents]);
      flushSync(() =>
        root.render(
          <Frame width={900} height={200}>
            <StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, series, range, 900, 200)} />
          </Frame>
        )
      );
      break;
    }
    case 'slo': {
      flushSync(() =>
        root.render(
          <Frame width={900} height={320}>
            <SloPanel {...panelProps(DEFAULT_SLO_OPTIONS, frames(recorded.slo), range, 900, 320)} />
          </Frame>
        )
      );
      break;
    }
    case 'editor': {
      const query: VedetteQuery = {
        refId: 'A',
        queryType: 'series',
        metric: 'latency_p95',
        selector: 'team=payments,env in (prod,$env)',
        monitorIds: [],
        legendFormat: '{{name}} {{label.env}}',
      };
      const Editor = () => {
        const [q, setQ] = React.useState(query);
        return <QueryEditor datasource={datasource()} query={q} onChange={setQ} onRunQuery={() => {}} />;
      };
      flushSync(() =>
        root.render(
          <Frame width={900} height={330}>
            <Editor />
          </Frame>
        )
      );
      break;
    }
    case 'bench': {
      const rows = Number(params.get('rows') ?? 500);
      const days = Number(params.get('days') ?? 30);
      const data = syntheticTimeline(rows, days, Date.UTC(2026, 10, 28));
      const width = 1200;
      const height = 600;
      const start = performance.now();
      flushSync(() =>
        root.render(
          <Frame width={width} height={height}>
            <StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, data.frames, timeRange(data.from, data.to), width, height)} />
          </Frame>
        )
      );
      // Reading a pixel back makes Chromium finish the drawing before the clock stops.
      const canvas = document.querySelector('canvas');
      canvas?.getContext('2d')?.getImageData(0, 0, 1, 1);
      window.harness.renderMs = performance.now() - start;
      window.harness.rows = rows;
      window.harness.buckets = days * 24;
      break;
    }
    case 'built':
      return mountBuilt(root);
    default:
      throw new Error(`view: expected statustimeline, slo, editor, bench or built, got ${view}`);
  }
  return undefined;
}

Promise.resolve()
  .then(mount)
  .then(
    () => {
      window.harness.ready = true;
    },
    (e: Error) => {
      window.harness.error = e.stack ?? String(e);
    }
  );
