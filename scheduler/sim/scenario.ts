/**
 * One simulator run as the CLI and the benchmark describe it: a cluster shape, a trace (generated
 * or from a file), the policies; returns the results, the markdown table and the SVG chart.
 */
import { readFileSync } from 'node:fs';
import { PlatformError } from '../../core/errors.ts';
import { V100_DEVICE_CLASS, V100_MEMORY_BYTES } from '../../core/profiles/calibration-profiles.ts';
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import { getPolicies } from '../policies/registry.ts';
import { resultsSvg, resultsTable } from './report.ts';
import { comparePolicies } from './run.ts';
import { clusterDevices, type SimResult } from './simulator.ts';
import { TRACE_KINDS, generateTrace, parseTraceCsv, type Trace, type TraceKind } from './traces.ts';
import { buildWorkload } from './workload.ts';

export interface ScenarioOptions {
  profiles: ProfileTable;
  /** steady | diurnal | bursty | a path to a CSV trace. */
  trace: string;
  seed: number;
  nodes: number;
  devicesPerNode: number;
  functions: number;
  durationS: number;
  policies?: string[];
  periodS?: number;
}

export interface ScenarioResult {
  trace: Trace;
  results: SimResult[];
  markdown: string;
  svg: string;
  wallMs: number;
}

function positiveInt(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new PlatformError('bad_request', `--${name} must be a whole number from 1 to ${max}, got ${v}`);
}

export function loadTrace(o: ScenarioOptions): Trace {
  if ((TRACE_KINDS as readonly string[]).includes(o.trace)) {
    return generateTrace(o.trace as TraceKind, buildWorkload(o.profiles, o.functions, o.seed), o.durationS, o.seed);
  }
  let text: string;
  try {
    text = readFileSync(o.trace, 'utf8');
  } catch (err) {
    throw new PlatformError(
      'bad_request',
      `--trace must be steady, diurnal, bursty or a readable CSV file; cannot read "${o.trace}": ${(err as Error).message}`,
    );
  }
  return parseTraceCsv(text, o.profiles, o.durationS, o.trace);
}

export function runScenario(o: ScenarioOptions): ScenarioResult {
  positiveInt('nodes', o.nodes, 1024);
  positiveInt('devices', o.devicesPerNode, 64);
  positiveInt('functions', o.functions, 10_000);
  if (!(o.durationS >= 1 && o.durationS <= 86_400))
    throw new PlatformError('bad_request', `--duration must be 1 to 86400 seconds, got ${o.durationS}`);
  if (!Number.isInteger(o.seed)) throw new PlatformError('bad_request', `--seed must be a whole number, got ${o.seed}`);
  const policies = getPolicies(o.policies);
  const trace = loadTrace(o);
  const devices = clusterDevices({
    nodes: o.nodes,
    devicesPerNode: o.devicesPerNode,
    deviceClass: V100_DEVICE_CLASS,
    memoryBytes: V100_MEMORY_BYTES,
  });
  const t0 = performance.now();
  const results = comparePolicies({ profiles: o.profiles, devices, trace, policies, seed: o.seed, periodS: o.periodS });
  const wallMs = performance.now() - t0;
  const title = `${trace.name} trace, ${trace.functions.length} functions, ${o.nodes} × ${o.devicesPerNode} V100, ${trace.durationS} s, seed ${o.seed}`;
  return {
    trace,
    results,
    markdown: `### ${title}\n\n${resultsTable(results)}\n`,
    svg: resultsSvg(results, title),
    wallMs,
  };
}
