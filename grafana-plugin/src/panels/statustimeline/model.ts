import { DataFrame, FieldType } from '@grafana/data';

import { fieldByName, monitorKey, normalise, timeField, toMillis } from '../../shared/frames';

/** A bucket's state, as drawn. */
export enum State {
  NoData = 0,
  Up = 1,
  Degraded = 2,
  Down = 3,
  Paused = 4,
}

/** An incident on a row: start, end (NaN while open) and its cause. */
export interface Incident {
  start: number;
  end: number;
  cause: string;
}

/** One monitor's row: bucket start times, their states and uptime ratios, incidents and overall uptime. */
export interface Row {
  id: string;
  name: string;
  labels: Record<string, string>;
  times: Float64Array;
  states: Uint8Array;
  values: Float64Array;
  /** Mean uptime ratio over buckets with data, NaN when none has. */
  uptime: number;
  incidents: Incident[];
}

/** Thresholds turning an uptime ratio into a state. */
export interface Thresholds {
  /** A bucket at or above this ratio is up. */
  up: number;
  /** A bucket below this ratio is down; in between it is degraded. */
  down: number;
}

/** What the panel draws from the query results. */
export interface Timeline {
  rows: Row[];
  /** Frames that were neither series nor incidents, named for the error message. */
  ignored: string[];
}

const STATE_NAMES: Record<string, State> = {
  up: State.Up,
  ok: State.Up,
  degraded: State.Degraded,
  down: State.Down,
  failing: State.Down,
  paused: State.Paused,
  maintenance: State.Paused,
  pending: State.NoData,
};

/** The state of one bucket from its value: a ratio (0..1) or a state name. */
export function stateOf(value: unknown, t: Thresholds): State {
  if (typeof value === 'string') {
    return STATE_NAMES[value.toLowerCase()] ?? State.NoData;
  }
  if (typeof value !== 'number' || Number.isNaN(value)) {
    return State.NoData;
  }
  if (value >= t.up) {
    return State.Up;
  }
  return value < t.down ? State.Down : State.Degraded;
}

function isIncidentFrame(frame: DataFrame): boolean {
  const names = frame.fields.map((f) => normalise(f.name));
  const hasStart = names.some((n) => n === 'openedat' || n === 'startedat' || n === 'start');
  return hasStart && names.some((n) => n === 'monitorid' || n === 'monitor');
}

function incidentsByMonitor(frames: DataFrame[]): Map<string, Incident[]> {
  const out = new Map<string, Incident[]>();
  for (const frame of frames) {
    const monitor = fieldByName(frame, 'monitor_id', 'monitor');
    const start = fieldByName(frame, 'opened_at', 'started_at', 'start');
    const end = fieldByName(frame, 'resolved_at', 'ended_at', 'end');
    const cause = fieldByName(frame, 'cause', 'message');
    if (!monitor || !start) {
      continue;
    }
    for (let i = 0; i < frame.length; i++) {
      const id = String(monitor.values[i]);
      const list = out.get(id) ?? [];
      list.push({
        start: toMillis(start.values[i]),
        end: end ? toMillis(end.values[i]) : NaN,
        cause: cause ? String(cause.values[i] ?? '') : '',
      });
      out.set(id, list);
    }
  }
  return out;
}

interface Columns {
  times: number[];
  values: unknown[];
}

function toRow(key: { id: string; name: string; labels: Record<string, string> }, c: Columns, t: Thresholds, incidents: Map<string, Incident[]>): Row {
  const n = c.times.length;
  const order = Array.from({ length: n }, (_, i) => i);
  // Series arrive oldest first; only a table in another order pays for a sort.
  if (c.times.some((t, i) => i > 0 && t < c.times[i - 1])) {
    order.sort((a, b) => c.times[a] - c.times[b]);
  }
  const times = new Float64Array(n);
  const states = new Uint8Array(n);
  const values = new Float64Array(n);
  let sum = 0;
  let counted = 0;
  order.forEach((from, i) => {
    const v = c.values[from];
    times[i] = c.times[from];
    states[i] = stateOf(v, t);
    values[i] = typeof v === 'number' ? v : NaN;
    if (typeof v === 'number' && !Number.isNaN(v)) {
      sum += v;
      counted++;
    } else if (states[i] === State.Up || states[i] === State.Down || states[i] === State.Degraded) {
      sum += states[i] === State.Up ? 1 : 0;
      counted++;
    }
  });
  return { ...key, times, states, values, uptime: counted ? sum / counted : NaN, incidents: incidents.get(key.id) ?? [] };
}

/**
 * Turns query results into timeline rows: series frames (one per monitor, time and value),
 * tables with a monitor id column (a State query: each monitor's state since it began), and
 * incident tables, whose incidents are marked on their monitors' rows.
 */
export function buildTimeline(frames: DataFrame[], thresholds: Thresholds): Timeline {
  const incidentFrames = frames.filter(isIncidentFrame);
  const incidents = incidentsByMonitor(incidentFrames);
  const rows: Row[] = [];
  const ignored: string[] = [];
  frames.forEach((frame, index) => {
    if (incidentFrames.includes(frame)) {
      return;
    }
    const time = timeField(frame);
    const value =
      fieldByName(frame, 'value', 'state', 'uptime') ??
      frame.fields.find((f) => f !== time && (f.type === FieldType.number || f.type === FieldType.string));
    if (!time || !value) {
      ignored.push(frame.name ?? frame.refId ?? `frame ${index + 1}`);
      return;
    }
    const idField = fieldByName(frame, 'monitor_id', 'id');
    if (idField && idField !== value) {
      const nameField = fieldByName(frame, 'name', 'monitor_name');
      const groups = new Map<string, Columns & { name: string }>();
      for (let i = 0; i < frame.length; i++) {
        const id = String(idField.values[i]);
        const g = groups.get(id) ?? { name: nameField ? String(nameField.values[i]) : id, times: [], values: [] };
        g.times.push(toMillis(time.values[i]));
        g.values.push(value.values[i]);
        groups.set(id, g);
      }
      groups.forEach((g, id) => rows.push(toRow({ id, name: g.name, labels: {} }, g, thresholds, incidents)));
      return;
    }
    const columns = { times: time.values.map(toMillis), values: [...value.values] };
    rows.push(toRow(monitorKey(frame, index), columns, thresholds, incidents));
  });
  return { rows, ignored };
}

/** Index of the bucket holding time `t` (the last bucket starting at or before it), -1 before the first. */
export function bucketAt(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * Typical bucket width of a row (median gap), used for the last bucket's end; a row of one point
 * (a state since some time) lasts to the end of the range.
 */
export function bucketWidth(times: Float64Array): number {
  if (times.length < 2) {
    return Infinity;
  }
  const gaps: number[] = [];
  const step = Math.max(1, Math.floor(times.length / 50));
  for (let i = 1; i < times.length; i += step) {
    gaps.push(times[i] - times[i - 1]);
  }
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1];
}
