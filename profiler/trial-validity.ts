/**
 * Whether a trial measured its configuration, or only that the trial could not run properly. A
 * configuration that cannot meet the SLO is a measurement (its closed loop ran and answered, no
 * open-loop rate met the SLO: rps 0 at the SLO, its latency known); these are not:
 * - no request of the closed loop answered 2xx (the replica was not serving: 0 req/s, no latency);
 * - most requests failed other than by a 429 refusal (the replica was failing or restarting; a
 *   replica that refuses what it cannot serve within the SLO works as designed, and is measured);
 * - a latency figure is missing (no answer to measure it on);
 * - something outside the trial disturbed it (run-watch.ts: the process stalled, the device lock lapsed).
 * Such a trial is run again a bounded number of times, then stored marked invalid and left out of
 * the table (sweep.ts, table.ts).
 */
import type { TrialMetrics } from './trial-result.ts';

/** Runs of one trial before it is stored marked invalid. */
export const TRIAL_ATTEMPTS = 3;
/** Share of failed requests above which a trial did not run properly. */
export const MAX_ERROR_RATE = 0.5;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Why the trial's numbers are not a measurement of its configuration, or undefined when they are. */
export function trialProblem(m: TrialMetrics, disturbance?: string): string | undefined {
  if (disturbance) return disturbance;
  if (!(m.closedLoopRps > 0))
    return 'no request succeeded in the closed loop (0 req/s): the trial replica was not serving';
  // trials stored before failedRate existed count every failure
  const failedRate = m.failedRate ?? m.errorRate;
  if (failedRate > MAX_ERROR_RATE)
    return `${Math.round(failedRate * 100)} % of the trial's requests failed (not counting 429 refusals)`;
  const lat = [m.closedLoopLatencyMs.p50, m.closedLoopLatencyMs.p99, m.latencyMs.p50, m.latencyMs.p95, m.latencyMs.p99];
  if (!lat.every(finite)) return 'a latency percentile is missing (no answer to measure it on)';
  if (!finite(m.sloRps) || m.sloRps < 0) return `the SLO rate is not a number (${String(m.sloRps)})`;
  return undefined;
}

/** True for a stored trial whose numbers are a measurement (not marked invalid, no missing figure). */
export function isValidTrial(m: TrialMetrics): boolean {
  return !m.invalid && trialProblem(m) === undefined;
}
