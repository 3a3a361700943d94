import React from 'react';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { VariableQueryEditor } from '../src/datasource/components/VariableQueryEditor';
import { datasource } from './helpers';

describe('VariableQueryEditor', () => {
  it('edits a monitors-by-selector variable', () => {
    const onChange = jest.fn();
    render(<VariableQueryEditor datasource={datasource()} query={{ refId: 'v' }} onChange={onChange} onRunQuery={jest.fn()} />);
    const input = screen.getByLabelText('variable selector');
    fireEvent.change(input, { target: { value: 'team=payments,env in ($env)' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ queryType: 'variable', variableKind: 'monitors', selector: 'team=payments,env in ($env)' })
    );
  });

  it('picks the label of a label-values variable from the backend keys', async () => {
    const onChange = jest.fn();
    const ds = datasource();
    render(
      <VariableQueryEditor datasource={ds} query={{ refId: 'v', variableKind: 'labelValues' }} onChange={onChange} onRunQuery={jest.fn()} />
    );
    await waitFor(() => expect(ds.getResource).toHaveBeenCalledWith('labels'));
    await userEvent.click(screen.getByLabelText('variable label'));
    const menu = await screen.findByLabelText('Select options menu');
    await userEvent.click(within(menu).getByText('team'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ variableKind: 'labelValues', variableLabel: 'team' }));
  });
});
