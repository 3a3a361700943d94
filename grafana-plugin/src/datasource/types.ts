import { DataQuery, DataSourceJsonData } from '@grafana/schema';

/** Query types the backend answers; one per Vedette view (see the contract in README "Query model"). */
export type QueryType = 'series' | 'state' | 'incidents' | 'results' | 'slo' | 'annotations' | 'variable';

/** Metrics a `series` query can ask for. */
export type Metric =
  | 'uptime'
  | 'availability'
  | 'latency_p50'
  | 'latency_p90'
  | 'latency_p95'
  | 'latency_p99'
  | 'latency_avg'
  | 'checks'
  | 'failures';

/** Where annotation events come from. */
export type AnnotationSource = 'incidents' | 'maintenance' | 'deployments';

/** What a template variable query lists. */
export type VariableKind = 'monitors' | 'labelKeys' | 'labelValues';

/** The JSON each query carries; the Go backend decodes exactly these fields. */
export interface VedetteQuery extends DataQuery {
  queryType?: QueryType;
  metric?: Metric;
  selector?: string;
  monitorIds?: string[];
  legendFormat?: string;
  sloTarget?: number;
  sloWindow?: string;
  /** The recent span the burn rate is measured over, within sloWindow (default 1h). */
  sloBurnWindow?: string;
  annotationSource?: AnnotationSource;
  variableKind?: VariableKind;
  variableLabel?: string;
  limit?: number;
}

/** Non-secret settings of a data source instance. */
export interface VedetteOptions extends DataSourceJsonData {
  /** Base URL of the Vedette server, e.g. http://vedette:8080. */
  url?: string;
}

/** Secret settings, kept by Grafana in `secureJsonData` and never sent back to the browser. */
export interface VedetteSecureOptions {
  token?: string;
}

/** A monitor as the backend's `monitors` resource lists it. */
export interface MonitorRef {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export const QUERY_TYPES: Array<{ value: QueryType; label: string; description: string }> = [
  { value: 'series', label: 'Series', description: 'Uptime, availability, latency percentiles, checks, failures' },
  { value: 'state', label: 'State', description: 'Current state of each monitor' },
  { value: 'incidents', label: 'Incidents', description: 'Incident table' },
  { value: 'results', label: 'Results', description: 'Raw check results' },
  { value: 'slo', label: 'SLO', description: 'Error budget and burn rate against a target' },
];

export const METRICS: Array<{ value: Metric; label: string }> = [
  { value: 'uptime', label: 'Uptime ratio' },
  { value: 'availability', label: 'Availability (maintenance excluded)' },
  { value: 'latency_p50', label: 'Latency p50' },
  { value: 'latency_p90', label: 'Latency p90' },
  { value: 'latency_p95', label: 'Latency p95' },
  { value: 'latency_p99', label: 'Latency p99' },
  { value: 'latency_avg', label: 'Latency average' },
  { value: 'checks', label: 'Checks' },
  { value: 'failures', label: 'Failures' },
];

export const ANNOTATION_SOURCES: Array<{ value: AnnotationSource; label: string }> = [
  { value: 'incidents', label: 'Incidents' },
  { value: 'maintenance', label: 'Maintenance windows' },
  { value: 'deployments', label: 'Deployments' },
];

export const VARIABLE_KINDS: Array<{ value: VariableKind; label: string }> = [
  { value: 'monitors', label: 'Monitors (by selector)' },
  { value: 'labelKeys', label: 'Label keys' },
  { value: 'labelValues', label: 'Label values' },
];

/** Defaults applied to a new query. */
export const DEFAULT_QUERY: Partial<VedetteQuery> = {
  queryType: 'series',
  metric: 'uptime',
  selector: '',
  monitorIds: [],
  legendFormat: '{{name}}',
  limit: 100,
};

/** Defaults of an SLO query. */
export const DEFAULT_SLO = { sloTarget: 99.9, sloWindow: '30d', sloBurnWindow: '1h' };
