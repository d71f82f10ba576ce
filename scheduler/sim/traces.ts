/**
 * Load traces: requests/s per function per second. Generators (seeded): steady (the base rate),
 * diurnal (one day squeezed into the run: 0.4–1.6 × base, each function at its own phase), bursty
 * (base with random bursts of 2–4 × lasting 5–20 s, about one a minute per function). Files: CSV
 * `time_s,function,rps[,model][,slo_ms]`, each row holding its rate until the function's next row.
 */
import { PlatformError } from '../../core/errors.ts';
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import { V100_DEVICE_CLASS } from '../../core/profiles/calibration-profiles.ts';
import type { FunctionSpec } from '../types.ts';
import { createRng } from './rng.ts';
import { defaultSloMs, type WorkloadFunction } from './workload.ts';

export interface Trace {
  name: string;
  functions: FunctionSpec[];
  /** rates[f][s] = requests/s of function f during second s. */
  rates: Float64Array[];
  durationS: number;
}

export type TraceKind = 'steady' | 'diurnal' | 'bursty';
export const TRACE_KINDS: readonly TraceKind[] = ['steady', 'diurnal', 'bursty'];

export function generateTrace(
  kind: TraceKind,
  workload: readonly WorkloadFunction[],
  durationS: number,
  seed: number,
): Trace {
  if (!(durationS >= 1)) throw new PlatformError('bad_request', `duration must be at least 1 s, got ${durationS}`);
  const rng = createRng(seed ^ 0x3c6ef372);
  const n = Math.ceil(durationS);
  const rates = workload.map((w) => {
    const r = new Float64Array(n);
    if (kind === 'steady') r.fill(w.baseRps);
    else if (kind === 'diurnal') {
      const phase = rng.between(0, Math.PI / 2);
      for (let s = 0; s < n; s++) r[s] = w.baseRps * (1 - 0.6 * Math.cos((2 * Math.PI * s) / n + phase));
    } else {
      r.fill(w.baseRps);
      for (let t = rng.exp(1 / 60); t < n; t += rng.exp(1 / 60)) {
        const len = Math.round(rng.between(5, 20));
        const k = rng.between(2, 4);
        for (let s = Math.floor(t); s < Math.min(n, t + len); s++) r[s] = w.baseRps * k;
      }
    }
    return r;
  });
  return { name: kind, functions: workload.map((w) => w.spec), rates, durationS: n };
}

/** Parses a trace file; `durationS` defaults to one second past the last row. */
export function parseTraceCsv(text: string, profiles: ProfileTable, durationS?: number, name = 'file'): Trace {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const head = lines
    .shift()
    ?.split(',')
    .map((c) => c.trim());
  const col = (c: string) => head?.indexOf(c) ?? -1;
  if (!head || col('time_s') < 0 || col('function') < 0 || col('rps') < 0)
    throw new PlatformError(
      'bad_request',
      'trace file needs a header with time_s,function,rps (optional model,slo_ms)',
    );
  const rows = lines.map((l, i) => {
    const c = l.split(',').map((x) => x.trim());
    const time = Number(c[col('time_s')]);
    const rps = Number(c[col('rps')]);
    const fn = c[col('function')] ?? '';
    if (!(time >= 0) || !(rps >= 0) || !fn)
      throw new PlatformError(
        'bad_request',
        `trace line ${i + 2}: need time_s ≥ 0, a function name and rps ≥ 0, got "${l}"`,
      );
    return {
      time,
      fn,
      rps,
      model: col('model') >= 0 ? c[col('model')] : undefined,
      slo: col('slo_ms') >= 0 ? Number(c[col('slo_ms')]) : undefined,
    };
  });
  if (rows.length === 0) throw new PlatformError('bad_request', 'trace file has no rows');
  const n = Math.ceil(durationS ?? Math.max(...rows.map((r) => r.time)) + 1);
  const names = [...new Set(rows.map((r) => r.fn))];
  const functions: FunctionSpec[] = names.map((fname) => {
    const mine = rows.filter((r) => r.fn === fname);
    const model = mine.find((r) => r.model)?.model ?? fname;
    if (!profiles.models().includes(model))
      throw new PlatformError(
        'bad_request',
        `trace function "${fname}" has no known model; add a model column (one of ${profiles.models().join(', ')})`,
      );
    const slo = mine.find((r) => r.slo && r.slo > 0)?.slo ?? defaultSloMs(profiles, model);
    return { name: fname, model, deviceClass: V100_DEVICE_CLASS, sloMs: slo, minReplicas: 0, maxReplicas: 64 };
  });
  const rates = names.map((fname) => {
    const r = new Float64Array(n);
    const mine = rows.filter((x) => x.fn === fname).sort((a, b) => a.time - b.time);
    mine.forEach((row, i) => {
      const end = i + 1 < mine.length ? mine[i + 1]!.time : n;
      for (let s = Math.floor(row.time); s < Math.min(n, Math.ceil(end)); s++) r[s] = row.rps;
    });
    return r;
  });
  return { name, functions, rates, durationS: n };
}
