/**
 * What usage costs, in integer micro-units of the currency so that sums of rows, tenants and
 * the platform agree exactly. Two models:
 *   use       device-seconds used × device-hour price / 3600
 *   reserved  share reserved (device-seconds) × device-hour price / 3600
 * both plus GB-seconds × GB-hour price / 3600 and invocations × price per million / 1e6.
 */
import type { PriceRates, PricingConfig } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';
import { isDeviceKind } from '../../core/contracts/devices.ts';
import type { UsageFields } from './usage-fields.ts';

export type { PricingModel } from '../../core/contracts/cost.ts';
import type { PricingModel } from '../../core/contracts/cost.ts';

export interface CostMicros {
  device: number;
  memory: number;
  invocations: number;
  total: number;
}

export function parsePricingModel(raw: string | undefined): PricingModel {
  if (raw === undefined || raw === '' || raw === 'use') return 'use';
  if (raw === 'reserved') return 'reserved';
  throw new PlatformError(
    'bad_request',
    `query parameter "model" must be "use" (pay-per-use) or "reserved", got "${raw}"`,
    { details: { field: 'model' } },
  );
}

/** The rates of usage on device kind `device` (the pricing's own, else its default). */
export function ratesFor(pricing: PricingConfig, device: string): PriceRates {
  return (isDeviceKind(device) ? pricing.devices[device] : undefined) ?? pricing.default;
}

export function costMicros(u: UsageFields, rates: PriceRates, model: PricingModel): CostMicros {
  const deviceSeconds = model === 'use' ? u.deviceSeconds : u.reservedDeviceSeconds;
  const device = Math.round((deviceSeconds * rates.deviceHour * 1e6) / 3600);
  const memory = Math.round((u.gbSeconds * rates.gbHour * 1e6) / 3600);
  const invocations = Math.round(u.invocations * rates.millionInvocations);
  return { device, memory, invocations, total: device + memory + invocations };
}

export const fromMicros = (m: number): number => m / 1e6;
