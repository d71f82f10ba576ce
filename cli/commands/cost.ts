/**
 * `cost [--tenant T] [--from] [--to] [--granularity] [--model] [--csv | --html FILE | --by-period]`:
 * the gateway's cost report as a terminal table (per tenant and function, then the platform
 * total), as CSV, or saved as the HTML page with charts. A tenant's login sees only itself.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { table } from '../format.ts';
import { callSystem } from './tenant.ts';
import type { CostLine, CostReport } from '../../core/contracts/cost.ts';

type Line = CostLine;
type Report = CostReport;

const n = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
const slo = (l: Line) =>
  l.sloMet + l.sloViolated > 0 ? `${((100 * l.sloMet) / (l.sloMet + l.sloViolated)).toFixed(1)}%` : '-';
const money = (v: number) => v.toFixed(6);

export function formatCostTable(r: Report, byPeriod = false): string {
  const rows: string[][] = [];
  const cells = (l: Line) => [
    n(l.invocations),
    n(l.errorCount),
    slo(l),
    n(l.deviceSeconds),
    n(l.reservedDeviceSeconds),
    n(l.gbSeconds),
    money(l.cost),
  ];
  const period = (p: string) => (byPeriod ? [p] : []);
  for (const t of r.tenants) {
    if (byPeriod) for (const p of t.series) rows.push([t.tenant, `${p.name}.${p.namespace}`, p.start, ...cells(p)]);
    else for (const f of t.functions) rows.push([t.tenant, `${f.name}.${f.namespace}`, ...cells(f.totals)]);
    rows.push([t.tenant, '(total)', ...period(''), ...cells(t.totals)]);
  }
  rows.push(['PLATFORM', '(total)', ...period(''), ...cells(r.total)]);
  const head = `Cost ${r.from} .. ${r.to}, per ${r.granularity}, ${r.model === 'use' ? 'pay-per-use' : 'reserved'}, ${r.currency}\n`;
  return (
    head +
    table(
      [
        'TENANT',
        'FUNCTION',
        ...period('PERIOD'),
        'INVOCATIONS',
        'ERRORS',
        'SLO MET',
        'DEVICE-S',
        'RESERVED-S',
        'GB-S',
        `COST (${r.currency})`,
      ],
      rows,
    )
  );
}

export function registerCost(program: Command, ctx: CommandContext): void {
  gatewayOptions(
    program
      .command('cost')
      .description('cost report per tenant and function (admin: every tenant; a tenant: itself)')
      .option('-t, --tenant <name>', 'one tenant only')
      .option('--from <time>', 'start (2024-01-02 or RFC 3339; default: 24 h before --to)')
      .option('--to <time>', 'end, exclusive (default: now)')
      .option('--granularity <g>', 'minute, hour or day (default hour)')
      .option('--model <m>', 'use (pay-per-use, default) or reserved')
      .option('--by-period', 'one row per period instead of per function')
      .option('--csv', 'print CSV')
      .option('--html <file>', 'save the HTML report with charts to FILE'),
  ).action(
    async (
      o: GatewayOptions & {
        tenant?: string;
        from?: string;
        to?: string;
        granularity?: string;
        model?: string;
        byPeriod?: boolean;
        csv?: boolean;
        html?: string;
      },
    ) => {
      const query = { tenant: o.tenant, from: o.from, to: o.to, granularity: o.granularity, model: o.model };
      if (o.html) {
        const res = await callSystem(ctx, o, 'GET', '/system/cost/report', { query, accept: 'text/html' });
        const file = resolve(ctx.cli.cwd, o.html);
        await writeFile(file, await res.text());
        ctx.io.stdout.write(`Report saved: ${file}\n`);
        return;
      }
      if (o.csv) {
        ctx.io.stdout.write(
          await (
            await callSystem(ctx, o, 'GET', '/system/cost', { query: { ...query, format: 'csv' }, accept: 'text/csv' })
          ).text(),
        );
        return;
      }
      const report = (await (await callSystem(ctx, o, 'GET', '/system/cost', { query })).json()) as Report;
      ctx.io.stdout.write(formatCostTable(report, o.byPeriod));
    },
  );
}
