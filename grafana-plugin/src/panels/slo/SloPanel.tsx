import React, { useMemo } from 'react';
import { GrafanaTheme2, PanelProps } from '@grafana/data';
import { useTheme2 } from '@grafana/ui';

import { buildSlos, Slo } from './model';
import { DEFAULT_SLO_OPTIONS, SloOptions } from './types';

type Props = PanelProps<SloOptions>;

const pct = (v: number, digits = 2) => (Number.isNaN(v) ? '–' : `${v.toFixed(digits)}%`);

/** The budget spent over time as a small line from 0 to max(1, highest), with the 100 % line marked. */
function SpentChart({ slo, width, height, theme }: { slo: Slo; width: number; height: number; theme: GrafanaTheme2 }) {
  if (slo.spent.length < 2) {
    return <svg width={width} height={height} aria-label={`budget spent of ${slo.name}: not enough points`} />;
  }
  const t0 = slo.spent[0].t;
  const t1 = slo.spent[slo.spent.length - 1].t;
  const top = Math.max(1, ...slo.spent.map((p) => p.v));
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * (width - 2) + 1;
  const y = (v: number) => height - 1 - (Math.max(0, v) / top) * (height - 2);
  const points = slo.spent.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  const over = slo.spent[slo.spent.length - 1].v >= 1;
  return (
    <svg width={width} height={height} role="img" aria-label={`budget spent of ${slo.name}`}>
      <line x1={0} x2={width} y1={y(1)} y2={y(1)} stroke={theme.colors.border.medium} strokeDasharray="3 3" />
      <polyline
        points={points}
        fill="none"
        strokeWidth={1.5}
        stroke={theme.visualization.getColorByName(over ? 'red' : 'blue')}
      />
    </svg>
  );
}

/** Per monitor: uptime against its target, error budget remaining, burn rate and budget spent over time. */
export function SloPanel({ data, width, height, options }: Props) {
  const o = { ...DEFAULT_SLO_OPTIONS, ...options };
  const theme = useTheme2();
  const slos = useMemo(() => buildSlos(data.series), [data.series]);

  if (data.errors?.length) {
    return <div role="alert">Query error: {data.errors.map((e) => e.message).join('; ')}</div>;
  }
  if (slos.length === 0) {
    return (
      <div role="status" style={{ padding: 8 }}>
        No SLO data: use an SLO query (target and window) of the Vedette data source.
      </div>
    );
  }

  const rowHeight = Math.max(44, Math.min(96, Math.floor(height / slos.length)));
  const chartWidth = o.showSpent ? Math.max(60, Math.floor(width * 0.3)) : 0;
  const green = theme.visualization.getColorByName('green');
  const red = theme.visualization.getColorByName('red');
  const orange = theme.visualization.getColorByName('orange');

  return (
    <div style={{ width, height, overflowY: 'auto', fontSize: 12 }} data-testid="slo-panel">
      <table style={{ width: '100%', borderCollapse: 'collapse' }}>
        <thead>
          <tr style={{ color: theme.colors.text.secondary, textAlign: 'left' }}>
            <th>Monitor</th>
            <th>Uptime / target</th>
            <th>Budget left</th>
            <th>Burn rate</th>
            {o.showSpent && <th>Budget spent</th>}
          </tr>
        </thead>
        <tbody>
          {slos.map((s) => {
            const target = Number.isNaN(s.target) ? o.defaultTarget : s.target;
            const met = s.uptime >= target;
            const left = s.budgetRemaining;
            const leftColor = left <= 0 ? red : left < 0.25 ? orange : green;
            const burnColor = s.burnRate >= o.burnRateAlert ? red : theme.colors.text.primary;
            return (
              <tr key={s.id} style={{ height: rowHeight, borderTop: `1px solid ${theme.colors.border.weak}` }}>
                <td style={{ fontWeight: 500 }}>{s.name}</td>
                <td>
                  <span style={{ color: met ? green : red, fontSize: 16 }} aria-label={`uptime of ${s.name}`}>
                    {pct(s.uptime, 3)}
                  </span>
                  <span style={{ color: theme.colors.text.secondary }}> / {pct(target, 2)}</span>
                </td>
                <td>
                  <div
                    aria-label={`budget left of ${s.name}`}
                    style={{ width: 80, height: 8, background: theme.colors.background.secondary, borderRadius: 2 }}
                  >
                    <div
                      style={{
                        width: `${Math.max(0, Math.min(1, Number.isNaN(left) ? 0 : left)) * 100}%`,
                        height: 8,
                        background: leftColor,
                        borderRadius: 2,
                      }}
                    />
                  </div>
                  <span style={{ color: leftColor }} title={Number.isNaN(left) ? undefined : pct(left * 100, 1)}>
                    {Number.isNaN(left) ? '–' : left <= 0 ? 'exhausted' : pct(left * 100, 1)}
                  </span>
                </td>
                <td style={{ color: burnColor }} aria-label={`burn rate of ${s.name}`}>
                  {Number.isNaN(s.burnRate) ? '–' : `${s.burnRate.toFixed(2)}×`}
                </td>
                {o.showSpent && (
                  <td>
                    <SpentChart slo={s} width={chartWidth} height={rowHeight - 12} theme={theme} />
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
