/**
 * The emulated V100's profile table, built from `calibration/` (see its README):
 * - service time ℓ(b, p) at full quota comes from the emulated device's own table
 *   (calibration-table.ts, also read by the emulated device), so scheduler and device agree;
 * - the effect of a time quota q < 1 is s(q, p) = rps(q, p) / rps(1, p) measured on the V100
 *   (v100-profiles.csv; ≈ 0.5 at q = 0.4 since a lone replica also uses idle time) for the V100
 *   models, and s = q for the batch-latency CNNs, which were measured at full time only;
 * - one configuration then sustains rps = s · b · 1000 / ℓ(b, p), and one batch takes ℓ(b, p) / s.
 * Rows equal to a measurement (V100 batch 1; CNN quota 1 at a measured batch and partition) are
 * marked `measured`, the rest `fitted`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlatformError } from '../errors.ts';
import { DEFAULT_CALIBRATION_DIR, loadLatencyTable } from './calibration-table.ts';
import { calibrationFootprint } from './footprints.ts';
import { createProfileTable, type ModelFootprint, type ProfileEntry, type ProfileTable } from './profile-table.ts';

export const V100_DEVICE_CLASS = 'v100';
export const V100_MEMORY_BYTES = 16 * 1024 ** 3;
export const QUOTA_GRID = [0.2, 0.4, 0.6, 0.8, 1.0];
export const BATCH_GRID = [1, 2, 4, 8, 16, 32];
const V100_PARTITIONS = [6, 12, 24, 50, 60, 80, 100];
const CNN_PARTITIONS = [20, 40, 50, 60, 80, 100];
const CNN_BATCHES = new Set([1, 2, 4, 8, 16, 32, 64]);

/** Measured V100 throughput by (model, quota, sm %), batch 1 — the one table calibration-table.ts does not expose. */
function readV100Throughput(dir: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(join(dir, 'v100-profiles.csv'), 'utf8');
  } catch (err) {
    throw new PlatformError('internal', `cannot read ${join(dir, 'v100-profiles.csv')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const [head, ...rows] = text.trim().split(/\r?\n/);
  const cols = head!.split(',');
  const at = (name: string) => cols.indexOf(name);
  const [iModel, iQuota, iSm, iRps] = [at('model'), at('quota'), at('sm_percent'), at('rps')];
  if ([iModel, iQuota, iSm, iRps].some((i) => i < 0))
    throw new PlatformError('internal', 'v100-profiles.csv lacks model/quota/sm_percent/rps columns');
  const out = new Map<string, number>();
  for (const r of rows) {
    const c = r.split(',');
    out.set(`v100-${c[iModel]}|${Number(c[iQuota])}|${Number(c[iSm])}`, Number(c[iRps]));
  }
  return out;
}

export function loadCalibrationProfiles(dir = DEFAULT_CALIBRATION_DIR): ProfileTable {
  const latency = loadLatencyTable(dir);
  const measured = readV100Throughput(dir);
  const entries: ProfileEntry[] = [];
  const footprints: Record<string, ModelFootprint> = {};
  for (const model of latency.models()) {
    const fp = calibrationFootprint(model);
    if (!fp) continue;
    const isV100 = model.startsWith('v100-');
    // Plain bert/rnnt/gnmt are aliases of the v100- rows; keep one name per model.
    if (!isV100 && latency.models().includes(`v100-${model}`)) continue;
    footprints[model] = fp;
    for (const p of isV100 ? V100_PARTITIONS : CNN_PARTITIONS) {
      const full = measured.get(`${model}|1|${p}`);
      for (const q of QUOTA_GRID) {
        const atQ = measured.get(`${model}|${q}|${p}`);
        const s = isV100 && full && atQ ? atQ / full : q;
        for (const b of BATCH_GRID) {
          const service = latency.latencyMs(model, b, p);
          const batchMs = service / s;
          const isMeasured = isV100 ? b === 1 && atQ !== undefined : q === 1 && CNN_BATCHES.has(b);
          entries.push({
            model,
            deviceClass: V100_DEVICE_CLASS,
            partitionPercent: p,
            quota: q,
            batch: b,
            rps: (b * 1000) / batchMs,
            latencyMs: { p50: batchMs, p95: batchMs, p99: batchMs },
            memoryBytes: fp.weightsBytes + fp.replicaBytes,
            serviceMs: service,
            source: isMeasured ? 'measured' : 'fitted',
          });
        }
      }
    }
  }
  return createProfileTable({ entries, footprints, serviceMs: (m, b, p) => latency.latencyMs(m, b, p) });
}
