// The end-to-end harness page: mounts the panels and the query editor outside Grafana, fed with
// the frames recorded from a real `vedette serve` (tests/fixtures/vedette.json), and the
// 500-monitor bench. e2e/run.mjs drives it in Chromium; `?view=` picks what is shown.
import React from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import {
  createTheme,
  DataFrame,
  DataFrameJSON,
  dataFrameFromJSON,
  DataSourceInstanceSettings,
  dateTime,
  EventBusSrv,
  LoadingState,
  PanelProps,
  TimeRange,
} from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';
import { ThemeContext } from '@grafana/ui';

import fixture from '../../tests/fixtures/vedette.json';
import { QueryEditor } from '../../src/datasource/components/QueryEditor';
import { DataSource } from '../../src/datasource/datasource';
import { VedetteOptions, VedetteQuery } from '../../src/datasource/types';
import { SloPanel } from '../../src/panels/slo/SloPanel';
import { DEFAULT_SLO_OPTIONS } from '../../src/panels/slo/types';
import { StatusTimelinePanel } from '../../src/panels/statustimeline/StatusTimelinePanel';
import { DEFAULT_OPTIONS } from '../../src/panels/statustimeline/types';
import { syntheticTimeline } from './data';

interface Recorded {
  range: { from: number; to: number };
  series: DataFrameJSON[];
  incidents: DataFrameJSON[];
  slo: DataFrameJSON[];
  resources: {
    monitors: Array<{ id: string; name: string; labels: Record<string, string> }>;
    labels: string[];
    labelValues: Record<string, string[]>;
    metrics: string[];
  };
}

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

const recorded = fixture as unknown as Recorded;
const params = new URLSearchParams(window.location.search);
const view = params.get('view') ?? 'statustimeline';
const theme = createTheme({ colors: { mode: 'dark' } });
window.harness = { ready: false, view };
document.body.style.background = theme.colors.background.canvas;
document.body.style.color = theme.colors.text.primary;

function range(from: number, to: number): TimeRange {
  return { from: dateTime(from), to: dateTime(to), raw: { from: dateTime(from), to: dateTime(to) } };
}

function panelProps<T>(options: T, series: DataFrame[], timeRange: TimeRange, width: number, height: number): PanelProps<T> {
  return {
    id: 1,
    data: { state: LoadingState.Done, series, timeRange },
    timeRange,
    timeZone: 'utc',
    options,
    fieldConfig: { defaults: {}, overrides: [] },
    transparent: false,
    width,
    height,
    renderCounter: 0,
    title: view,
    eventBus: new EventBusSrv(),
    onOptionsChange: () => {},
    onFieldConfigChange: () => {},
    replaceVariables: (s: string) => s,
    onChangeTimeRange: () => {},
  } as PanelProps<T>;
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

function mount() {
  const root = createRoot(document.getElementById('root')!);
  const fromJson = (list: DataFrameJSON[]) => list.map((f) => dataFrameFromJSON(f));
  const recordedRange = range(recorded.range.from, recorded.range.to);
  switch (view) {
    case 'statustimeline': {
      const series = fromJson([...recorded.series, ...recorded.incidents]);
      flushSync(() =>
        root.render(
          <Frame width={900} height={200}>
            <StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, series, recordedRange, 900, 200)} />
          </Frame>
        )
      );
      break;
    }
    case 'slo': {
      flushSync(() =>
        root.render(
          <Frame width={900} height={320}>
            <SloPanel {...panelProps(DEFAULT_SLO_OPTIONS, fromJson(recorded.slo), recordedRange, 900, 320)} />
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
            <StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, data.frames, range(data.from, data.to), width, height)} />
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
    default:
      throw new Error(`view: expected statustimeline, slo, editor or bench, got ${view}`);
  }
}

try {
  mount();
  window.harness.ready = true;
} catch (e) {
  window.harness.error = (e as Error).stack ?? String(e);
  throw e;
}
