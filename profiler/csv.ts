/** A profile table as CSV: one row per configuration, measured or fitted. */
import { csvField } from '../core/text/csv.ts';
import type { TableRecord } from './profile-store.ts';

export const CSV_COLUMNS = [
  'function',
  'model_version',
  'device_class',
  'partition_percent',
  'quota',
  'batch',
  'rps',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'memory_bytes',
  'source',
];

const cell = (v: string | number) => csvField(typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : v);

export function tableCsv(t: TableRecord): string {
  const rows = t.entries.map((e) =>
    [
      t.function,
      t.modelVersion,
      t.deviceClass,
      e.partitionPercent,
      e.quota,
      e.batch,
      e.rps,
      e.latencyMs.p50,
      e.latencyMs.p95,
      e.latencyMs.p99,
      e.memoryBytes,
      e.source,
    ]
      .map(cell)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}
