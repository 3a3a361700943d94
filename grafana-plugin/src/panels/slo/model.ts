import { DataFrame, Field } from '@grafana/data';

import { fieldByName, monitorKey, timeField, toMillis } from '../../shared/frames';

/** One monitor's SLO figures: percentages for uptime and target, ratios for the budget, and the budget spent over time. */
export interface Slo {
  id: string;
  name: string;
  /** Uptime over the window, percent. */
  uptime: number;
  /** Target, percent. */
  target: number;
  /** Error budget left, ratio: 1 = untouched, 0 = spent, below 0 = overspent. */
  budgetRemaining: number;
  /** Rate of spending: 1 spends exactly the budget over the window. */
  burnRate: number;
  /** Budget spent (ratio) over time. */
  spent: Array<{ t: number; v: number }>;
}

function last(field: Field | undefined): number {
  if (!field) {
    return NaN;
  }
  for (let i = field.values.length - 1; i >= 0; i--) {
    const v = field.values[i];
    if (typeof v === 'number' && !Number.isNaN(v)) {
      return v;
    }
  }
  return NaN;
}

/** A value as a percentage: `percentunit` fields and bare ratios (≤ 1) are scaled by 100. */
function asPercent(field: Field | undefined): number {
  const v = last(field);
  if (field?.config?.unit === 'percent') {
    return v;
  }
  return field?.config?.unit === 'percentunit' || v <= 1 ? v * 100 : v;
}

/** A value as a ratio: `percent` fields are scaled by 1/100. */
function asRatio(field: Field | undefined, v: number): number {
  return field?.config?.unit === 'percent' ? v / 100 : v;
}

/** Groups SLO frames by monitor (a monitor's figures and its series may come in one frame or several). */
export function buildSlos(frames: DataFrame[]): Slo[] {
  const byId = new Map<string, Slo>();
  frames.forEach((frame, index) => {
    const key = monitorKey(frame, index);
    const slo = byId.get(key.id) ?? {
      id: key.id,
      name: key.name,
      uptime: NaN,
      target: NaN,
      budgetRemaining: NaN,
      burnRate: NaN,
      spent: [],
    };
    const uptime = fieldByName(frame, 'uptime');
    const target = fieldByName(frame, 'target', 'slo_target');
    const remaining = fieldByName(frame, 'budget_remaining', 'error_budget_remaining');
    const burn = fieldByName(frame, 'burn_rate');
    const spent = fieldByName(frame, 'budget_spent', 'error_budget_spent');
    if (uptime) {
      slo.uptime = asPercent(uptime);
    }
    if (target) {
      slo.target = asPercent(target);
    }
    if (remaining) {
      slo.budgetRemaining = asRatio(remaining, last(remaining));
    }
    if (burn) {
      slo.burnRate = last(burn);
    }
    const time = timeField(frame);
    if (spent && time) {
      slo.spent = spent.values
        .map((v, i) => ({ t: toMillis(time.values[i]), v: asRatio(spent, Number(v)) }))
        .filter((p) => !Number.isNaN(p.t) && !Number.isNaN(p.v));
    }
    byId.set(key.id, slo);
  });
  return Array.from(byId.values()).filter(
    (s) => !Number.isNaN(s.uptime) || !Number.isNaN(s.budgetRemaining) || s.spent.length > 0
  );
}
