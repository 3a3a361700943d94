import { DataSourceInstanceSettings, PanelProps } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { DataSource } from '../src/datasource/datasource';
import { VedetteOptions } from '../src/datasource/types';
import { panelProps, recorded } from './fixtures/recorded';

export { frames, panelProps, recorded } from './fixtures/recorded';

/** Props of a panel whose query failed with `message`. */
export function failedPanelProps<T>(options: T, message: string): PanelProps<T> {
  const props = panelProps(options, []);
  return { ...props, data: { ...props.data, errors: [{ message }] } };
}

/** A dashboard variable as the template service holds it: its options and current selection. */
export interface Variable {
  name: string;
  options: string[];
  current: string | string[];
}

/**
 * A template service doing what Grafana's does for these tests: `$x`, `${x}` and `[[x]]`
 * references, scoped variables first, `All` standing for every option, a format function
 * receiving the value (a list when multi-valued).
 */
export function templateSrv(variables: Variable[]): TemplateSrv {
  const find = (name: string) => variables.find((v) => v.name === name);
  const valueOf = (name: string, scoped?: Record<string, { value: unknown }>): unknown => {
    if (scoped && scoped[name]) {
      return scoped[name].value;
    }
    const v = find(name);
    if (!v) {
      return undefined;
    }
    const cur = v.current;
    if (cur === '$__all' || (Array.isArray(cur) && cur.includes('$__all'))) {
      return v.options;
    }
    return cur;
  };
  const srv = {
    getVariables: () =>
      variables.map((v) => ({ name: v.name, current: { value: v.current, text: v.current } })),
    replace: (target?: string, scoped?: Record<string, { value: unknown }>, format?: unknown) =>
      (target ?? '').replace(/\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]/g, (whole, a, b, c) => {
        const name = a ?? b ?? c;
        const value = valueOf(name, scoped);
        if (value === undefined) {
          return whole;
        }
        if (typeof format === 'function') {
          return format(value, find(name));
        }
        return Array.isArray(value) ? value.join(',') : String(value);
      }),
    containsTemplate: (target?: string) => /\$\w+|\$\{\w+/.test(target ?? ''),
    updateTimeRange: () => {},
  };
  return srv as unknown as TemplateSrv;
}

/** A data source wired to the recorded resource answers instead of a Grafana backend. */
export function datasource(variables: Variable[] = []): DataSource {
  const settings = {
    id: 1,
    uid: 'vedette-test',
    type: 'vedette-uptime-datasource',
    name: 'Vedette',
    jsonData: { url: 'http://127.0.0.1:8080' },
    meta: { id: 'vedette-uptime-datasource' },
    access: 'proxy',
    readOnly: false,
  } as unknown as DataSourceInstanceSettings<VedetteOptions>;
  const ds = new DataSource(settings, templateSrv(variables));
  const r = recorded.resources;
  jest.spyOn(ds, 'getResource').mockImplementation(async (path: string, params?: unknown) => {
    if (path === 'monitors') {
      const selector = (params as { selector?: string })?.selector ?? '';
      const [key, value] = selector.split('=');
      return r.monitors.filter((m) => !selector || m.labels[key] === value);
    }
    if (path === 'labels') {
      return r.labels;
    }
    if (path === 'metrics') {
      return r.metrics;
    }
    const m = /^labels\/([^/]+)\/values$/.exec(path);
    if (m) {
      return r.labelValues[decodeURIComponent(m[1])] ?? [];
    }
    throw new Error(`unexpected resource ${path}`);
  });
  return ds;
}
