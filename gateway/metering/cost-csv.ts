/** A cost report as CSV: one row per tenant, function and period (RFC 4180 quoting). */
import type { CostReport } from './cost-report.ts';
import { csvField } from '../../core/text/csv.ts';

const COLUMNS = [
  'start',
  'tenant',
  'namespace',
  'function',
  'invocations',
  'errors',
  'slo_met',
  'slo_violated',
  'device_seconds',
  'reserved_device_seconds',
  'gb_seconds',
  'cost_device',
  'cost_memory',
  'cost_invocations',
  'cost',
  'currency',
  'model',
];

const cell = (v: string | number) => csvField(String(v));

export function costReportCsv(r: CostReport): string {
  const lines = [COLUMNS.join(',')];
  for (const t of r.tenants) {
    for (const p of t.series) {
      lines.push(
        [
          p.start,
          t.tenant,
          p.namespace,
          p.name,
          p.invocations,
          p.errorCount,
          p.sloMet,
          p.sloViolated,
          p.deviceSeconds,
          p.reservedDeviceSeconds,
          p.gbSeconds,
          p.costDevice,
          p.costMemory,
          p.costInvocations,
          p.cost,
          r.currency,
          r.model,
        ]
          .map(cell)
          .join(','),
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}
