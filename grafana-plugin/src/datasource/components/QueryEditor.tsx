import React, { useCallback, useEffect, useMemo, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { Alert, InlineField, InlineFieldRow, MultiSelect, RadioButtonGroup, Select, Stack, TextArea } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { formatSelector, parseSelector, Requirement } from '../selector';
import {
  ANNOTATION_SOURCES,
  DEFAULT_SLO,
  METRICS,
  QUERY_TYPES,
  VedetteOptions,
  VedetteQuery,
} from '../types';
import { InputField } from './InputField';
import { LabelSource, SelectorBuilder } from './SelectorBuilder';
import { parseRawQuery } from './rawQuery';
import { useLoadedList } from './useLoadedList';

/** Props of the query editor; `annotation` is set when Grafana shows it for an annotation query. */
export type Props = QueryEditorProps<DataSource, VedetteQuery, VedetteOptions> & { annotationMode?: boolean };

type Mode = 'builder' | 'raw';

const MODES: Array<SelectableValue<Mode>> = [
  { value: 'builder', label: 'Builder' },
  { value: 'raw', label: 'Raw' },
];

function tryParse(selector: string): Requirement[] | undefined {
  try {
    return parseSelector(selector);
  } catch {
    return undefined;
  }
}

/** The raw mode's text: the query without Grafana's own bookkeeping fields. */
function rawText(query: VedetteQuery): string {
  const { refId: _refId, datasource: _ds, hide: _hide, key: _key, ...rest } = query;
  return JSON.stringify(rest, null, 2);
}

/** Builds a Vedette query (type, metric, label selector, monitors, legend, SLO, annotation source) or edits it raw. */
export function QueryEditor({ query, onChange, onRunQuery, datasource, annotationMode }: Props) {
  const selector = query.selector ?? '';
  const parsed = useMemo(() => tryParse(selector), [selector]);
  const [mode, setMode] = useState<Mode>(parsed ? 'builder' : 'raw');
  const [rows, setRows] = useState<Requirement[]>(parsed ?? []);
  const [raw, setRaw] = useState(rawText(query));
  const [rawError, setRawError] = useState<string | undefined>();

  // Keep the builder rows in step with a selector changed elsewhere (raw mode, a dashboard edit).
  useEffect(() => {
    if (parsed && formatSelector(rows) !== selector) {
      setRows(parsed);
    }
    // rows are deliberately not a dependency: they lead, the selector follows.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selector, parsed]);

  const monitors: Array<SelectableValue<string>> = useLoadedList(
    useCallback(
      () =>
        datasource
          .listMonitors(selector && parsed ? datasource.interpolateSelector(selector) : '')
          .then((ms) => ms.map((m) => ({ value: m.id, label: m.name || m.id, description: m.id }))),
      [datasource, selector, parsed]
    )
  );

  const source: LabelSource = useMemo(
    () => ({
      labelKeys: () => datasource.labelKeys(),
      labelValues: (key: string) => datasource.labelValues(key),
      variableNames: () => datasource.variableNames(),
    }),
    [datasource]
  );

  const change = (patch: Partial<VedetteQuery>, run = true) => {
    const next = { ...query, ...patch };
    onChange(next);
    setRaw(rawText(next));
    if (run) {
      onRunQuery();
    }
  };

  const queryType = annotationMode ? 'annotations' : (query.queryType ?? 'series');
  const variableOptions = datasource.variableNames().map((n) => ({ value: `$${n}`, label: `$${n}` }));

  return (
    <Stack direction="column" gap={1}>
      <InlineFieldRow>
        {!annotationMode && (
          <InlineField label="Query type" labelWidth={14}>
            <Select
              aria-label="query type"
              width={20}
              options={QUERY_TYPES}
              value={queryType}
              onChange={(v) =>
                change(v.value === 'slo' ? { queryType: v.value, ...DEFAULT_SLO } : { queryType: v.value })
              }
            />
          </InlineField>
        )}
        {annotationMode && (
          <InlineField label="Source" labelWidth={14}>
            <Select
              aria-label="annotation source"
              width={24}
              options={ANNOTATION_SOURCES}
              value={query.annotationSource ?? 'incidents'}
              onChange={(v) => change({ queryType: 'annotations', annotationSource: v.value })}
            />
          </InlineField>
        )}
        <InlineField label="Editor" labelWidth={8}>
          <RadioButtonGroup aria-label="editor mode" options={MODES} value={mode} onChange={(m) => setMode(m)} />
        </InlineField>
      </InlineFieldRow>

      {mode === 'builder' && (
        <>
          {queryType === 'series' && (
            <InlineField label="Metric" labelWidth={14}>
              <Select
                aria-label="metric"
                width={36}
                options={METRICS}
                value={query.metric ?? 'uptime'}
                onChange={(v) => change({ metric: v.value })}
              />
            </InlineField>
          )}
          <InlineField label="Labels" labelWidth={14} tooltip="Monitors whose labels match; empty matches all">
            <SelectorBuilder
              requirements={rows}
              source={source}
              onChange={(next) => {
                setRows(next);
                change({ selector: formatSelector(next) });
              }}
            />
          </InlineField>
          <InlineField label="Monitors" labelWidth={14} tooltip="Pick monitors by id; empty uses the labels">
            <MultiSelect
              aria-label="monitors"
              width={50}
              allowCustomValue
              placeholder="all matching the labels"
              options={[...variableOptions, ...monitors]}
              value={(query.monitorIds ?? []).map((id) => monitors.find((m) => m.value === id) ?? { value: id, label: id })}
              onChange={(vs) => change({ monitorIds: vs.map((v) => v.value ?? '').filter((v) => v !== '') })}
            />
          </InlineField>
          {queryType === 'series' && (
            <InputField
              label="Legend"
              labelWidth={14}
              tooltip="{{name}}, {{id}}, {{label.<key>}}"
              aria-label="legend format"
              width={36}
              defaultValue={query.legendFormat ?? ''}
              placeholder="{{name}}"
              onCommit={(legendFormat) => change({ legendFormat })}
            />
          )}
          {queryType === 'slo' && (
            <InlineFieldRow>
              <InputField
                label="Target %"
                labelWidth={14}
                aria-label="slo target"
                type="number"
                width={12}
                min={0}
                max={100}
                step={0.01}
                defaultValue={query.sloTarget ?? DEFAULT_SLO.sloTarget}
                onCommit={(target) => change({ sloTarget: Number(target) })}
              />
              <InputField
                label="Window"
                labelWidth={10}
                aria-label="slo window"
                width={10}
                defaultValue={query.sloWindow ?? DEFAULT_SLO.sloWindow}
                onCommit={(sloWindow) => change({ sloWindow })}
              />
              <InputField
                label="Burn window"
                labelWidth={14}
                tooltip="The recent span the burn rate is measured over, such as 5m, 1h or 6h (at most the window)"
                aria-label="slo burn window"
                width={10}
                defaultValue={query.sloBurnWindow ?? DEFAULT_SLO.sloBurnWindow}
                onCommit={(sloBurnWindow) => change({ sloBurnWindow })}
              />
            </InlineFieldRow>
          )}
          {(queryType === 'incidents' || queryType === 'results') && (
            <InputField
              label="Limit"
              labelWidth={14}
              aria-label="limit"
              type="number"
              width={12}
              min={1}
              defaultValue={query.limit ?? 100}
              onCommit={(limit) => change({ limit: Number(limit) })}
            />
          )}
        </>
      )}

      {mode === 'raw' && (
        <>
          <InputField
            label="Selector"
            labelWidth={14}
            grow
            tooltip="team=payments,env in (prod,stage),!legacy"
            aria-label="raw selector"
            defaultValue={selector}
            key={selector}
            onCommit={(text) => change({ selector: text })}
          />
          <TextArea
            aria-label="raw query"
            rows={10}
            value={raw}
            onChange={(e) => setRaw(e.currentTarget.value)}
            onBlur={() => {
              const result = parseRawQuery(raw);
              if ('error' in result) {
                setRawError(result.error);
                return;
              }
              setRawError(undefined);
              onChange({ refId: query.refId, datasource: query.datasource, hide: query.hide, ...result.query });
              onRunQuery();
            }}
          />
          {rawError && (
            <Alert severity="error" title="Query JSON">
              {rawError}
            </Alert>
          )}
        </>
      )}
    </Stack>
  );
}
