import React from 'react';
import { render, screen } from '@testing-library/react';
import { FieldType, toDataFrame } from '@grafana/data';

import { buildSlos } from '../src/panels/slo/model';
import { SloPanel } from '../src/panels/slo/SloPanel';
import { DEFAULT_SLO_OPTIONS } from '../src/panels/slo/types';
import { failedPanelProps, frames, panelProps, recorded } from './helpers';

describe('SLO model', () => {
  it('reads one SLO per recorded monitor', () => {
    const slos = buildSlos(frames(recorded.slo));
    expect(slos).toHaveLength(recorded.slo.length);
    const healthy = slos.find((s) => s.id === 'checkout-api')!;
    expect(healthy).toMatchObject({ name: 'Checkout API', uptime: 100, target: 99.9, budgetRemaining: 1, burnRate: 0 });
    expect(healthy.spent.length).toBeGreaterThan(1);
    const failing = slos.find((s) => s.id === 'legacy-batch')!;
    expect(failing.uptime).toBe(0);
    expect(failing.budgetRemaining).toBeLessThan(0);
  });

  it('merges a monitor split over several frames and reads ratios', () => {
    const labels = { id: 'm1', name: 'M1' };
    const summary = toDataFrame({
      fields: [
        { name: 'uptime', type: FieldType.number, values: [0.9995], labels, config: { unit: 'percentunit' } },
        { name: 'target', type: FieldType.number, values: [99.9], labels },
        { name: 'budgetRemaining', type: FieldType.number, values: [50], labels, config: { unit: 'percent' } },
        { name: 'burn_rate', type: FieldType.number, values: [0.5], labels },
      ],
    });
    const series = toDataFrame({
      fields: [
        { name: 'time', type: FieldType.time, values: [1, 2] },
        { name: 'budget_spent', type: FieldType.number, values: [0.1, 0.5], labels },
      ],
    });
    expect(buildSlos([summary, series])).toEqual([
      { id: 'm1', name: 'M1', uptime: 99.95, target: 99.9, budgetRemaining: 0.5, burnRate: 0.5, spent: [{ t: 1, v: 0.1 }, { t: 2, v: 0.5 }] },
    ]);
  });
});

describe('SloPanel', () => {
  it('renders uptime, target, budget and burn rate of the recorded monitors', () => {
    render(<SloPanel {...panelProps(DEFAULT_SLO_OPTIONS, frames(recorded.slo))} />);
    expect(screen.getByText('Checkout API')).toBeInTheDocument();
    expect(screen.getByLabelText('uptime of Checkout API')).toHaveTextContent('100.000%');
    expect(screen.getByLabelText('burn rate of Checkout API')).toHaveTextContent('0.00×');
    expect(screen.getByLabelText('uptime of Legacy batch')).toHaveTextContent('0.000%');
    expect(screen.getAllByText('exhausted').length).toBeGreaterThan(0);
    expect(screen.getAllByText('100.0%').length).toBeGreaterThan(0);
    expect(screen.getByRole('img', { name: 'budget spent of Checkout API' })).toBeInTheDocument();
  });

  it('says what query it needs when there is no data', () => {
    render(<SloPanel {...panelProps(DEFAULT_SLO_OPTIONS, frames(recorded.series.slice(0, 0)))} />);
    expect(screen.getByRole('status')).toHaveTextContent('No SLO data');
  });

  it('shows the query error', () => {
    render(<SloPanel {...failedPanelProps(DEFAULT_SLO_OPTIONS, 'sloTarget: expected a percentage')} />);
    expect(screen.getByRole('alert')).toHaveTextContent('sloTarget: expected a percentage');
  });
});
