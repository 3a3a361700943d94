import { PanelPlugin } from '@grafana/data';

import { StatusTimelinePanel } from './StatusTimelinePanel';
import { DEFAULT_OPTIONS, StatusTimelineOptions } from './types';

/** Entry point Grafana loads for the status timeline panel. */
export const plugin = new PanelPlugin<StatusTimelineOptions>(StatusTimelinePanel).setPanelOptions((builder) =>
  builder
    .addSliderInput({
      path: 'rowHeight',
      name: 'Row height',
      defaultValue: DEFAULT_OPTIONS.rowHeight,
      settings: { min: 8, max: 48, step: 1 },
    })
    .addNumberInput({ path: 'nameWidth', name: 'Name column width', defaultValue: DEFAULT_OPTIONS.nameWidth })
    .addBooleanSwitch({ path: 'showUptime', name: 'Uptime at row end', defaultValue: DEFAULT_OPTIONS.showUptime })
    .addBooleanSwitch({
      path: 'showIncidents',
      name: 'Incident markers',
      description: 'Needs an Incidents query next to the Series query',
      defaultValue: DEFAULT_OPTIONS.showIncidents,
    })
    .addNumberInput({
      path: 'upThreshold',
      name: 'Up at or above',
      description: 'Uptime ratio of a bucket (0–1) drawn as up',
      defaultValue: DEFAULT_OPTIONS.upThreshold,
      settings: { min: 0, max: 1, step: 0.001 },
    })
    .addNumberInput({
      path: 'downThreshold',
      name: 'Down below',
      description: 'Uptime ratio of a bucket (0–1) drawn as down; degraded in between',
      defaultValue: DEFAULT_OPTIONS.downThreshold,
      settings: { min: 0, max: 1, step: 0.01 },
    })
    .addRadio({
      path: 'sortBy',
      name: 'Sort rows',
      defaultValue: DEFAULT_OPTIONS.sortBy,
      settings: {
        options: [
          { value: 'name', label: 'Name' },
          { value: 'uptime', label: 'Worst uptime first' },
        ],
      },
    })
);
