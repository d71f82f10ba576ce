/**
 * The profiler in one process: the sweep queue and its service (what the routes use), the
 * worker that runs sweeps, the store-backed profile source for the scheduler and the
 * auto-scaler's `requestProfile` for functions without a profile. Two Redis
 * connections, as for async invocations: the service's fails fast, the worker's retries forever.
 */
import { Redis } from 'ioredis';
import type { Clock } from '../core/clock.ts';
import type { ProfilerConfig } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { NodeAgentClient, FunctionSpec } from '../core/contracts/node-agent.ts';
import type { Models } from '../core/store/models.ts';
import { loadCalibrationProfiles } from '../core/profiles/calibration-profiles.ts';
import type { ProfileTable } from '../core/profiles/profile-table.ts';
import { createRedisDeviceLock } from './device-lock.ts';
import { profilerKeys, type ProfilerKeys } from './keys.ts';
import { createAutocannonLoad, type LoadGenerator } from './load.ts';
import { createProfileRequester, type ProfileRequesterOptions } from './auto-request.ts';
import { createProfileStore, type ProfileStore } from './profile-store.ts';
import { createProfilerService, type ProfilerService } from './service.ts';
import { createStoreProfileSource } from './store-profile-source.ts';
import type { ProfileSource } from '../scheduler/live/profile-source.ts';
import { createHttpUsageReader } from './usage-reader.ts';
import { createActiveTrials } from './active-trials.ts';
import { startProfilerWorker, type ProfilerWorker } from './worker.ts';

export interface ProfilerDeps {
  config: ProfilerConfig;
  redisUrl: string;
  models: Models;
  nodes: NodeAgentClient[];
  /** The function's spec as a node agent needs it (secrets resolved). */
  spec(namespace: string, name: string): Promise<FunctionSpec>;
  imageBuiltAt?: (image: string) => Promise<string | undefined>;
  clock: Clock;
  log: Logger;
  load?: LoadGenerator;
  /** Trial timings (tests shorten them). */
  readyTimeoutMs?: number;
  busyDelayMs?: number;
  /** Backoff of the auto-scaler's sweeps after failures (auto-request.ts defaults). */
  autoRequest?: Pick<ProfileRequesterOptions, 'retryAfterMs' | 'maxRetryAfterMs'>;
}

export interface Profiler {
  keys: ProfilerKeys;
  store: ProfileStore;
  service: ProfilerService;
  source: ProfileSource;
  /** The auto-scaler's `requestProfile`: queues a sweep of a function without a profile (auto-request.ts). */
  requestProfile(fnKey: string): Promise<void>;
  /** True while a sweep of this profiler runs the trial function `name` in `namespace`. */
  ownsTrial(namespace: string, name: string): boolean;
  /** Starts a worker (a process may run none, or several in tests). */
  startWorker(): ProfilerWorker;
  close(): Promise<void>;
}

export function createProfiler(d: ProfilerDeps): Profiler {
  const keys = profilerKeys(d.config);
  const log = d.log;
  const store = createProfileStore(d.models);
  const producer = new Redis(d.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(50 * n, 1000) });
  producer.on('error', (err) => log.warn('profiler: Redis connection error', { error: err.message }));
  const service = createProfilerService({
    redis: producer,
    keys,
    models: d.models,
    store,
    nodes: d.nodes,
    imageBuiltAt: d.imageBuiltAt,
    trialSeconds: d.config.trialSeconds,
    concurrency: d.config.concurrency,
  });
  if (!d.config.auto) {
    // FASTGSHARE_PROFILER_AUTO=false also ends the automatic sweeps queued before (by this or another gateway); a
    // person's stay
    void service.cancelAutomatic().then(
      (n) =>
        n > 0 && log.info('automatic profiling is off: cancelled the sweeps the auto-scaler had queued', { sweeps: n }),
      (err: Error) =>
        log.warn('automatic profiling is off, but the queued automatic sweeps could not be cancelled', {
          error: err.message,
        }),
    );
  }
  const load = d.load ?? createAutocannonLoad();
  const usage = createHttpUsageReader();
  const active = createActiveTrials();
  const requester = createProfileRequester({
    service,
    redis: producer,
    keys,
    clock: d.clock,
    log: log.child('auto'),
    ...d.autoRequest,
  });
  let calibration: ProfileTable | undefined;
  const workers = new Set<{ w: ProfilerWorker; conn: Redis }>();

  return {
    keys,
    store,
    service,
    source: createStoreProfileSource(store),
    requestProfile: async (fnKey) => void (await requester.request(fnKey)),
    ownsTrial: active.has,
    startWorker() {
      const conn = new Redis(d.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 2000) });
      conn.on('error', (err) => log.warn('profiler worker: Redis connection error', { error: err.message }));
      const w = startProfilerWorker({
        connection: conn,
        keys,
        lock: createRedisDeviceLock(producer),
        redis: producer,
        concurrency: d.config.concurrency,
        lockMs: d.config.lockMs,
        busyDelayMs: d.busyDelayMs,
        automatic: d.config.auto,
        clock: d.clock,
        log: log.child('worker'),
        sweep: {
          store,
          spec: d.spec,
          calibration: () => (calibration ??= loadCalibrationProfiles()),
          clock: d.clock,
          log: log.child('sweep'),
          trialDeps: (data) => {
            const node = d.nodes.find((n) => n.url === data.nodeUrl);
            if (!node) throw new Error(`node ${data.nodeUrl} of this sweep is no longer one of this gateway's nodes`);
            return {
              node,
              cpus: data.cpus,
              load,
              usage,
              clock: d.clock,
              log: log.child('trial'),
              readyTimeoutMs: d.readyTimeoutMs,
              active,
            };
          },
        },
      });
      const entry = { w, conn };
      workers.add(entry);
      return {
        async close(opts) {
          await w.close(opts);
          conn.disconnect();
          workers.delete(entry);
        },
      };
    },
    async close() {
      // a gateway that stops must not wait out a sweep of many minutes: running sweeps stop now
      // and resume where they were when a gateway starts again
      for (const e of [...workers]) {
        await e.w.close({ interrupt: true }).catch(() => undefined);
        e.conn.disconnect();
      }
      workers.clear();
      await service.close();
      producer.disconnect();
    },
  };
}
