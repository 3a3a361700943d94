import React, { useCallback } from 'react';
import { SelectableValue } from '@grafana/data';
import { Button, MultiSelect, Select, Stack } from '@grafana/ui';

import { Requirement, SelectorOp } from '../selector';
import { useLoadedList } from './useLoadedList';

/** Where the builder gets its suggestions: the backend's label resources and the dashboard's variables. */
export interface LabelSource {
  labelKeys(): Promise<string[]>;
  labelValues(key: string): Promise<string[]>;
  variableNames(): string[];
}

const OPS: Array<SelectableValue<SelectorOp>> = [
  { value: '=', label: '=' },
  { value: '!=', label: '!=' },
  { value: 'in', label: 'in' },
  { value: 'notin', label: 'notin' },
  { value: 'exists', label: 'exists' },
  { value: '!exists', label: 'absent' },
];

const toOptions = (values: string[]): Array<SelectableValue<string>> => values.map((v) => ({ value: v, label: v }));

interface RowProps {
  index: number;
  requirement: Requirement;
  source: LabelSource;
  keys: string[];
  onChange: (r: Requirement) => void;
  onRemove: () => void;
}

function RequirementRow({ index, requirement, source, keys, onChange, onRemove }: RowProps) {
  const key = requirement.key;
  const values = useLoadedList(
    useCallback(() => (key && !key.startsWith('$') ? source.labelValues(key) : undefined), [key, source])
  );

  const variableOptions = source.variableNames().map((n) => `$${n}`);
  const valueOptions = toOptions([...variableOptions, ...values]);
  const multi = requirement.op === 'in' || requirement.op === 'notin';
  const needsValue = requirement.op !== 'exists' && requirement.op !== '!exists';

  return (
    <Stack direction="row" gap={1} alignItems="center">
      <Select
        aria-label={`label key ${index + 1}`}
        width={20}
        allowCustomValue
        placeholder="key"
        options={toOptions(keys)}
        value={requirement.key ? { value: requirement.key, label: requirement.key } : null}
        onChange={(v) => onChange({ ...requirement, key: v?.value ?? '', values: [] })}
      />
      <Select
        aria-label={`operator ${index + 1}`}
        width={12}
        options={OPS}
        value={requirement.op}
        onChange={(v) => {
          const op = v.value ?? '=';
          const keep = op === 'exists' || op === '!exists' ? [] : requirement.values;
          onChange({ ...requirement, op, values: op === '=' || op === '!=' ? keep.slice(0, 1) : keep });
        }}
      />
      {needsValue && multi && (
        <MultiSelect
          aria-label={`label values ${index + 1}`}
          width={30}
          allowCustomValue
          placeholder="values"
          options={valueOptions}
          value={requirement.values.map((v) => ({ value: v, label: v }))}
          onChange={(vs) => onChange({ ...requirement, values: vs.map((v) => v.value ?? '').filter((v) => v !== '') })}
        />
      )}
      {needsValue && !multi && (
        <Select
          aria-label={`label value ${index + 1}`}
          width={30}
          allowCustomValue
          placeholder="value"
          options={valueOptions}
          value={requirement.values[0] ? { value: requirement.values[0], label: requirement.values[0] } : null}
          onChange={(v) => onChange({ ...requirement, values: v?.value ? [v.value] : [] })}
        />
      )}
      <Button
        aria-label={`remove requirement ${index + 1}`}
        icon="times"
        variant="secondary"
        fill="text"
        onClick={onRemove}
      />
    </Stack>
  );
}

interface Props {
  requirements: Requirement[];
  source: LabelSource;
  onChange: (requirements: Requirement[]) => void;
}

/** Edits a label selector as rows of key, operator and values, with keys and values suggested by the backend. */
export function SelectorBuilder({ requirements, source, onChange }: Props) {
  const keys = useLoadedList(useCallback(() => source.labelKeys(), [source]));

  const update = useCallback(
    (i: number, r: Requirement) => onChange(requirements.map((old, j) => (j === i ? r : old))),
    [requirements, onChange]
  );

  return (
    <Stack direction="column" gap={1}>
      {requirements.map((r, i) => (
        <RequirementRow
          key={i}
          index={i}
          requirement={r}
          source={source}
          keys={keys}
          onChange={(next) => update(i, next)}
          onRemove={() => onChange(requirements.filter((_, j) => j !== i))}
        />
      ))}
      <div>
        <Button
          aria-label="add label requirement"
          icon="plus"
          variant="secondary"
          size="sm"
          onClick={() => onChange([...requirements, { key: '', op: '=', values: [] }])}
        >
          Label
        </Button>
      </div>
    </Stack>
  );
}
