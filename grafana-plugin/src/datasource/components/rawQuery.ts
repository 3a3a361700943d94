import { ANNOTATION_SOURCES, METRICS, QUERY_TYPES, VARIABLE_KINDS, VedetteQuery } from '../types';

/** Largest raw query text accepted. */
const MAX_RAW_LEN = 64 * 1024;

type Fields = Omit<VedetteQuery, 'refId'>;

const oneOf = (allowed: Array<{ value: string }>) => (v: unknown) =>
  typeof v === 'string' && allowed.some((a) => a.value === v);
const allowedQueryTypes = [...QUERY_TYPES.map((q) => ({ value: q.value })), { value: 'annotations' }, { value: 'variable' }];

const CHECKS: Record<string, { test: (v: unknown) => boolean; expected: string }> = {
  queryType: { test: oneOf(allowedQueryTypes), expected: allowedQueryTypes.map((t) => t.value).join(', ') },
  metric: { test: oneOf(METRICS), expected: METRICS.map((m) => m.value).join(', ') },
  selector: { test: (v) => typeof v === 'string', expected: 'a label selector string' },
  monitorIds: {
    test: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
    expected: 'an array of monitor id strings',
  },
  legendFormat: { test: (v) => typeof v === 'string', expected: 'a string such as "{{name}}"' },
  sloTarget: {
    test: (v) => typeof v === 'number' && v > 0 && v < 100,
    expected: 'a percentage between 0 and 100, e.g. 99.9',
  },
  sloWindow: {
    test: (v) => typeof v === 'string' && /^[1-9]\d*[mhd]$/.test(v),
    expected: 'a whole number of minutes, hours or days, such as "30d"',
  },
  sloBurnWindow: {
    test: (v) => typeof v === 'string' && /^[1-9]\d*[mhd]$/.test(v),
    expected: 'a whole number of minutes, hours or days, such as "1h"',
  },
  annotationSource: { test: oneOf(ANNOTATION_SOURCES), expected: ANNOTATION_SOURCES.map((a) => a.value).join(', ') },
  variableKind: { test: oneOf(VARIABLE_KINDS), expected: VARIABLE_KINDS.map((k) => k.value).join(', ') },
  variableLabel: { test: (v) => typeof v === 'string', expected: 'a label key' },
  limit: {
    test: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 10000,
    expected: 'an integer from 1 to 10000',
  },
};

/** Parses the raw mode's JSON into query fields, or names the first field that is wrong and what it expects. */
export function parseRawQuery(text: string): { query: Fields } | { error: string } {
  if (text.length > MAX_RAW_LEN) {
    return { error: `query JSON: at most ${MAX_RAW_LEN} characters` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `query JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'query JSON: expected an object' };
  }
  for (const [field, v] of Object.entries(value)) {
    const check = CHECKS[field];
    if (!check) {
      return { error: `${field}: unknown field (expected one of ${Object.keys(CHECKS).join(', ')})` };
    }
    if (!check.test(v)) {
      return { error: `${field}: expected ${check.expected}` };
    }
  }
  return { query: value as Fields };
}
