/** The simulator's results as a markdown table and as an SVG chart (devices in use over time + SLO attainment). */
import { escapeXml as esc } from '../../core/html/escape.ts';
import { markdownTable } from '../../core/text/markdown-table.ts';
import type { SimResult } from './simulator.ts';

export function resultsTable(results: readonly SimResult[]): string {
  return markdownTable(
    [
      'policy',
      'devices mean',
      'devices max',
      'SLO attainment',
      'throughput rps',
      'goodput rps',
      'utilisation',
      'p99 ms',
      'unplaced (max)',
      'cold starts',
      'resized in place',
    ],
    results.map((r) => [
      r.policy,
      r.devicesMean,
      r.devicesMax,
      `${(r.sloAttainment * 100).toFixed(2)} %`,
      r.throughputRps,
      r.goodputRps,
      `${(r.utilisation * 100).toFixed(1)} %`,
      r.p99Ms,
      r.unplacedMax,
      String(r.coldStarts),
      String(r.resizes),
    ]),
  );
}

const COLORS = [
  '#d62728',
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];

/** Two panels: devices in use over time per policy (step lines) and SLO attainment per policy (bars). */
export function resultsSvg(results: readonly SimResult[], title: string): string {
  const W = 940;
  const H = 620;
  const L = 60;
  const R = 240;
  const top = { y: 50, h: 300 };
  const bottom = { y: 420, h: 150 };
  const maxT = Math.max(1, ...results.map((r) => r.durationS));
  const maxD = Math.max(1, ...results.flatMap((r) => r.timeline.map((p) => p.devicesUsed)));
  const x = (t: number) => L + ((W - L - R) * t) / maxT;
  const y = (d: number) => top.y + top.h - (top.h * d) / maxD;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>`);
  // Axes and grid of the devices panel.
  out.push(`<text x="${L}" y="${top.y - 8}">devices in use</text>`);
  for (let d = 0; d <= maxD; d += Math.max(1, Math.ceil(maxD / 8))) {
    out.push(
      `<line x1="${L}" y1="${y(d)}" x2="${W - R}" y2="${y(d)}" stroke="#eee"/><text x="${L - 6}" y="${y(d) + 4}" text-anchor="end">${d}</text>`,
    );
  }
  const tStep = Math.max(1, Math.round(maxT / 6 / 10) * 10);
  for (let t = 0; t <= maxT; t += tStep)
    out.push(`<text x="${x(t)}" y="${top.y + top.h + 16}" text-anchor="middle">${t}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${top.y + top.h + 32}" text-anchor="middle">time (s)</text>`);
  out.push(
    `<line x1="${L}" y1="${top.y + top.h}" x2="${W - R}" y2="${top.y + top.h}" stroke="black"/><line x1="${L}" y1="${top.y}" x2="${L}" y2="${top.y + top.h}" stroke="black"/>`,
  );
  results.forEach((r, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts: string[] = [];
    r.timeline.forEach((p, j) => {
      const next = j + 1 < r.timeline.length ? r.timeline[j + 1]!.tS : r.durationS;
      const off = (i - results.length / 2) * 0.04;
      pts.push(
        `${x(p.tS).toFixed(1)},${y(p.devicesUsed + off).toFixed(1)}`,
        `${x(next).toFixed(1)},${y(p.devicesUsed + off).toFixed(1)}`,
      );
    });
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="${i === 0 ? 3 : 1.6}" points="${pts.join(' ')}"/>`);
    out.push(
      `<rect x="${W - R + 16}" y="${top.y + i * 20}" width="14" height="4" fill="${c}"/><text x="${W - R + 36}" y="${top.y + i * 20 + 6}">${esc(r.policy)} (${r.devicesMean.toFixed(1)})</text>`,
    );
  });
  // SLO attainment bars.
  out.push(`<text x="${L}" y="${bottom.y - 22}">SLO attainment (%)</text>`);
  const bw = (W - L - R) / Math.max(1, results.length);
  out.push(`<line x1="${L}" y1="${bottom.y + bottom.h}" x2="${W - R}" y2="${bottom.y + bottom.h}" stroke="black"/>`);
  for (const v of [0, 50, 100])
    out.push(`<text x="${L - 6}" y="${bottom.y + bottom.h - (bottom.h * v) / 100 + 4}" text-anchor="end">${v}</text>`);
  results.forEach((r, i) => {
    const c = COLORS[i % COLORS.length]!;
    const h = bottom.h * r.sloAttainment;
    const bx = L + i * bw + bw * 0.15;
    out.push(
      `<rect x="${bx.toFixed(1)}" y="${(bottom.y + bottom.h - h).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${c}"/>`,
    );
    out.push(
      `<text x="${(bx + bw * 0.35).toFixed(1)}" y="${(bottom.y + bottom.h - h - 4).toFixed(1)}" text-anchor="middle">${(r.sloAttainment * 100).toFixed(1)}</text>`,
    );
    out.push(
      `<text x="${(bx + bw * 0.35).toFixed(1)}" y="${bottom.y + bottom.h + 14 + (i % 2) * 13}" text-anchor="middle" font-size="10">${esc(r.policy)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
