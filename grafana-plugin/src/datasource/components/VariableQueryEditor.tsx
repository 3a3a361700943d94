import React, { useCallback } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, Select, Stack } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { VARIABLE_KINDS, VedetteOptions, VedetteQuery } from '../types';
import { InputField } from './InputField';
import { useLoadedList } from './useLoadedList';

type Props = QueryEditorProps<DataSource, VedetteQuery, VedetteOptions, VedetteQuery>;

/** Edits a template variable query: monitors by selector, label keys, or one label's values. */
export function VariableQueryEditor({ query, onChange, datasource }: Props) {
  const kind = query.variableKind ?? 'monitors';
  const keys: Array<SelectableValue<string>> = useLoadedList(
    useCallback(
      () =>
        kind === 'labelValues' ? datasource.labelKeys().then((k) => k.map((v) => ({ value: v, label: v }))) : undefined,
      [datasource, kind]
    )
  );

  const change = (patch: Partial<VedetteQuery>) =>
    onChange({ ...query, queryType: 'variable', variableKind: kind, ...patch });

  return (
    <Stack direction="column" gap={1}>
      <InlineField label="List" labelWidth={14}>
        <Select
          aria-label="variable kind"
          width={30}
          options={VARIABLE_KINDS}
          value={kind}
          onChange={(v) => change({ variableKind: v.value })}
        />
      </InlineField>
      {kind === 'monitors' && (
        <InputField
          label="Selector"
          labelWidth={14}
          tooltip="e.g. team=payments,env in ($env); empty lists all"
          aria-label="variable selector"
          width={50}
          defaultValue={query.selector ?? ''}
          placeholder="team=payments"
          onCommit={(selector) => change({ selector })}
        />
      )}
      {kind === 'labelValues' && (
        <InlineField label="Label" labelWidth={14}>
          <Select
            aria-label="variable label"
            width={30}
            allowCustomValue
            options={keys}
            value={query.variableLabel ? { value: query.variableLabel, label: query.variableLabel } : null}
            onChange={(v) => change({ variableLabel: v?.value ?? '' })}
          />
        </InlineField>
      )}
    </Stack>
  );
}
