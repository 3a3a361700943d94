import React from 'react';
import { InlineField, Input } from '@grafana/ui';

/** Props of {@link InputField}: the field's label, width, tooltip and growth, the input's own props, and the text's taker. */
export type InputFieldProps = Omit<React.ComponentProps<typeof Input>, 'onBlur'> & {
  label: string;
  labelWidth: number;
  tooltip?: string;
  grow?: boolean;
  onCommit: (text: string) => void;
};

/** A labelled input that hands its text over when it loses focus: the editors change (and run) a query once typing is done. */
export function InputField({ label, labelWidth, tooltip, grow, onCommit, ...input }: InputFieldProps) {
  return (
    <InlineField label={label} labelWidth={labelWidth} tooltip={tooltip} grow={grow}>
      <Input {...input} onBlur={(e) => onCommit(e.currentTarget.value)} />
    </InlineField>
  );
}
