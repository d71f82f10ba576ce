/**
 * A stacked bar chart as inline SVG (no scripts, no external assets): one bar per period, one
 * colour per series, a y axis with round ticks, the first, middle and last period labelled,
 * and a <title> on every segment so a browser shows the exact value on hover.
 */
import { escapeXml } from './escape.ts';

export interface StackedBars {
  title: string;
  unit: string;
  /** Period labels, in order. */
  periods: string[];
  series: Array<{ label: string; values: number[] }>;
}

export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (v: number) =>
  v === 0
    ? '0'
    : Math.abs(v) >= 1000
      ? v.toFixed(0)
      : Math.abs(v) >= 1
        ? String(Number(v.toPrecision(4)))
        : String(Number(v.toPrecision(3)));

export function stackedBarsSvg(c: StackedBars, width = 760, height = 260): string {
  const m = { left: 70, right: 16, top: 28, bottom: 40 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const sums = c.periods.map((_, i) => c.series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...sums));
  const n = Math.max(1, c.periods.length);
  const slot = w / n;
  const bw = Math.max(1, slot * 0.8);
  const y = (v: number) => m.top + h - (v / max) * h;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(c.title)}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<text x="${m.left}" y="16" font-size="13" font-weight="bold">${escapeXml(c.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(
      `<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
    );
    parts.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  parts.push(
    `<text x="14" y="${m.top + h / 2}" transform="rotate(-90 14 ${m.top + h / 2})" text-anchor="middle">${escapeXml(c.unit)}</text>`,
  );
  c.periods.forEach((p, i) => {
    let base = 0;
    const x = m.left + i * slot + (slot - bw) / 2;
    c.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const top = y(base + v);
      const hh = y(base) - top;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(0.5, hh).toFixed(1)}" fill="${PALETTE[j % PALETTE.length]}"><title>${escapeXml(`${s.label} @ ${p}: ${fmt(v)} ${c.unit}`)}</title></rect>`,
      );
      base += v;
    });
  });
  parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#333"/>`);
  const labelled = [...new Set([0, Math.floor((c.periods.length - 1) / 2), c.periods.length - 1])].filter(
    (i) => i >= 0 && i < c.periods.length,
  );
  for (const i of labelled) {
    const x = m.left + i * slot + slot / 2;
    const anchor =
      labelled.length > 1 && i === 0 ? 'start' : i === c.periods.length - 1 && labelled.length > 1 ? 'end' : 'middle';
    parts.push(
      `<text x="${(anchor === 'start' ? m.left : anchor === 'end' ? m.left + w : x).toFixed(1)}" y="${m.top + h + 16}" text-anchor="${anchor}">${escapeXml(c.periods[i]!)}</text>`,
    );
  }
  if (c.periods.length === 0)
    parts.push(
      `<text x="${m.left + w / 2}" y="${m.top + h / 2}" text-anchor="middle" fill="#888">no usage in this range</text>`,
    );
  parts.push('</svg>');
  return parts.join('');
}
