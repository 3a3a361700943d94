/** Options of the status timeline panel. */
export interface StatusTimelineOptions {
  /** Height of one monitor's row, in pixels. */
  rowHeight: number;
  /** Width of the name column, in pixels. */
  nameWidth: number;
  /** Show the uptime percentage at the end of each row. */
  showUptime: boolean;
  /** Mark incidents (start marker and a line for their duration). */
  showIncidents: boolean;
  /** Uptime ratio at or above which a bucket is up. */
  upThreshold: number;
  /** Uptime ratio below which a bucket is down (degraded in between). */
  downThreshold: number;
  /** Sort rows by name, or worst uptime first. */
  sortBy: 'name' | 'uptime';
}

export const DEFAULT_OPTIONS: StatusTimelineOptions = {
  rowHeight: 18,
  nameWidth: 180,
  showUptime: true,
  showIncidents: true,
  upThreshold: 0.999,
  downThreshold: 0.5,
  sortBy: 'name',
};
