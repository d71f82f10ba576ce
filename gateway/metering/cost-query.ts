/** The query of a cost report: `tenant`, `from`, `to`, `granularity`, `model`, checked. */
import { PlatformError } from '../../core/errors.ts';
import { DAY_MS, GRANULARITY_MS, floorTo, type Granularity } from './usage-fields.ts';
import { parsePricingModel, type PricingModel } from './pricing.ts';

export interface CostQuery {
  /** undefined: every tenant (admin only). */
  tenant?: string;
  from: Date;
  to: Date;
  granularity: Granularity;
  model: PricingModel;
}

const MAX_BUCKETS = 20_000;

function parseTime(raw: string, field: string): Date {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(raw)
    ? new Date(`${raw}T00:00:00Z`)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)
      ? new Date(raw)
      : new Date(NaN);
  if (Number.isNaN(t.getTime()))
    throw new PlatformError(
      'bad_request',
      `query parameter "${field}" must be a date (2024-01-02) or an RFC 3339 time (2024-01-02T15:04:05Z), got "${raw}"`,
      { details: { field } },
    );
  return t;
}

export function parseCostQuery(q: Record<string, string | undefined>, nowMs: number): CostQuery {
  const g = q.granularity || 'hour';
  if (!(g in GRANULARITY_MS))
    throw new PlatformError('bad_request', `query parameter "granularity" must be minute, hour or day, got "${g}"`, {
      details: { field: 'granularity' },
    });
  const granularity = g as Granularity;
  const step = GRANULARITY_MS[granularity];
  const to = q.to ? parseTime(q.to, 'to') : new Date(floorTo(nowMs, step) + step);
  const from = q.from ? parseTime(q.from, 'from') : new Date(to.getTime() - DAY_MS);
  if (from.getTime() >= to.getTime())
    throw new PlatformError('bad_request', `"from" (${from.toISOString()}) must be before "to" (${to.toISOString()})`, {
      details: { field: 'from' },
    });
  const buckets = Math.ceil((to.getTime() - floorTo(from.getTime(), step)) / step);
  if (buckets > MAX_BUCKETS)
    throw new PlatformError(
      'bad_request',
      `${buckets} ${granularity} periods between from and to; at most ${MAX_BUCKETS}: choose a coarser granularity or a shorter range`,
      { details: { field: 'granularity' } },
    );
  const tenant = q.tenant || undefined;
  return { tenant, from, to, granularity, model: parsePricingModel(q.model) };
}
