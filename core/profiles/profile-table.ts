/**
 * Profile tables: what one replica of a model does on one device class at one configuration
 * (SM partition %, time quota, batch). The scheduler reads them; the profiler and the calibration
 * loader write them. `source` says whether a row was measured or fitted from measured rows.
 */
import { PlatformError } from '../errors.ts';

/** The three knobs of a replica: share of compute units, guaranteed share of time, maximum batch. */
export interface ReplicaConfig {
  /** SM partition, percent of the device (1–100). */
  partitionPercent: number;
  /** Time quota request, fraction of every window (0–1]. */
  quota: number;
  /** Largest batch the replica forms. */
  batch: number;
}

export type ProfileSource = 'measured' | 'fitted';

export interface ProfileEntry extends ReplicaConfig {
  model: string;
  deviceClass: string;
  /** Requests (items) per second one replica sustains at this configuration. */
  rps: number;
  /** Time one full batch takes under this configuration (service only, no queueing), ms. */
  latencyMs: { p50: number; p95: number; p99: number };
  /** Device memory of one replica alone (weights + runtime). */
  memoryBytes: number;
  /**
   * Time one batch takes when the replica holds the device (full time share), ms; defaults to `latencyMs.p50 × quota`.
   */
  serviceMs?: number;
  source: ProfileSource;
}

/** Device memory of a model: weights (shared by the replicas of one model on one device) and per-replica runtime. */
export interface ModelFootprint {
  weightsBytes: number;
  replicaBytes: number;
}

export interface ProfileTable {
  /** Every profiled configuration of `model` on `deviceClass` (empty when never profiled). */
  entries(model: string, deviceClass: string): readonly ProfileEntry[];
  /** Memory footprint of a model; throws `bad_request` for an unknown model. */
  footprint(model: string): ModelFootprint;
  /** Service time of one batch at full time share on `partitionPercent` % (what an emulated device runs), ms. */
  serviceMs(model: string, batch: number, partitionPercent: number): number;
  models(): string[];
}

/** Area of a configuration in the device's time × compute square (1 = the whole device all the time). */
export function configArea(c: ReplicaConfig): number {
  return (c.quota * c.partitionPercent) / 100;
}

export function configKey(c: ReplicaConfig): string {
  return `p${c.partitionPercent}-q${c.quota}-b${c.batch}`;
}

export function validateConfig(c: ReplicaConfig): void {
  if (!(c.partitionPercent > 0 && c.partitionPercent <= 100))
    throw new PlatformError('bad_request', `partition must be in (0, 100] percent, got ${c.partitionPercent}`);
  if (!(c.quota > 0 && c.quota <= 1)) throw new PlatformError('bad_request', `quota must be in (0, 1], got ${c.quota}`);
  if (!Number.isInteger(c.batch) || c.batch < 1)
    throw new PlatformError('bad_request', `batch must be a positive whole number, got ${c.batch}`);
}

export interface InMemoryProfileOptions {
  entries: ProfileEntry[];
  footprints: Record<string, ModelFootprint>;
  /** Service time at full quota; defaults to the batch-latency of the nearest entry with quota 1. */
  serviceMs?: (model: string, batch: number, partitionPercent: number) => number;
}

/** A profile table over a list of rows (used by tests, the profiler's store reader and the calibration loader). */
export function createProfileTable(opts: InMemoryProfileOptions): ProfileTable {
  const byKey = new Map<string, ProfileEntry[]>();
  for (const e of opts.entries) {
    validateConfig(e);
    const k = `${e.model}\u0000${e.deviceClass}`;
    let list = byKey.get(k);
    if (!list) byKey.set(k, (list = []));
    list.push(e);
  }
  const models = [...new Set(opts.entries.map((e) => e.model))].sort();
  const nearest = (model: string, batch: number, p: number): number => {
    let best: ProfileEntry | undefined;
    let bestD = Infinity;
    for (const e of opts.entries) {
      if (e.model !== model || e.quota !== 1) continue;
      const d = Math.abs(e.batch - batch) * 1000 + Math.abs(e.partitionPercent - p);
      if (d < bestD) ((best = e), (bestD = d));
    }
    if (!best) throw new PlatformError('bad_request', `no full-quota profile rows for model "${model}"`);
    return (best.latencyMs.p50 * batch) / best.batch;
  };
  return {
    entries: (model, deviceClass) => byKey.get(`${model}\u0000${deviceClass}`) ?? [],
    footprint(model) {
      const f = opts.footprints[model];
      if (!f)
        throw new PlatformError(
          'bad_request',
          `no memory footprint for model "${model}"; known: ${Object.keys(opts.footprints).join(', ')}`,
        );
      return f;
    },
    serviceMs: opts.serviceMs ?? nearest,
    models: () => models,
  };
}
