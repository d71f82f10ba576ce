/**
 * Emulated devices are not swept: their table comes from the calibration data (core/profiles
 * loadCalibrationProfiles), the rows of the calibrated model the function behaves like
 * (annotation fastgshare/emulated_profile), renamed to the function. The calibration loader
 * already says which rows were measured on the V100 and which it fitted.
 */
import { PlatformError } from '../core/errors.ts';
import type { ProfileTable } from '../core/profiles/profile-table.ts';
import type { SweepGrid } from './grid.ts';
import type { TableRecord } from './profile-store.ts';

export interface EmulatedTableInput {
  namespace: string;
  function: string;
  modelVersion: string;
  profile: string;
  maxBatch: number;
}

export function emulatedTable(calibration: ProfileTable, deviceClass: string, i: EmulatedTableInput): TableRecord {
  const rows = calibration.entries(i.profile, deviceClass).filter((e) => e.batch <= i.maxBatch);
  if (rows.length === 0) {
    throw new PlatformError(
      'bad_request',
      `annotation fastgshare/emulated_profile: no calibration rows for "${i.profile}"; known: ${calibration.models().join(', ')}`,
    );
  }
  const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const grid: SweepGrid = {
    partitions: uniq(rows.map((r) => r.partitionPercent)),
    quotas: uniq(rows.map((r) => r.quota)),
    batches: uniq(rows.map((r) => r.batch)),
  };
  return {
    namespace: i.namespace,
    function: i.function,
    modelVersion: i.modelVersion,
    deviceClass,
    origin: 'calibration',
    entries: rows.map((r) => ({ ...r, model: i.function })),
    footprint: calibration.footprint(i.profile),
    grid,
  };
}
