import React, { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { dateTimeFormat, PanelProps } from '@grafana/data';
import { useTheme2 } from '@grafana/ui';

import { drawTimeline, formatUptime, Layout, Palette } from './draw';
import { bucketAt, buildTimeline, Row, State } from './model';
import { DEFAULT_OPTIONS, StatusTimelineOptions } from './types';

type Props = PanelProps<StatusTimelineOptions>;

const STATE_LABELS: Record<State, string> = {
  [State.NoData]: 'no data',
  [State.Up]: 'up',
  [State.Degraded]: 'degraded',
  [State.Down]: 'down',
  [State.Paused]: 'paused / maintenance',
};

interface Hover {
  x: number;
  y: number;
  row: Row;
  bucket: number;
}

/** One row per monitor with its states over time drawn on a canvas, incidents marked and uptime at the end. */
export function StatusTimelinePanel({ data, width, height, options, timeRange, timeZone }: Props) {
  const o = { ...DEFAULT_OPTIONS, ...options };
  const theme = useTheme2();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [hover, setHover] = useState<Hover | undefined>();

  const timeline = useMemo(() => {
    const t = buildTimeline(data.series, { up: o.upThreshold, down: o.downThreshold });
    const rows = [...t.rows];
    if (o.sortBy === 'uptime') {
      rows.sort((a, b) => (a.uptime || 0) - (b.uptime || 0) || a.name.localeCompare(b.name, undefined, { numeric: true }));
    } else {
      rows.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    }
    return { ...t, rows };
  }, [data.series, o.upThreshold, o.downThreshold, o.sortBy]);

  const palette: Palette = useMemo(
    () => ({
      states: {
        [State.NoData]: theme.colors.background.secondary,
        [State.Up]: theme.visualization.getColorByName('green'),
        [State.Degraded]: theme.visualization.getColorByName('orange'),
        [State.Down]: theme.visualization.getColorByName('red'),
        [State.Paused]: theme.visualization.getColorByName('blue'),
      },
      text: theme.colors.text.primary,
      weakText: theme.colors.text.secondary,
      incident: theme.visualization.getColorByName('dark-red'),
      background: theme.colors.background.primary,
    }),
    [theme]
  );

  const layout: Layout = useMemo(
    () => ({
      width,
      height,
      rowHeight: o.rowHeight,
      nameWidth: Math.min(o.nameWidth, Math.floor(width / 3)),
      uptimeWidth: o.showUptime ? 64 : 0,
      from: timeRange.from.valueOf(),
      to: timeRange.to.valueOf(),
      firstRow: Math.floor(scrollTop / o.rowHeight),
      offset: scrollTop % o.rowHeight,
      showIncidents: o.showIncidents,
    }),
    [width, height, o.rowHeight, o.nameWidth, o.showUptime, o.showIncidents, timeRange, scrollTop]
  );

  // Drawn before the browser paints, so a scroll or resize never shows a stale frame.
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) {
      return;
    }
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.floor(width * ratio);
    canvas.height = Math.floor(height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    drawTimeline(ctx, timeline.rows, layout, palette);
  }, [timeline, layout, palette, width, height]);

  const onMove = useCallback(
    (e: React.MouseEvent<HTMLDivElement>) => {
      const box = e.currentTarget.getBoundingClientRect();
      const x = e.clientX - box.left;
      const y = e.clientY - box.top;
      const row = timeline.rows[Math.floor((y + scrollTop) / o.rowHeight)];
      const barRight = width - layout.uptimeWidth;
      if (!row || x < layout.nameWidth || x > barRight) {
        setHover(undefined);
        return;
      }
      const t = layout.from + ((x - layout.nameWidth) / (barRight - layout.nameWidth)) * (layout.to - layout.from);
      setHover({ x, y, row, bucket: bucketAt(row.times, t) });
    },
    [timeline, scrollTop, o.rowHeight, width, layout]
  );

  if (data.errors?.length) {
    return <div role="alert">Query error: {data.errors.map((e) => e.message).join('; ')}</div>;
  }
  if (timeline.rows.length === 0) {
    return (
      <div role="status" style={{ padding: 8 }}>
        {timeline.ignored.length
          ? `No series to draw: frames ${timeline.ignored.join(', ')} have no time and value fields (use a Series query with metric Uptime).`
          : 'No data: no monitor matches this query in the time range.'}
      </div>
    );
  }

  const incident = hover?.row.incidents.find((inc) => {
    const t = hover.row.times[hover.bucket];
    return inc.start <= t + 1 && (Number.isNaN(inc.end) || inc.end >= t);
  });

  return (
    <div style={{ position: 'relative', width, height }}>
      <canvas
        ref={canvasRef}
        role="img"
        aria-label={`Status timeline of ${timeline.rows.length} monitors`}
        data-testid="statustimeline-canvas"
        style={{ position: 'absolute', left: 0, top: 0, width, height }}
      />
      <div
        data-testid="statustimeline-scroll"
        style={{ position: 'absolute', left: 0, top: 0, width, height, overflowY: 'auto' }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(undefined)}
      >
        <div style={{ height: timeline.rows.length * o.rowHeight }} />
      </div>
      {hover && hover.bucket >= 0 && (
        <div
          role="tooltip"
          style={{
            position: 'absolute',
            left: Math.min(hover.x + 12, Math.max(0, width - 260)),
            top: Math.min(hover.y + 12, Math.max(0, height - 110)),
            width: 240,
            padding: 8,
            pointerEvents: 'none',
            background: theme.colors.background.secondary,
            border: `1px solid ${theme.colors.border.medium}`,
            borderRadius: 4,
            fontSize: 12,
            zIndex: 1,
          }}
        >
          <strong>{hover.row.name}</strong>
          <div>{dateTimeFormat(hover.row.times[hover.bucket], { timeZone })}</div>
          <div>
            {STATE_LABELS[hover.row.states[hover.bucket] as State]}
            {Number.isNaN(hover.row.values[hover.bucket]) ? '' : ` · ${formatUptime(hover.row.values[hover.bucket])} up`}
          </div>
          <div>uptime in range: {formatUptime(hover.row.uptime)}</div>
          {incident && (
            <div>
              incident {dateTimeFormat(incident.start, { timeZone })}
              {Number.isNaN(incident.end) ? ' (open)' : ` – ${dateTimeFormat(incident.end, { timeZone })}`}
              {incident.cause ? `: ${incident.cause}` : ''}
            </div>
          )}
        </div>
      )}
    </div>
  );
}

