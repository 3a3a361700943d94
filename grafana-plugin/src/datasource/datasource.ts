import {
  CoreApp,
  DataSourceInstanceSettings,
  MetricFindValue,
  ScopedVars,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv, TemplateSrv } from '@grafana/runtime';

import { AnnotationsQueryEditor } from './components/AnnotationsQueryEditor';
import { interpolateIds, interpolateSelector, TemplateVariables } from './selector';
import { DEFAULT_QUERY, Metric, MonitorRef, VedetteOptions, VedetteQuery } from './types';
import { VedetteVariableSupport } from './variables';

/**
 * The Vedette data source in the browser: queries go to the Go backend (which also serves
 * alerting); this side interpolates template variables and feeds the editors from the
 * backend's resource calls.
 */
export class DataSource extends DataSourceWithBackend<VedetteQuery, VedetteOptions> {
  constructor(
    instanceSettings: DataSourceInstanceSettings<VedetteOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.variables = new VedetteVariableSupport(this);
    this.annotations = {
      QueryEditor: AnnotationsQueryEditor,
      prepareQuery: (anno) => {
        const target = anno.target;
        return {
          ...DEFAULT_QUERY,
          ...target,
          refId: target?.refId ?? 'Anno',
          queryType: 'annotations',
          annotationSource: target?.annotationSource ?? 'incidents',
        };
      },
    };
  }

  getDefaultQuery(_app: CoreApp): Partial<VedetteQuery> {
    return DEFAULT_QUERY;
  }

  /** How Explore's query history shows a query. */
  getQueryDisplayText(query: VedetteQuery): string {
    const what = query.queryType === 'series' || !query.queryType ? `series ${query.metric ?? 'uptime'}` : query.queryType;
    const ids = query.monitorIds?.length ? ` ids ${query.monitorIds.join(',')}` : '';
    return `${what}${query.selector ? ` {${query.selector}}` : ''}${ids}`;
  }

  filterQuery(query: VedetteQuery): boolean {
    return !query.hide;
  }

  applyTemplateVariables(query: VedetteQuery, scopedVars: ScopedVars): VedetteQuery {
    const vars = this.templateSrv as unknown as TemplateVariables;
    return {
      ...query,
      selector: interpolateSelector(query.selector ?? '', vars, scopedVars),
      monitorIds: interpolateIds(query.monitorIds, vars, scopedVars),
      legendFormat: query.legendFormat ? this.templateSrv.replace(query.legendFormat, scopedVars) : query.legendFormat,
      variableLabel: query.variableLabel ? this.templateSrv.replace(query.variableLabel, scopedVars) : undefined,
    };
  }

  interpolateVariablesInQueries(queries: VedetteQuery[], scopedVars: ScopedVars): VedetteQuery[] {
    return queries.map((q) => this.applyTemplateVariables(q, scopedVars));
  }

  /** A selector with the dashboard's variables expanded, as the editors send it to the backend. */
  interpolateSelector(selector: string): string {
    return interpolateSelector(selector, this.templateSrv as unknown as TemplateVariables);
  }

  /** Names of the dashboard's template variables, offered as values in the editors. */
  variableNames(): string[] {
    return this.templateSrv.getVariables().map((v) => v.name);
  }

  /** Monitors matching a selector (`GET monitors?selector=`). */
  async listMonitors(selector = ''): Promise<MonitorRef[]> {
    const monitors = await this.getResource<MonitorRef[]>('monitors', selector ? { selector } : {});
    return Array.isArray(monitors) ? monitors : [];
  }

  /** Label keys in use (`GET labels`). */
  async labelKeys(): Promise<string[]> {
    const keys = await this.getResource<string[]>('labels');
    return Array.isArray(keys) ? keys : [];
  }

  /** Values a label key takes (`GET labels/<key>/values`). */
  async labelValues(key: string): Promise<string[]> {
    const values = await this.getResource<string[]>(`labels/${encodeURIComponent(key)}/values`);
    return Array.isArray(values) ? values : [];
  }

  /** Metric names a series query accepts (`GET metrics`). */
  async metrics(): Promise<Metric[]> {
    const metrics = await this.getResource<Metric[]>('metrics');
    return Array.isArray(metrics) ? metrics : [];
  }

  /** Template variable values: monitors by selector, label keys, or a label's values. */
  async metricFindQuery(query: VedetteQuery | string, options?: { scopedVars?: ScopedVars }): Promise<MetricFindValue[]> {
    const q: VedetteQuery = typeof query === 'string' ? { refId: 'variable', selector: query } : query;
    const vars = this.templateSrv as unknown as TemplateVariables;
    switch (q.variableKind ?? 'monitors') {
      case 'labelKeys':
        return (await this.labelKeys()).map((k) => ({ text: k, value: k }));
      case 'labelValues': {
        const label = this.templateSrv.replace(q.variableLabel ?? '', options?.scopedVars);
        if (!label) {
          return [];
        }
        return (await this.labelValues(label)).map((v) => ({ text: v, value: v }));
      }
      case 'monitors': {
        const selector = interpolateSelector(q.selector ?? '', vars, options?.scopedVars);
        return (await this.listMonitors(selector)).map((m) => ({ text: m.name || m.id, value: m.id }));
      }
    }
  }
}
