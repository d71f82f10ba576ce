/**
 * The cost report as one self-contained HTML page: per tenant, its totals, a table by function
 * and two charts over time by function (cost, and device-seconds used or reserved per the
 * pricing model). Inline CSS and SVG only, so it reads the same offline.
 */
import type { CostLine, CostReport, TenantCost } from './cost-report.ts';
import { escapeXml } from '../../core/html/escape.ts';
import { PALETTE, stackedBarsSvg } from '../../core/html/svg-chart.ts';
import { GRANULARITY_MS, floorTo } from './usage-fields.ts';

const money = (v: number, currency: string) =>
  `${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 6 : 2)} ${escapeXml(currency)}`;
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));

function periodsOf(r: CostReport): number[] {
  const step = GRANULARITY_MS[r.granularity];
  const out: number[] = [];
  for (let t = floorTo(Date.parse(r.from), step); t < Date.parse(r.to) && out.length < 2000; t += step) out.push(t);
  return out;
}

function label(ms: number, g: CostReport['granularity']): string {
  const iso = new Date(ms).toISOString();
  return g === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function charts(r: CostReport, t: TenantCost): string {
  // the periods that hold usage, plus the range's ends, keep the charts readable over long ranges
  const all = periodsOf(r);
  const used = new Set(t.series.map((p) => Date.parse(p.start)));
  const periods = all.length <= 120 ? all : all.filter((p, i) => used.has(p) || i === 0 || i === all.length - 1);
  const fns = t.functions.map((f) => `${f.name}.${f.namespace}`);
  const series = (pick: (p: CostLine) => number) =>
    fns.map((fn) => ({
      label: fn,
      values: periods.map((p) =>
        t.series
          .filter((s) => Date.parse(s.start) === p && `${s.name}.${s.namespace}` === fn)
          .reduce((a, s) => a + pick(s), 0),
      ),
    }));
  const labels = periods.map((p) => label(p, r.granularity));
  const deviceField = r.model === 'use' ? 'deviceSeconds' : 'reservedDeviceSeconds';
  const legend = fns
    .map(
      (fn, i) => `<span class="key"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeXml(fn)}</span>`,
    )
    .join(' ');
  return [
    `<div class="legend">${legend || 'no functions metered in this range'}</div>`,
    stackedBarsSvg({
      title: `Cost per ${r.granularity} (${r.currency}, ${r.model === 'use' ? 'pay-per-use' : 'reserved'})`,
      unit: r.currency,
      periods: labels,
      series: series((p) => p.cost),
    }),
    stackedBarsSvg({
      title: `Device-seconds ${r.model === 'use' ? 'used' : 'reserved'} per ${r.granularity}`,
      unit: 'device-s',
      periods: labels,
      series: series((p) => p[deviceField]),
    }),
    stackedBarsSvg({
      title: `Invocations per ${r.granularity}`,
      unit: 'calls',
      periods: labels,
      series: series((p) => p.invocations),
    }),
  ].join('\n');
}

function row(name: string, l: CostLine, currency: string, strong = false): string {
  const td = (s: string) => (strong ? `<th>${s}</th>` : `<td>${s}</td>`);
  const slo = l.sloMet + l.sloViolated > 0 ? `${((100 * l.sloMet) / (l.sloMet + l.sloViolated)).toFixed(1)}%` : '–';
  return `<tr>${strong ? `<th class="l">${escapeXml(name)}</th>` : `<td class="l">${escapeXml(name)}</td>`}${[num(l.invocations), num(l.errorCount), slo, num(l.deviceSeconds), num(l.reservedDeviceSeconds), num(l.gbSeconds), money(l.cost, currency)].map(td).join('')}</tr>`;
}

const HEAD =
  '<tr><th class="l">function</th><th>invocations</th><th>errors</th><th>SLO met</th><th>device-s used</th><th>device-s reserved</th><th>GB-s</th><th>cost</th></tr>';

export function costReportHtml(r: CostReport): string {
  const sections = r.tenants.map(
    (t) => `<section><h2>Tenant ${escapeXml(t.tenant)} <small>${escapeXml(t.namespaces.join(', '))}</small></h2>
<p class="total">Total: <b>${money(t.totals.cost, r.currency)}</b> · ${num(t.totals.invocations)} invocations</p>
<table>${HEAD}${t.functions.map((f) => row(`${f.name}.${f.namespace}`, f.totals, r.currency)).join('')}${row('total', t.totals, r.currency, true)}</table>
${charts(r, t)}</section>`,
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fastgshare cost report</title><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:820px}h1{font-size:20px}h2{font-size:16px;border-top:1px solid #ccc;padding-top:12px}small{color:#666;font-weight:normal}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}td,th{padding:3px 8px;text-align:right;border-bottom:1px solid #eee}.l{text-align:left}
.legend{font-size:12px;margin:6px 0}.key{margin-right:12px;white-space:nowrap}.key i{display:inline-block;width:10px;height:10px;margin-right:4px}svg{display:block;margin:6px 0 14px}</style></head>
<body><h1>Cost report</h1><p>${escapeXml(r.from)} – ${escapeXml(r.to)} · per ${r.granularity} · ${r.model === 'use' ? 'pay-per-use (device-seconds used)' : 'reserved (share reserved)'} · platform total <b>${money(r.total.cost, r.currency)}</b></p>
${sections.join('\n') || '<p>No tenants in this report.</p>'}
</body></html>`;
}
