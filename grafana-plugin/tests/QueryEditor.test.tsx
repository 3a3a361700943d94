import React from 'react';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { QueryEditor } from '../src/datasource/components/QueryEditor';
import { VedetteQuery } from '../src/datasource/types';
import { datasource, recorded } from './helpers';

function setup(query: VedetteQuery, variables = [{ name: 'env', options: ['prod', 'stage'], current: ['prod'] }]) {
  const ds = datasource(variables);
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const utils = render(<QueryEditor datasource={ds} query={query} onChange={onChange} onRunQuery={onRunQuery} />);
  return { ds, onChange, onRunQuery, ...utils };
}

/** Opens a @grafana/ui Select by its aria-label and picks the option with this text. */
async function pick(label: string, option: string) {
  const input = screen.getByLabelText(label);
  await userEvent.click(input);
  const menu = await screen.findByLabelText('Select options menu');
  await userEvent.click(within(menu).getByText(option));
}

describe('QueryEditor builder', () => {
  it('shows the query in builder fields and loads monitors from the backend', async () => {
    const { ds } = setup({ refId: 'A', queryType: 'series', metric: 'latency_p95', selector: 'team=payments', legendFormat: '{{name}}' });
    expect(screen.getByText('Latency p95')).toBeInTheDocument();
    expect(screen.getByText('team')).toBeInTheDocument();
    expect(screen.getByText('payments')).toBeInTheDocument();
    expect(screen.getByLabelText('legend format')).toHaveValue('{{name}}');
    await waitFor(() => expect(ds.getResource).toHaveBeenCalledWith('monitors', { selector: 'team=payments' }));
    await waitFor(() => expect(ds.getResource).toHaveBeenCalledWith('labels'));
  });

  it('writes a picked metric into the query and runs it', async () => {
    const { onChange, onRunQuery } = setup({ refId: 'A', queryType: 'series', metric: 'uptime' });
    await pick('metric', 'Availability (maintenance excluded)');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ metric: 'availability' }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('builds a selector from key and value suggested by the backend', async () => {
    const { onChange, ds } = setup({ refId: 'A', queryType: 'series', metric: 'uptime', selector: '' });
    await userEvent.click(screen.getByLabelText('add label requirement'));
    await waitFor(() => expect(ds.getResource).toHaveBeenCalledWith('labels'));
    await pick('label key 1', 'env');
    await waitFor(() => expect(ds.getResource).toHaveBeenCalledWith('labels/env/values'));
    await pick('label value 1', recorded.resources.labelValues.env[0]);
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ selector: `env=${recorded.resources.labelValues.env[0]}` })
    );
  });

  it('offers dashboard variables as label values', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'series', metric: 'uptime', selector: 'env in (prod)' });
    await pick('label values 1', '$env');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ selector: 'env in (prod,$env)' }));
  });

  it('keeps the values when the operator changes from = to in', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'series', selector: 'env=prod' });
    await pick('operator 1', 'in');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ selector: 'env in (prod)' }));
  });

  it('removes a requirement', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'series', selector: 'team=payments,env=prod' });
    await userEvent.click(screen.getByLabelText('remove requirement 1'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ selector: 'env=prod' }));
  });

  it('shows SLO target, window and burn window for an SLO query', () => {
    setup({ refId: 'A', queryType: 'slo', sloTarget: 99.5, sloWindow: '7d' });
    expect(screen.getByLabelText('slo target')).toHaveValue(99.5);
    expect(screen.getByLabelText('slo window')).toHaveValue('7d');
    expect(screen.getByLabelText('slo burn window')).toHaveValue('1h');
    expect(screen.queryByLabelText('metric')).not.toBeInTheDocument();
  });

  it('changes the burn window', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'slo', sloWindow: '7d' });
    const input = screen.getByLabelText('slo burn window');
    await userEvent.clear(input);
    await userEvent.type(input, '6h');
    await userEvent.tab();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ sloBurnWindow: '6h' }));
  });

  it('sets the SLO defaults when switching to SLO', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'series' });
    await pick('query type', 'SLO');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'slo', sloTarget: 99.9, sloWindow: '30d', sloBurnWindow: '1h' }));
  });

  it('shows the annotation source in annotation mode', async () => {
    const ds = datasource();
    const onChange = jest.fn();
    render(
      <QueryEditor
        annotationMode
        datasource={ds}
        query={{ refId: 'Anno', annotationSource: 'maintenance' }}
        onChange={onChange}
        onRunQuery={jest.fn()}
      />
    );
    expect(screen.getByText('Maintenance windows')).toBeInTheDocument();
    await pick('annotation source', 'Deployments');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'annotations', annotationSource: 'deployments' }));
  });
});

describe('QueryEditor raw mode', () => {
  it('opens in raw mode for a selector the builder cannot show', () => {
    setup({ refId: 'A', queryType: 'series', selector: 'team=(x' });
    expect(screen.getByLabelText('raw selector')).toHaveValue('team=(x');
  });

  it('edits the query JSON', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'series', metric: 'uptime' });
    await userEvent.click(screen.getByText('Raw'));
    const area = screen.getByLabelText('raw query');
    expect(JSON.parse((area as HTMLTextAreaElement).value)).toEqual({ queryType: 'series', metric: 'uptime' });
    fireEvent.change(area, { target: { value: '{"queryType":"incidents","limit":20,"selector":"team=search"}' } });
    fireEvent.blur(area);
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'incidents', limit: 20, selector: 'team=search' });
  });

  it('names the wrong field of the query JSON', async () => {
    const { onChange } = setup({ refId: 'A', queryType: 'series' });
    await userEvent.click(screen.getByText('Raw'));
    const area = screen.getByLabelText('raw query');
    fireEvent.change(area, { target: { value: '{"metric":"p42"}' } });
    fireEvent.blur(area);
    expect(await screen.findByText(/metric: expected uptime/)).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('edits the selector as text and the builder follows', async () => {
    const { onChange, rerender, ds } = setup({ refId: 'A', queryType: 'series', selector: '' });
    await userEvent.click(screen.getByText('Raw'));
    const input = screen.getByLabelText('raw selector');
    fireEvent.change(input, { target: { value: 'team=search,!legacy' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ selector: 'team=search,!legacy' }));
    rerender(
      <QueryEditor datasource={ds} query={{ refId: 'A', queryType: 'series', selector: 'team=search,!legacy' }} onChange={onChange} onRunQuery={jest.fn()} />
    );
    await userEvent.click(screen.getByText('Builder'));
    expect(screen.getByText('search')).toBeInTheDocument();
    expect(screen.getByText('legacy')).toBeInTheDocument();
  });
});
