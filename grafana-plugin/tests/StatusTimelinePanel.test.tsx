import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { FieldType, toDataFrame } from '@grafana/data';

import { buildTimeline, bucketAt, State, stateOf } from '../src/panels/statustimeline/model';
import { StatusTimelinePanel } from '../src/panels/statustimeline/StatusTimelinePanel';
import { DEFAULT_OPTIONS } from '../src/panels/statustimeline/types';
import { formatUptime } from '../src/panels/statustimeline/draw';
import { failedPanelProps, frames, panelProps, recorded } from './helpers';

const thresholds = { up: DEFAULT_OPTIONS.upThreshold, down: DEFAULT_OPTIONS.downThreshold };

/** A 2D context that records what is drawn (jsdom has no canvas). */
function recordingContext() {
  const calls: string[] = [];
  const ctx = new Proxy(
    { measureText: (t: string) => ({ width: t.length * 6 }) },
    {
      get(target, prop: string) {
        if (prop in target) {
          return (target as Record<string, unknown>)[prop];
        }
        return (..._args: unknown[]) => calls.push(prop);
      },
      set() {
        return true;
      },
    }
  );
  return { ctx, calls };
}

describe('status timeline model', () => {
  it('makes one row per recorded monitor with incidents attached', () => {
    const t = buildTimeline(frames([...recorded.series, ...recorded.incidents]), thresholds);
    expect(t.rows.map((r) => r.id).sort()).toEqual(recorded.resources.monitors.map((m) => m.id).sort());
    const legacy = t.rows.find((r) => r.id === 'legacy-batch')!;
    expect(legacy.incidents.length).toBeGreaterThan(0);
    expect(Number.isNaN(legacy.incidents[0].end)).toBe(true);
    expect(legacy.uptime).toBe(0);
    const healthy = t.rows.find((r) => r.id === 'checkout-api')!;
    expect(healthy.uptime).toBe(1);
    expect(healthy.name).toBe('Checkout API');
    expect(healthy.labels).toMatchObject({ team: 'payments', env: 'prod' });
    expect(Array.from(healthy.states).filter((s) => s === State.Up).length).toBeGreaterThan(0);
    expect(t.ignored).toEqual([]);
  });

  it('draws a State table as one row per monitor from its state change on', () => {
    const t = buildTimeline(frames(recorded.state), thresholds);
    expect(t.rows).toHaveLength(recorded.resources.monitors.length);
    const legacy = t.rows.find((r) => r.id === 'legacy-batch')!;
    expect(legacy.name).toBe('Legacy batch');
    expect(Array.from(legacy.states)).toEqual([State.Down]);
  });

  it('maps ratios and state names to states', () => {
    expect(stateOf(1, thresholds)).toBe(State.Up);
    expect(stateOf(0.9, thresholds)).toBe(State.Degraded);
    expect(stateOf(0.2, thresholds)).toBe(State.Down);
    expect(stateOf(null, thresholds)).toBe(State.NoData);
    expect(stateOf('down', thresholds)).toBe(State.Down);
    expect(stateOf('maintenance', thresholds)).toBe(State.Paused);
  });

  it('finds the bucket of a time', () => {
    const times = new Float64Array([0, 10, 20]);
    expect(bucketAt(times, -1)).toBe(-1);
    expect(bucketAt(times, 0)).toBe(0);
    expect(bucketAt(times, 15)).toBe(1);
    expect(bucketAt(times, 99)).toBe(2);
  });

  it('names frames it cannot draw', () => {
    const table = toDataFrame({ name: 'state', fields: [{ name: 'state', type: FieldType.string, values: ['up'] }] });
    expect(buildTimeline([table], thresholds)).toEqual({ rows: [], ignored: ['state'] });
  });

  it('formats uptime with the decimals it needs', () => {
    expect(formatUptime(1)).toBe('100%');
    expect(formatUptime(0.9995)).toBe('99.95%');
    expect(formatUptime(0.5)).toBe('50.0%');
    expect(formatUptime(NaN)).toBe('–');
  });
});

describe('StatusTimelinePanel', () => {
  let spy: jest.SpyInstance;
  let calls: string[];
  beforeEach(() => {
    const rec = recordingContext();
    calls = rec.calls;
    spy = jest
      .spyOn(HTMLCanvasElement.prototype, 'getContext')
      .mockImplementation(() => rec.ctx as unknown as CanvasRenderingContext2D);
  });
  afterEach(() => spy.mockRestore());

  it('draws the recorded frames on a canvas', () => {
    render(<StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, frames([...recorded.series, ...recorded.incidents]))} />);
    expect(screen.getByRole('img', { name: `Status timeline of ${recorded.series.length} monitors` })).toBeInTheDocument();
    expect(calls.filter((c) => c === 'fillRect').length).toBeGreaterThan(recorded.series.length * 2);
    expect(calls).toContain('fillText');
  });

  it('shows hover details of a bucket', () => {
    render(<StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, frames([...recorded.series, ...recorded.incidents]))} />);
    const scroll = screen.getByTestId('statustimeline-scroll');
    jest.spyOn(scroll, 'getBoundingClientRect').mockReturnValue({ left: 0, top: 0 } as DOMRect);
    fireEvent.mouseMove(scroll, { clientX: 700, clientY: 5 });
    const tip = screen.getByRole('tooltip');
    expect(tip).toHaveTextContent('uptime in range');
  });

  it('says there is no data for an empty result', () => {
    render(<StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, [])} />);
    expect(screen.getByRole('status')).toHaveTextContent('No data');
  });

  it('shows the query error', () => {
    render(<StatusTimelinePanel {...failedPanelProps(DEFAULT_OPTIONS, 'selector: column 3: expected a value')} />);
    expect(screen.getByRole('alert')).toHaveTextContent('selector: column 3: expected a value');
  });

  it('explains which frames it cannot draw', () => {
    const table = toDataFrame({ name: 'results', fields: [{ name: 'message', type: FieldType.string, values: ['ok'] }] });
    render(<StatusTimelinePanel {...panelProps(DEFAULT_OPTIONS, [table])} />);
    expect(screen.getByRole('status')).toHaveTextContent('frames results have no time and value fields');
  });
});
