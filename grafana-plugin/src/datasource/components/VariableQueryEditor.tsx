import React, { useEffect, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, Input, Select, Stack } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { VARIABLE_KINDS, VedetteOptions, VedetteQuery } from '../types';

type Props = QueryEditorProps<DataSource, VedetteQuery, VedetteOptions, VedetteQuery>;

/** Edits a template variable query: monitors by selector, label keys, or one label's values. */
export function VariableQueryEditor({ query, onChange, datasource }: Props) {
  const kind = query.variableKind ?? 'monitors';
  const [keys, setKeys] = useState<Array<SelectableValue<string>>>([]);

  useEffect(() => {
    let live = true;
    if (kind === 'labelValues') {
      datasource.labelKeys().then(
        (k) => live && setKeys(k.map((v) => ({ value: v, label: v }))),
        () => live && setKeys([])
      );
    }
    return () => {
      live = false;
    };
  }, [datasource, kind]);

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
        <InlineField label="Selector" labelWidth={14} tooltip="e.g. team=payments,env in ($env); empty lists all">
          <Input
            aria-label="variable selector"
            width={50}
            defaultValue={query.selector ?? ''}
            placeholder="team=payments"
            onBlur={(e) => change({ selector: e.currentTarget.value })}
          />
        </InlineField>
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
