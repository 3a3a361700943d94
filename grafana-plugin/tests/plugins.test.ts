import { DataSourcePlugin, PanelPlugin } from '@grafana/data';

import { plugin as datasource } from '../src/datasource/module';
import dsJson from '../src/datasource/plugin.json';
import { plugin as slo } from '../src/panels/slo/module';
import sloJson from '../src/panels/slo/plugin.json';
import { plugin as timeline } from '../src/panels/statustimeline/module';
import timelineJson from '../src/panels/statustimeline/plugin.json';

describe('plugin entry points and plugin.json', () => {
  it('registers the data source with its editors', () => {
    expect(datasource).toBeInstanceOf(DataSourcePlugin);
    expect(datasource.components.QueryEditor).toBeDefined();
    expect(datasource.components.ConfigEditor).toBeDefined();
  });

  it('declares the data source as the contract fixes it', () => {
    expect(dsJson).toMatchObject({
      type: 'datasource',
      id: 'vedette-uptime-datasource',
      backend: true,
      executable: 'gpx_vedette',
      alerting: true,
      annotations: true,
      metrics: true,
      dependencies: { grafanaDependency: '>=12.0.0' },
    });
  });

  it.each([
    ['vedette-statustimeline-panel', timeline, timelineJson],
    ['vedette-slo-panel', slo, sloJson],
  ])('registers %s with its options', (id, plugin, json) => {
    expect(plugin).toBeInstanceOf(PanelPlugin);
    expect(plugin.panel).toBeDefined();
    expect(typeof plugin.getPanelOptionsSupplier()).toBe('function');
    expect(json).toMatchObject({ type: 'panel', id, dependencies: { grafanaDependency: '>=12.0.0' } });
  });

  it.each([dsJson, timelineJson, sloJson])('gives $id the catalog metadata', (json) => {
    expect(json.id).toMatch(/^vedette-[a-z0-9]+-(datasource|panel)$/);
    expect(json.info.logos.small).toMatch(/^img\/.+\.svg$/);
    expect(json.info.screenshots.length).toBeGreaterThan(0);
    expect(json.info.keywords.length).toBeGreaterThan(2);
    expect(json.info.version).toBe('%VERSION%');
  });
});
