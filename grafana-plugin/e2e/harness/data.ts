import { createDataFrame, DataFrame, FieldType } from '@grafana/data';

/** A small deterministic random sequence, so every run draws the same picture. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

/**
 * Frames shaped like the backend's series answer (one per monitor: time, value with labels) for
 * `rows` monitors over `days` days at a one-hour step, with outages and degraded hours, and an
 * incident table for the outages. Used for the 500 × 30-day bench and its screenshot.
 */
export function syntheticTimeline(rows: number, days: number, end: number): { frames: DataFrame[]; from: number; to: number } {
  const step = 3_600_000;
  const buckets = days * 24;
  const from = end - buckets * step;
  const rnd = random(42);
  const frames: DataFrame[] = [];
  const incidentMonitor: string[] = [];
  const incidentStart: number[] = [];
  const incidentEnd: Array<number | null> = [];
  const teams = ['payments', 'search', 'identity', 'platform', 'data'];
  for (let r = 0; r < rows; r++) {
    const id = `svc-${String(r).padStart(3, '0')}`;
    const times = new Array<number>(buckets);
    const values = new Array<number | null>(buckets);
    let outage = 0;
    for (let b = 0; b < buckets; b++) {
      times[b] = from + b * step;
      if (outage === 0 && rnd() < 0.004) {
        outage = 1 + Math.floor(rnd() * 6);
        incidentMonitor.push(id);
        incidentStart.push(times[b]);
        incidentEnd.push(b + outage < buckets ? times[b] + outage * step : null);
      }
      if (outage > 0) {
        values[b] = rnd() * 0.3;
        outage--;
      } else if (rnd() < 0.01) {
        values[b] = 0.9 + rnd() * 0.09;
      } else {
        values[b] = r % 97 === 13 && b < 30 ? null : 1;
      }
    }
    const labels = { id, name: `${teams[r % teams.length]}-service-${r}`, team: teams[r % teams.length], env: r % 3 ? 'prod' : 'stage' };
    frames.push(
      createDataFrame({
        name: labels.name,
        fields: [
          { name: 'time', type: FieldType.time, values: times },
          { name: 'value', type: FieldType.number, values, labels },
        ],
      })
    );
  }
  frames.push(
    createDataFrame({
      name: 'incidents',
      fields: [
        { name: 'monitor_id', type: FieldType.string, values: incidentMonitor },
        { name: 'opened_at', type: FieldType.time, values: incidentStart },
        { name: 'resolved_at', type: FieldType.time, values: incidentEnd },
        { name: 'cause', type: FieldType.string, values: incidentMonitor.map(() => 'status') },
      ],
    })
  );
  return { frames, from, to: end };
}
