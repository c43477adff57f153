// Small SVG charts (no library): a line chart per metric across iterations and grouped bars for
// dataset sizes. Each has a text alternative listing its values.
import { s } from './dom';
import { compact, num } from './format';

export interface Point {
  label: string;
  value: number | null;
}

const W = 340;
const H = 190;
const M = { top: 30, right: 14, bottom: 34, left: 42 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function axes(yMax: number, fmt: (v: number) => string): SVGElement[] {
  const out: SVGElement[] = [];
  const ih = H - M.top - M.bottom;
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    const y = M.top + ih - (ih * i) / 4;
    out.push(s('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: y, y2: y }));
    out.push(s('text', { class: 'tick', x: M.left - 6, y: y + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  return out;
}

export function lineChart(
  title: string,
  points: Point[],
  opts: { yMax?: number; percent?: boolean } = {},
): SVGSVGElement {
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const yMax = opts.yMax ?? niceMax(Math.max(0, ...values) * 1.1);
  const fmt = (v: number) => (opts.percent ? `${Math.round(v * 100)}%` : num(v));
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const x = (i: number) => M.left + (points.length <= 1 ? iw / 2 : (iw * i) / (points.length - 1));
  const y = (v: number) => M.top + ih - (ih * Math.min(v, yMax)) / yMax;
  const line = points
    .map((p, i) => (p.value === null ? null : `${x(i)},${y(p.value)}`))
    .filter((p): p is string => p !== null)
    .join(' ');
  const alt = `${title}: ${points.map((p) => `${p.label} ${p.value === null ? 'n/a' : fmt(p.value)}`).join(', ')}`;
  return s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': alt },
    s('title', null, alt),
    s('text', { class: 'chart-title', x: 8, y: 16 }, title),
    axes(yMax, fmt),
    s('polyline', { class: 'series', points: line }),
    points.map((p, i) =>
      p.value === null
        ? null
        : s(
            'g',
            null,
            s('circle', { class: 'series-dot', cx: x(i), cy: y(p.value), r: 4 }),
            s(
              'text',
              // Below the point when it sits at the top of the chart (the title is there).
              {
                class: 'value',
                x: x(i),
                y: y(p.value) < M.top + 14 ? y(p.value) + 15 : y(p.value) - 8,
                'text-anchor': 'middle',
              },
              fmt(p.value),
            ),
          ),
    ),
    points.map((p, i) =>
      s('text', { class: 'tick', x: x(i), y: H - M.bottom + 16, 'text-anchor': 'middle' }, p.label),
    ),
  );
}

export interface BarGroup {
  label: string;
  values: { name: string; value: number; cls: string }[];
}

export function barChart(title: string, groups: BarGroup[]): SVGSVGElement {
  const width = Math.max(W, M.left + M.right + groups.length * 56);
  const all = groups.flatMap((g) => g.values.map((v) => v.value));
  const yMax = niceMax(Math.max(1, ...all) * 1.1);
  const iw = width - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const slot = groups.length ? iw / groups.length : iw;
  const alt = `${title}: ${groups.map((g) => `${g.label} ${g.values.map((v) => `${v.name} ${v.value}`).join(' ')}`).join('; ')}`;
  return s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${width} ${H}`, role: 'img', 'aria-label': alt },
    s('title', null, alt),
    s('text', { class: 'chart-title', x: 8, y: 16 }, title),
    axes(yMax, (v) => (v >= 1000 ? compact(v) : num(v, 1))),
    groups.map((g, gi) => {
      const bw = Math.min(22, (slot * 0.8) / Math.max(1, g.values.length));
      const x0 = M.left + gi * slot + (slot - bw * g.values.length) / 2;
      return s(
        'g',
        null,
        g.values.map((v, vi) => {
          const h = (ih * v.value) / yMax;
          return s(
            'rect',
            {
              class: `chart-bar ${v.cls}`,
              x: x0 + vi * bw,
              y: M.top + ih - h,
              width: bw - 2,
              height: Math.max(0, h),
            },
            s('title', null, `${g.label} ${v.name}: ${v.value}`),
          );
        }),
        s(
          'text',
          { class: 'tick', x: M.left + gi * slot + slot / 2, y: H - M.bottom + 16, 'text-anchor': 'middle' },
          g.label,
        ),
      );
    }),
  );
}
