/**
 * A profile table as one self-contained HTML page (inline SVG, no external assets): throughput
 * against partition with one line per quota (at the largest measured batch), and p99 latency
 * against batch with one line per quota (at the full partition). Measured points are filled
 * dots, fitted ones hollow.
 */
import { escapeXml as esc } from '../core/html/escape.ts';
import type { ProfileEntry } from '../core/profiles/profile-table.ts';
import type { TableRecord } from './profile-store.ts';

const W = 560;
const H = 320;
const M = { l: 60, r: 110, t: 30, b: 44 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

interface Series {
  label: string;
  points: Array<{ x: number; y: number; measured: boolean }>;
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  const y1 = Math.max(...ys, 1e-9) * 1.1;
  const px = (x: number) => M.l + ((x - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const py = (y: number) => H - M.b - (y / y1) * (H - M.t - M.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  ];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  parts.push(
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const y = (y1 * i) / 4;
    parts.push(
      `<line x1="${M.l}" y1="${py(y)}" x2="${W - M.r}" y2="${py(y)}" stroke="#eee"/><text x="${M.l - 6}" y="${py(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b))
    parts.push(`<text x="${px(x)}" y="${H - M.b + 16}" text-anchor="middle">${fmt(x)}</text>`);
  parts.push(`<text x="${(M.l + W - M.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    parts.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of pts)
      parts.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" stroke="${c}" stroke-width="1.5" fill="${p.measured ? c : '#fff'}"><title>${esc(s.label)}: ${fmt(p.x)} → ${fmt(p.y)}${p.measured ? '' : ' (fitted)'}</title></circle>`,
      );
    const ly = M.t + 10 + i * 16;
    parts.push(
      `<line x1="${W - M.r + 10}" y1="${ly}" x2="${W - M.r + 28}" y2="${ly}" stroke="${c}" stroke-width="2"/><text x="${W - M.r + 32}" y="${ly + 4}">${esc(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function byQuota(entries: ProfileEntry[], x: (e: ProfileEntry) => number, y: (e: ProfileEntry) => number): Series[] {
  const quotas = [...new Set(entries.map((e) => e.quota))].sort((a, b) => a - b);
  return quotas.map((q) => ({
    label: `quota ${q}`,
    points: entries.filter((e) => e.quota === q).map((e) => ({ x: x(e), y: y(e), measured: e.source === 'measured' })),
  }));
}

export function chartSvgs(t: TableRecord): { throughput: string; latency: string } {
  const measured = t.entries.filter((e) => e.source === 'measured');
  const batch = Math.max(...(measured.length ? measured : t.entries).map((e) => e.batch));
  const partition = Math.max(...t.entries.map((e) => e.partitionPercent));
  return {
    throughput: lineChart(
      `Throughput vs partition (batch ${batch})`,
      'partition (%)',
      'requests/s at SLO',
      byQuota(
        t.entries.filter((e) => e.batch === batch),
        (e) => e.partitionPercent,
        (e) => e.rps,
      ),
    ),
    latency: lineChart(
      `p99 latency vs batch (partition ${partition} %)`,
      'batch',
      'p99 latency (ms)',
      byQuota(
        t.entries.filter((e) => e.partitionPercent === partition),
        (e) => e.batch,
        (e) => e.latencyMs.p99,
      ),
    ),
  };
}

export function chartPage(t: TableRecord): string {
  const { throughput, latency } = chartSvgs(t);
  const measured = t.entries.filter((e) => e.source === 'measured').length;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Profile: ${esc(t.function)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:0 24px 24px 0}p{color:#555}</style></head><body>
<h1>${esc(t.function)}.${esc(t.namespace)} on ${esc(t.deviceClass)}</h1>
<p>model version ${esc(t.modelVersion)} · ${esc(t.origin)} · ${measured} measured and ${t.entries.length - measured} fitted configurations${t.sloMs ? ` · SLO ${t.sloMs} ms` : ''} · filled dots measured, hollow fitted</p>
<figure>${throughput}</figure><figure>${latency}</figure></body></html>`;
}
