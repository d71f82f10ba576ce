/**
 * Runs a planned sweep: every trial of the grid that the store does not already hold for this
 * sweep, in order, each stored as soon as it finishes; then the table (measured rows plus the
 * fitted ones) is written. Stops between and during trials when `signal` aborts. Trials send the
 * request's `input`, else the function's own sample (sample-input.ts). An emulated device runs no
 * trials: its table comes from the calibration data. A trial that could not run properly
 * (trial-validity.ts: nothing served, mostly errors, a missing figure, the run disturbed) is run
 * again, up to TRIAL_ATTEMPTS times, then stored marked invalid: never as the configuration's capacity.
 */
import type { Clock } from '../core/clock.ts';
import { PlatformError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { FunctionSpec } from '../core/contracts/node-agent.ts';
import { configKey, type ProfileTable } from '../core/profiles/profile-table.ts';
import { deviceClassOf } from '../core/contracts/devices.ts';
import { defaultGrid, trialConfigs, trialFunctionName } from './grid.ts';
import { emulatedTable } from './emulated.ts';
import type { ProfileStore } from './profile-store.ts';
import type { SweepJobData, SweepProgress, SweepResult } from './sweep-job.ts';
import { buildTableEntries, measuredFootprint, tableGrid } from './table.ts';
import type { TrialDeps } from './trial.ts';
import { runTrial } from './trial.ts';
import { sweepInput } from './sample-input.ts';
import { TRIAL_ATTEMPTS, isValidTrial, trialProblem } from './trial-validity.ts';
import type { TrialMetrics } from './trial-result.ts';
import { sleep } from './abort.ts';

/** What the worker knows about the run beyond the trial (run-watch.ts). */
export interface RunHealth {
  /** Real time now, ms. */
  now(): number;
  /** What disturbed the run at or after `since`, if anything. */
  disturbance(since: number): string | undefined;
}

export interface SweepDeps {
  store: ProfileStore;
  /** Trial dependencies for the sweep's node. */
  trialDeps(data: SweepJobData): TrialDeps;
  /** The function's spec as the node agent needs it. */
  spec(namespace: string, name: string): Promise<FunctionSpec>;
  calibration: () => ProfileTable;
  clock: Clock;
  log: Logger;
  /** Pause before running again a trial that could not run properly (default TRIAL_RETRY_PAUSE_MS). */
  retryPauseMs?: number;
}

/** Seconds a trial is expected to take beyond its load time (deploy, ready, warm-up, removal). */
export const TRIAL_OVERHEAD_S = 4;

/** Pause before running a trial again that could not run properly (the machine may be busy for a moment). */
export const TRIAL_RETRY_PAUSE_MS = 2000;

export async function runSweep(
  d: SweepDeps,
  sweepId: string,
  data: SweepJobData,
  report: (p: SweepProgress) => Promise<void>,
  signal: AbortSignal,
  health?: RunHealth,
): Promise<SweepResult> {
  const summary = (
    entries: { source: string }[],
    trials: number,
    input?: SweepResult['input'],
    invalid = 0,
  ): SweepResult => ({
    trials,
    ...(invalid ? { invalid } : {}),
    entries: entries.length,
    measured: entries.filter((e) => e.source === 'measured').length,
    fitted: entries.filter((e) => e.source === 'fitted').length,
    deviceClass: data.deviceClass,
    modelVersion: data.modelVersion,
    ...(input ? { input } : {}),
  });
  if (data.device === 'emulated' && data.emulatedProfile) {
    await report({ phase: 'table', done: 0, total: 0, resumed: 0, etaSeconds: 0 });
    const table = emulatedTable(d.calibration(), deviceClassOf('emulated'), {
      namespace: data.namespace,
      function: data.function,
      modelVersion: data.modelVersion,
      profile: data.emulatedProfile,
      maxBatch: data.maxBatch,
    });
    await d.store.saveTable({ ...table, sweepId });
    await report({ phase: 'done', done: 0, total: 0, resumed: 0, etaSeconds: 0 });
    return summary(table.entries, 0);
  }

  const configs = trialConfigs(data.grid);
  const stored = await d.store.trials(sweepId);
  // a trial stored as invalid is run again when the sweep resumes
  const have = new Set(stored.filter((t) => isValidTrial(t.metrics)).map((t) => t.trialIndex));
  const resumed = have.size;
  if (resumed) d.log.info('resuming sweep', { sweep: sweepId, stored: resumed, total: configs.length });
  const base = await d.spec(data.namespace, data.function);
  const deps = d.trialDeps(data);
  // the given input, else the function's own sample: from a running replica of it, else the first trial replica
  const input = sweepInput({ name: data.function, namespace: data.namespace }, data.input);
  if (configs.some((_, i) => !have.has(i))) {
    const live = async () =>
      (await deps.node.listFunctions())
        .find((f) => f.name === data.function && f.namespace === data.namespace)
        ?.replicas.find((r) => r.state === 'ready');
    await input.prefetch(live, signal);
  }
  const durations: number[] = [];
  let done = resumed;
  const eta = () => {
    const per = durations.length
      ? durations.reduce((a, b) => a + b, 0) / durations.length / 1000
      : data.trialSeconds + TRIAL_OVERHEAD_S;
    return Math.round((configs.length - done) * per);
  };
  for (let i = 0; i < configs.length; i++) {
    if (have.has(i)) continue;
    signal.throwIfAborted();
    const config = configs[i]!;
    await report({ phase: 'trial', done, total: configs.length, trial: i + 1, config, resumed, etaSeconds: eta() });
    const started = d.clock.now();
    const startedAt = d.clock.date();
    let metrics: TrialMetrics | undefined;
    let problem: string | undefined;
    for (let attempt = 1; attempt <= TRIAL_ATTEMPTS; attempt++) {
      if (attempt > 1) {
        d.log.warn('trial could not run properly; running it again', {
          sweep: sweepId,
          trial: `${i + 1}/${configs.length}`,
          config: configKey(config),
          problem,
          attempt: `${attempt}/${TRIAL_ATTEMPTS}`,
        });
        await sleep(d.retryPauseMs ?? TRIAL_RETRY_PAUSE_MS, signal);
      }
      const since = health?.now();
      metrics = await runTrial(deps, {
        base,
        trialName: trialFunctionName(data.function, i),
        config,
        sloMs: data.sloMs,
        seconds: data.trialSeconds,
        input: input.source,
        signal,
      });
      signal.throwIfAborted();
      problem = trialProblem(metrics, since === undefined ? undefined : health?.disturbance(since));
      metrics.attempts = attempt;
      if (!problem) break;
    }
    if (problem) metrics = { ...metrics!, invalid: problem };
    const durationMs = d.clock.now() - started;
    durations.push(durationMs);
    await d.store.saveTrial({
      sweepId,
      trialIndex: i,
      namespace: data.namespace,
      function: data.function,
      modelVersion: data.modelVersion,
      deviceClass: data.deviceClass,
      node: data.node,
      config,
      metrics: metrics!,
      startedAt,
      durationMs,
    });
    done++;
    if (problem)
      d.log.warn('trial stored as invalid: it could not run properly on any attempt, and is left out of the table', {
        sweep: sweepId,
        trial: `${i + 1}/${configs.length}`,
        config: configKey(config),
        problem,
        attempts: TRIAL_ATTEMPTS,
      });
    else
      d.log.info('trial done', {
        sweep: sweepId,
        trial: `${i + 1}/${configs.length}`,
        config: configKey(config),
        sloRps: Math.round(metrics!.sloRps * 10) / 10,
        p99: Math.round(metrics!.latencyMs.p99),
      });
  }
  await report({ phase: 'table', done, total: configs.length, resumed, etaSeconds: 0 });
  const trials = await d.store.trials(sweepId);
  const valid = trials.filter((t) => isValidTrial(t.metrics));
  if (valid.length === 0 && trials.length > 0) {
    // nothing to build a table on: fail this run (the job is tried again, re-running the invalid trials)
    throw new PlatformError(
      'unavailable',
      `no trial of the sweep could run properly (${trials[0]!.metrics.invalid ?? 'invalid'}); the machine may be overloaded: the sweep is tried again`,
    );
  }
  const grid = tableGrid(data.grid, defaultGrid(data.device, data.cpus, data.maxBatch));
  const entries = buildTableEntries(trials, grid, data.function, data.deviceClass);
  await d.store.saveTable({
    namespace: data.namespace,
    function: data.function,
    modelVersion: data.modelVersion,
    deviceClass: data.deviceClass,
    origin: 'sweep',
    sweepId,
    node: data.node,
    entries,
    footprint: measuredFootprint(trials),
    grid: data.grid,
    sloMs: data.sloMs,
  });
  await report({ phase: 'done', done, total: configs.length, resumed, etaSeconds: 0 });
  return summary(entries, trials.length, input.origin(), trials.length - valid.length);
}
