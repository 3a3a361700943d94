import { firstValueFrom } from 'rxjs';
import { DataQueryRequest } from '@grafana/data';

import { VedetteQuery } from '../src/datasource/types';
import { datasource, recorded } from './helpers';

const variables = [
  { name: 'env', options: ['prod', 'stage'], current: ['prod', 'stage'] },
  { name: 'team', options: ['payments', 'search'], current: '$__all' },
  { name: 'monitor', options: ['checkout-api', 'search'], current: ['checkout-api'] },
  { name: 'key', options: ['team'], current: 'team' },
];

describe('DataSource', () => {
  it('interpolates selector and monitor ids in applyTemplateVariables', () => {
    const ds = datasource(variables);
    const q = ds.applyTemplateVariables(
      {
        refId: 'A',
        queryType: 'series',
        metric: 'uptime',
        selector: 'team=$team,env=$env',
        monitorIds: ['$monitor'],
        legendFormat: '{{name}} ($key)',
      },
      {}
    );
    expect(q.legendFormat).toBe('{{name}} (team)');
    expect(q.selector).toBe('env in (prod,stage)');
    expect(q.monitorIds).toEqual(['checkout-api']);
    expect(q.metric).toBe('uptime');
  });

  it('lists monitors, label keys and values for variables', async () => {
    const ds = datasource(variables);
    const monitors = await ds.metricFindQuery({ refId: 'v', variableKind: 'monitors', selector: 'team=payments' });
    expect(monitors.map((m) => m.value)).toEqual(
      recorded.resources.monitors.filter((m) => m.labels.team === 'payments').map((m) => m.id)
    );
    expect(monitors[0].text).toBe(recorded.resources.monitors.find((m) => m.id === monitors[0].value)?.name);
    const keys = await ds.metricFindQuery({ refId: 'v', variableKind: 'labelKeys' });
    expect(keys.map((k) => k.text)).toEqual(['env', 'team']);
    const values = await ds.metricFindQuery({ refId: 'v', variableKind: 'labelValues', variableLabel: '$key' });
    expect(values.map((v) => v.value)).toEqual(recorded.resources.labelValues.team);
    expect(await ds.metricFindQuery({ refId: 'v', variableKind: 'labelValues' })).toEqual([]);
  });

  it('answers variable queries through its custom variable support', async () => {
    const ds = datasource(variables);
    const support = ds.variables as unknown as {
      query: (r: DataQueryRequest<VedetteQuery>) => import('rxjs').Observable<{ data: unknown[] }>;
    };
    const response = await firstValueFrom(
      support.query({ targets: [{ refId: 'v', variableKind: 'labelKeys' }], scopedVars: {} } as unknown as DataQueryRequest<VedetteQuery>)
    );
    expect(response.data).toEqual([
      { text: 'env', value: 'env' },
      { text: 'team', value: 'team' },
    ]);
  });

  it('prepares annotation queries with their source', () => {
    const ds = datasource();
    const prepared = ds.annotations?.prepareQuery?.({
      name: 'Incidents',
      enable: true,
      iconColor: 'red',
      target: { refId: 'Anno', selector: 'team=payments' },
    } as never);
    expect(prepared).toMatchObject({ queryType: 'annotations', annotationSource: 'incidents', selector: 'team=payments' });
  });

  it('describes queries for Explore history', () => {
    const ds = datasource();
    expect(ds.getQueryDisplayText({ refId: 'A', metric: 'latency_p95', selector: 'team=payments' })).toBe(
      'series latency_p95 {team=payments}'
    );
    expect(ds.getQueryDisplayText({ refId: 'A', queryType: 'incidents', monitorIds: ['a', 'b'] })).toBe('incidents ids a,b');
  });

  it('offers the dashboard variables to the editors', () => {
    expect(datasource(variables).variableNames()).toEqual(['env', 'team', 'monitor', 'key']);
  });
});
