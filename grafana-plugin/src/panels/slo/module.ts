import { PanelPlugin } from '@grafana/data';

import { SloPanel } from './SloPanel';
import { DEFAULT_SLO_OPTIONS, SloOptions } from './types';

/** Entry point Grafana loads for the SLO panel. */
export const plugin = new PanelPlugin<SloOptions>(SloPanel).setPanelOptions((builder) =>
  builder
    .addNumberInput({
      path: 'defaultTarget',
      name: 'Target when the query gives none (%)',
      defaultValue: DEFAULT_SLO_OPTIONS.defaultTarget,
      settings: { min: 0, max: 100, step: 0.01 },
    })
    .addNumberInput({
      path: 'burnRateAlert',
      name: 'Burn rate shown red at or above',
      defaultValue: DEFAULT_SLO_OPTIONS.burnRateAlert,
      settings: { min: 0, step: 0.1 },
    })
    .addBooleanSwitch({ path: 'showSpent', name: 'Budget spent over time', defaultValue: DEFAULT_SLO_OPTIONS.showSpent })
);
