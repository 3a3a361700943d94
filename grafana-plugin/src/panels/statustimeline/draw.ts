import { bucketWidth, Row, State } from './model';

/** Colours of the states, uptime text and incident markers. */
export interface Palette {
  states: Record<State, string>;
  text: string;
  weakText: string;
  incident: string;
  background: string;
}

/** Geometry of the drawing: where the bars go and which rows and times are shown. */
export interface Layout {
  width: number;
  height: number;
  rowHeight: number;
  nameWidth: number;
  uptimeWidth: number;
  from: number;
  to: number;
  /** Index of the first row drawn and the pixel offset of the scroll within it. */
  firstRow: number;
  offset: number;
  showIncidents: boolean;
}

/** X of time `t` in the bar area. */
export function xOf(t: number, l: Layout): number {
  const barWidth = l.width - l.nameWidth - l.uptimeWidth;
  return l.nameWidth + ((t - l.from) / (l.to - l.from)) * barWidth;
}

function fitText(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) {
    return text;
  }
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + '…').width <= width) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return text.slice(0, lo) + '…';
}

/** Formats an uptime ratio as a percentage with as many decimals as it needs to differ from 100 %. */
export function formatUptime(ratio: number): string {
  if (Number.isNaN(ratio)) {
    return '–';
  }
  const pct = ratio * 100;
  if (pct >= 100) {
    return '100%';
  }
  return `${pct >= 99 ? pct.toFixed(pct >= 99.99 ? 3 : 2) : pct.toFixed(1)}%`;
}

/**
 * Draws the visible rows: runs of equal state merged into one rectangle, clipped to a pixel each,
 * so the cost follows the pixels drawn rather than the number of buckets.
 */
export function drawTimeline(ctx: CanvasRenderingContext2D, rows: Row[], l: Layout, p: Palette): number {
  ctx.fillStyle = p.background;
  ctx.fillRect(0, 0, l.width, l.height);
  ctx.font = `${Math.min(12, l.rowHeight - 4)}px sans-serif`;
  ctx.textBaseline = 'middle';
  const barLeft = l.nameWidth;
  const barRight = l.width - l.uptimeWidth;
  const visible = Math.ceil((l.height + l.offset) / l.rowHeight) + 1;
  let drawn = 0;
  for (let r = l.firstRow; r < Math.min(rows.length, l.firstRow + visible); r++) {
    const row = rows[r];
    const y = (r - l.firstRow) * l.rowHeight - l.offset;
    const barTop = y + 2;
    const barHeight = l.rowHeight - 4;
    ctx.fillStyle = p.text;
    ctx.textAlign = 'left';
    ctx.fillText(fitText(ctx, row.name, l.nameWidth - 8), 4, y + l.rowHeight / 2);

    ctx.fillStyle = p.states[State.NoData];
    ctx.fillRect(barLeft, barTop, barRight - barLeft, barHeight);
    const width = bucketWidth(row.times);
    let i = 0;
    while (i < row.times.length) {
      const state = row.states[i] as State;
      let j = i + 1;
      while (j < row.times.length && row.states[j] === state) {
        j++;
      }
      if (state !== State.NoData) {
        const end = j < row.times.length ? row.times[j] : row.times[j - 1] + width;
        const x0 = Math.max(barLeft, xOf(row.times[i], l));
        const x1 = Math.min(barRight, xOf(end, l));
        if (x1 > x0) {
          ctx.fillStyle = p.states[state];
          ctx.fillRect(x0, barTop, Math.max(1, x1 - x0), barHeight);
          drawn++;
        }
      }
      i = j;
    }

    if (l.showIncidents) {
      ctx.fillStyle = p.incident;
      for (const inc of row.incidents) {
        const x0 = xOf(inc.start, l);
        const x1 = Number.isNaN(inc.end) ? barRight : xOf(inc.end, l);
        if (x1 < barLeft || x0 > barRight) {
          continue;
        }
        const cx = Math.max(barLeft, Math.min(barRight, x0));
        ctx.fillRect(cx, y + l.rowHeight - 3, Math.max(2, Math.min(barRight, x1) - cx), 2);
        ctx.beginPath();
        ctx.moveTo(cx - 4, barTop);
        ctx.lineTo(cx + 4, barTop);
        ctx.lineTo(cx, barTop + 6);
        ctx.closePath();
        ctx.fill();
      }
    }

    if (l.uptimeWidth > 0) {
      ctx.fillStyle = row.uptime < 0.99 ? p.incident : p.weakText;
      ctx.textAlign = 'right';
      ctx.fillText(formatUptime(row.uptime), l.width - 4, y + l.rowHeight / 2);
    }
  }
  return drawn;
}
