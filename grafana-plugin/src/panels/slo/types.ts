/** Options of the SLO panel. */
export interface SloOptions {
  /** Target used when a frame carries none, percent. */
  defaultTarget: number;
  /** Burn rate at or above which the rate is shown as alarming. */
  burnRateAlert: number;
  /** Show the chart of budget spent over time. */
  showSpent: boolean;
}

export const DEFAULT_SLO_OPTIONS: SloOptions = { defaultTarget: 99.9, burnRateAlert: 1, showSpent: true };
