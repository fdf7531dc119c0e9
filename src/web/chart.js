// Time series charts (uPlot, served from node_modules): one component that takes bucket times and
// named value arrays from the /api/series/* answers, adds projected lines and time markers (resets,
// run-out), follows the container's width and the page's light/dark colours.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api, html, useLive } from './lib.js';

/** A CSS custom property of the page (so charts follow light and dark like everything else). */
function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export const PALETTE = ['--accent', '--limit', '--warn', '--err', '--ok', '--focus', '--off'];
export const colour = (i) => cssVar(PALETTE[i % PALETTE.length], '#0f766e');

/**
 * Merges bucket series and projected lines (their own x values) into uPlot's one-x-array data.
 * series: [{label, values}] aligned with t (ms); lines: [{label, points: [[ms, v], …]}].
 */
export function alignSeries(t, series, lines = []) {
  const xs = new Set(t);
  for (const l of lines) for (const [x] of l.points) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const at = new Map(x.map((v, i) => [v, i]));
  const cols = series.map((s) => {
    const col = new Array(x.length).fill(null);
    t.forEach((ts, i) => {
      col[at.get(ts)] = s.values[i] ?? null;
    });
    return col;
  });
  const lineCols = lines.map((l) => {
    const col = new Array(x.length).fill(null);
    for (const [ts, v] of l.points) col[at.get(ts)] = v;
    return col;
  });
  return [x.map((v) => v / 1000), ...cols, ...lineCols];
}

/** Counts points with a value: what the browser tests check. */
function pointCount(data) {
  let n = 0;
  for (let i = 1; i < data.length; i++) for (const v of data[i]) if (v != null) n++;
  return n;
}

/**
 * series: [{label, values, colour?, fill?}]; lines: [{label, points, colour?}] drawn dashed;
 * markers: [{at (ms), label, kind: 'reset' | 'runout'}] drawn as vertical lines.
 */
export function TimeChart({
  title,
  t,
  series,
  lines = [],
  markers = [],
  yLabel = '',
  yRange,
  height = 220,
  testid,
  format,
}) {
  const box = useRef(null);
  const plot = useRef(null);
  const data = alignSeries(t ?? [], series, lines);
  const points = pointCount(data);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssVar('--muted', '#5b6775');
    const grid = cssVar('--border', '#dde3e9');
    const value = (u, v) => (v == null ? '—' : format ? format(v) : String(Math.round(v * 10) / 10));
    const opts = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: yRange ? { range: () => yRange } : { auto: true } },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          label: yLabel,
          size: 56,
          values: (u, vs) => vs.map((v) => value(u, v)),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.colour ?? colour(i),
          width: 2,
          spanGaps: true,
          points: { show: (u) => u.data[0].length < 80 },
          value,
        })),
        ...lines.map((l, i) => ({
          label: l.label,
          stroke: l.colour ?? colour(i),
          width: 2,
          dash: [6, 4],
          spanGaps: true,
          points: { show: true, size: 5 },
          value,
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            for (const m of markers) {
              const x = Math.round(u.valToPos(m.at / 1000, 'x', true));
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.save();
              ctx.strokeStyle = m.kind === 'runout' ? cssVar('--err', '#b91c1c') : cssVar('--off', '#64748b');
              ctx.setLineDash(m.kind === 'runout' ? [2, 3] : [4, 4]);
              ctx.lineWidth = 1.5;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.restore();
            }
          },
        ],
      },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [JSON.stringify(data), JSON.stringify(markers), height]);
  const marks = markers.filter((m) => m.label);
  return html`<figure class="chart" data-testid=${testid} data-points=${points}>
    <figcaption>${title}</figcaption>
    ${points === 0 ? html`<p class="muted small chart-empty">No data in this range yet.</p>` : null}
    <div class="chart-plot" ref=${box} role="img" aria-label=${`${title}: chart with ${points} data points`}></div>
    ${marks.length ? html`<ul class="chart-marks">${marks.map((m) => html`<li class=${`mark-${m.kind}`}>${m.label}</li>`)}</ul>` : null}
  </figure>`;
}

export const RANGES = ['1h', '6h', '24h', '7d', '30d'];

/** Range buttons shared by the chart panels. */
export function RangePicker({ value, onChange, label = 'Range' }) {
  return html`<div class="range-picker" role="group" aria-label=${label}>
    ${RANGES.map(
      (
        r,
      ) => html`<button type="button" class=${`btn small ${r === value ? 'primary' : 'ghost'}`} aria-pressed=${r === value}
        onClick=${() => onChange(r)}>${r}</button>`,
    )}
  </div>`;
}

/** Loads a series path; re-loads on the given live events (coalesced to one request per 2 s). */
export function useSeries(path, liveTypes = []) {
  const [state, setState] = useState({ data: null, error: null });
  const [tick, setTick] = useState(0);
  const timer = useRef(null);
  useEffect(() => {
    if (!path) return;
    let gone = false;
    api(path).then(
      (data) => !gone && setState({ data, error: null }),
      (error) => !gone && setState((s) => ({ data: s.data, error })),
    );
    return () => {
      gone = true;
    };
  }, [path, tick]);
  useLive(liveTypes, () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      setTick((n) => n + 1);
    }, 2000);
  });
  useEffect(() => () => clearTimeout(timer.current), []);
  return state;
}
