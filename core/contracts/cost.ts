/**
 * The cost report's wire types (`GET /system/cost`), shared by the gateway that builds it and
 * the CLI that prints it.
 */

/** The metered quantities of one function in one period. */
export interface UsageFields {
  invocations: number;
  errorCount: number;
  sloMet: number;
  sloViolated: number;
  deviceSeconds: number;
  reservedDeviceSeconds: number;
  gbSeconds: number;
}

export type Granularity = 'minute' | 'hour' | 'day';

/** Pay-per-use (device-seconds used) or reserved (share reserved). */
export type PricingModel = 'use' | 'reserved';

export interface CostLine extends UsageFields {
  cost: number;
  costDevice: number;
  costMemory: number;
  costInvocations: number;
}

export interface SeriesPoint extends CostLine {
  start: string;
  namespace: string;
  name: string;
}

export interface TenantCost {
  tenant: string;
  namespaces: string[];
  totals: CostLine;
  functions: Array<{ namespace: string; name: string; totals: CostLine }>;
  series: SeriesPoint[];
}

export interface CostReport {
  from: string;
  to: string;
  granularity: Granularity;
  model: PricingModel;
  currency: string;
  tenants: TenantCost[];
  /** The platform: the sum over tenants. */
  total: CostLine;
}
