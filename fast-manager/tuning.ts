/**
 * Timings and bounds of the agent's supervision, with their defaults in one place. NodeConfig
 * carries what operators set (drain and start timeouts); these are the rest, overridable by
 * tests and by later device backends.
 */
import { ConfigError } from '../core/errors.ts';

export interface AgentTuning {
  /** How long a draining replica keeps running before SIGTERM, so routers stop using it first. */
  drainGraceMs: number;
  /** Health-check period while a replica is starting. */
  startPollMs: number;
  /** Health-check period while a replica is ready. */
  healthIntervalMs: number;
  /** Longest a single health check may take. */
  healthTimeoutMs: number;
  /** Consecutive failed checks before a ready replica is marked unhealthy. */
  unhealthyAfter: number;
  /** Consecutive failed checks before an unhealthy replica is killed and restarted. */
  restartAfterFailures: number;
  /** First restart delay after a crash; doubles per consecutive crash. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A replica ready this long has its crash streak (and so its backoff) reset. */
  backoffResetMs: number;
  /** Usage (CPU, memory) sampling period; memory limits are enforced at this pace. */
  usageIntervalMs: number;
  /** Log lines kept in memory per function. */
  logLinesPerFunction: number;
  /** Size at which a function's log file is rotated (one previous file is kept). */
  logFileMaxBytes: number;
}

export const DEFAULT_TUNING: AgentTuning = {
  drainGraceMs: 300,
  startPollMs: 100,
  healthIntervalMs: 2_000,
  healthTimeoutMs: 1_000,
  unhealthyAfter: 3,
  restartAfterFailures: 10,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  backoffResetMs: 60_000,
  usageIntervalMs: 1_000,
  logLinesPerFunction: 10_000,
  logFileMaxBytes: 8 * 1024 * 1024,
};

export function resolveTuning(overrides: Partial<AgentTuning> = {}): AgentTuning {
  const t = { ...DEFAULT_TUNING, ...overrides };
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new ConfigError(`tuning.${k}`, `${String(v)} must be a non-negative number`);
  }
  if (t.restartAfterFailures < t.unhealthyAfter)
    throw new ConfigError('tuning.restartAfterFailures', `must be at least unhealthyAfter (${t.unhealthyAfter})`);
  if (t.backoffMaxMs < t.backoffBaseMs)
    throw new ConfigError('tuning.backoffMaxMs', `must be at least backoffBaseMs (${t.backoffBaseMs})`);
  if (t.logLinesPerFunction < 1) throw new ConfigError('tuning.logLinesPerFunction', 'must be at least 1');
  return t;
}
