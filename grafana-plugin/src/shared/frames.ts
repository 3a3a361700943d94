import { DataFrame, Field, FieldType } from '@grafana/data';

/** A field name reduced for matching: lower case, no `_`, `-` or spaces (`budget_remaining` = `budgetRemaining`). */
export function normalise(name: string): string {
  return name.toLowerCase().replace(/[_\-\s]/g, '');
}

/** The first field whose normalised name is one of `names`. */
export function fieldByName(frame: DataFrame, ...names: string[]): Field | undefined {
  const wanted = names.map(normalise);
  return frame.fields.find((f) => wanted.includes(normalise(f.name)));
}

/** The frame's time field (by type, else by name). */
export function timeField(frame: DataFrame): Field | undefined {
  return frame.fields.find((f) => f.type === FieldType.time) ?? fieldByName(frame, 'time');
}

/** A timestamp in milliseconds from a number, a date or an RFC 3339 string; NaN when it is none. */
export function toMillis(v: unknown): number {
  if (typeof v === 'number') {
    return v;
  }
  if (v instanceof Date) {
    return v.getTime();
  }
  if (typeof v === 'string' && v !== '') {
    return Date.parse(v);
  }
  return NaN;
}

/** The monitor a frame belongs to: its `id` label, else its name, else its position. */
export function monitorKey(frame: DataFrame, index: number): { id: string; name: string; labels: Record<string, string> } {
  const labels: Record<string, string> = {};
  for (const f of frame.fields) {
    Object.assign(labels, f.labels ?? {});
  }
  const value = frame.fields.find((f) => f.type === FieldType.number || f.type === FieldType.string);
  const display = value?.config?.displayNameFromDS ?? value?.config?.displayName;
  const id = labels.id ?? frame.name ?? `${frame.refId ?? 'frame'}-${index}`;
  return { id, name: labels.name ?? display ?? frame.name ?? id, labels };
}
