/**
 * The profiler as the gateway uses it: plan a sweep for a function (device, node, grid, model
 * version) and queue it; show, cancel and read back sweeps and tables; list the queue (what runs,
 * what waits and for what). One sweep per function is queued or running at a time (409 otherwise,
 * saying how to follow or cancel it); the device lock (worker.ts) keeps sweeps of one device apart.
 * A sweep the auto-scaler asks for uses the short automatic grid (auto-grid.ts).
 */
import { randomBytes } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { PlatformError } from '../core/errors.ts';
import { DEFAULT_NAMESPACE, qualified } from '../core/names.ts';
import type { NodeAgentClient } from '../core/contracts/node-agent.ts';
import type { Models } from '../core/store/models.ts';
import { deviceClassOf, type DeviceKind } from '../core/contracts/devices.ts';
import { defaultGrid, resolveGrid, trialConfigs } from './grid.ts';
import type { ProfilerKeys } from './keys.ts';
import type { ProfileStore, TableRecord } from './profile-store.ts';
import { parseSweepRequest, readFunctionDevice } from './request.ts';
import { TRIAL_OVERHEAD_S } from './sweep.ts';
import type { SweepJobData, SweepProgress, SweepResult } from './sweep-job.ts';
import { CANCELLED, isCancelReason } from './worker.ts';
import { AUTO_TRIAL_SECONDS, autoGrid } from './auto-grid.ts';
import { waitReason, waitsForDevice } from './wait-reason.ts';

export interface SweepView {
  id: string;
  function: string;
  state: 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'cancelled' | 'unknown';
  progress?: SweepProgress;
  trials: number;
  trialSeconds: number;
  estimateSeconds: number;
  grid: SweepJobData['grid'];
  deviceClass: string;
  modelVersion: string;
  node: string;
  createdAt: string;
  finishedAt?: string;
  result?: SweepResult;
  error?: string;
  /** Who asked for it (a person, or the auto-scaler for a function without a profile). */
  origin: 'request' | 'autoscaler';
  /** The body trials send: the request's `input`, or the function's sample (GET /_/sample); absent for emulated. */
  input?: 'request' | 'sample';
  /** Node and device the sweep runs on (one sweep per device at a time). */
  device: string;
  /** While it is not running: what it waits for (wait-reason.ts). */
  waitingFor?: string;
}

/** The queue (GET /system/profiles): sweeps running first, then waiting in the order they will run. */
export interface SweepQueue {
  running: number;
  /** Sweeps one gateway runs at once (on distinct devices). */
  concurrency?: number;
  sweeps: SweepView[];
}

export interface RequestOptions {
  /** 'autoscaler': retried with a longer backoff (AUTO_RETRY) than a person's request. */
  origin?: 'request' | 'autoscaler';
}

export interface ProfilerService {
  request(namespace: string, name: string, body: unknown, options?: RequestOptions): Promise<SweepView>;
  job(namespace: string, name: string): Promise<SweepView>;
  cancel(namespace: string, name: string): Promise<SweepView>;
  /** Sweeps queued or running (of one namespace when given). */
  queue(namespace?: string): Promise<SweepQueue>;
  /**
   * Cancels every sweep the auto-scaler queued that has not ended (automatic profiling turned off); returns how many.
   */
  cancelAutomatic(): Promise<number>;
  table(namespace: string, name: string, deviceClass?: string): Promise<TableRecord>;
  close(): Promise<void>;
}

export interface ProfilerServiceDeps {
  redis: Redis;
  keys: ProfilerKeys;
  models: Models;
  store: ProfileStore;
  nodes: NodeAgentClient[];
  /** The image's build time, for the model version (undefined when the image store is not here). */
  imageBuiltAt?: (image: string) => Promise<string | undefined>;
  trialSeconds: number;
  /** Sweeps a gateway's worker runs at once (for the queue view). */
  concurrency?: number;
}

export const ACTIVE_STATES: ReadonlySet<string> = new Set([
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
]);
const ACTIVE = ACTIVE_STATES;
/** Retries of a failed run: a person's sweep at once (they watch it), the auto-scaler's with backoff 30 s, 1, 2 min. */
const USER_RETRY = { attempts: 5, backoff: { type: 'fixed', delay: 1000 } };
export const AUTO_RETRY = { attempts: 4, backoff: { type: 'exponential', delay: 30_000 } };

/**
 * The device class a sweep's table is stored under: the kind's (core/contracts/devices.ts), on cpu with the node's
 * cores (`cpu-2c`).
 */
export function sweepDeviceClass(kind: DeviceKind, cpus: number): string {
  return kind === 'cpu' ? `${deviceClassOf(kind)}-${cpus}c` : deviceClassOf(kind);
}

export function createProfilerService(d: ProfilerServiceDeps): ProfilerService {
  const queue = new Queue<SweepJobData, SweepResult>(d.keys.queue, { connection: d.redis, prefix: d.keys.prefix });
  queue.on('error', () => undefined);
  const fnKey = (namespace: string, name: string) => qualified({ name, namespace });

  const fnOf = (job: Job<SweepJobData, SweepResult>) => fnKey(job.data.namespace, job.data.function);
  const progressOf = (job: Job<SweepJobData, SweepResult>) =>
    typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as SweepProgress) : undefined;
  const PENDING = ['waiting', 'prioritized', 'waiting-children'] as const;

  async function view(
    loaded: Job<SweepJobData, SweepResult>,
    pending?: Job<SweepJobData, SweepResult>[],
  ): Promise<SweepView> {
    const raw = await loaded.getState();
    // the job may have ended between loading it and reading its state: reload it for the outcome
    const ended = (raw === 'completed' && loaded.returnvalue == null) || (raw === 'failed' && !loaded.failedReason);
    const job = (ended && (await queue.getJob(loaded.id!))) || loaded;
    const p = progressOf(job);
    // waiting for its device is waiting, not a delay after a failure (BullMQ keeps both as 'delayed')
    const state: SweepView['state'] =
      raw === 'failed' && isCancelReason(job.failedReason)
        ? 'cancelled'
        : raw === 'prioritized' || raw === 'waiting-children' || waitsForDevice({ raw, phase: p?.phase })
          ? 'waiting'
          : (raw as SweepView['state']);
    const n = job.data.device === 'emulated' ? 0 : trialConfigs(job.data.grid).length;
    let waitingFor: string | undefined;
    if (ACTIVE.has(raw) && (raw !== 'active' || waitsForDevice({ raw, phase: p?.phase }))) {
      const holderJob =
        waitsForDevice({ raw, phase: p?.phase }) && p?.holder ? await queue.getJob(p.holder) : undefined;
      const hp = holderJob ? progressOf(holderJob) : undefined;
      const queued = pending ?? (await queue.getJobs([...PENDING], 0, -1, true));
      const at = queued.findIndex((j) => j.id === job.id);
      waitingFor = waitReason({
        raw,
        phase: p?.phase,
        device: job.data.deviceId,
        node: job.data.node,
        ...(holderJob
          ? { holder: { id: holderJob.id!, function: fnOf(holderJob), done: hp?.done, total: hp?.total } }
          : {}),
        attemptsMade: job.attemptsMade,
        attempts: job.opts.attempts ?? 1,
        failedReason: job.failedReason || undefined,
        ahead: at < 0 ? 0 : at,
        running: await queue.getActiveCount(),
        concurrency: d.concurrency,
      });
    }
    return {
      id: job.id!,
      function: fnOf(job),
      state,
      ...(p ? { progress: p } : {}),
      trials: n,
      trialSeconds: job.data.trialSeconds,
      estimateSeconds: Math.round(n * (job.data.trialSeconds + TRIAL_OVERHEAD_S)),
      grid: job.data.grid,
      deviceClass: job.data.deviceClass,
      modelVersion: job.data.modelVersion,
      node: job.data.node,
      device: job.data.deviceId,
      createdAt: new Date(job.timestamp).toISOString(),
      ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
      ...(job.returnvalue ? { result: job.returnvalue } : {}),
      // a cancel by a person needs no reason; one because automatic profiling is off says so
      ...(state === 'failed' || (state === 'cancelled' && job.failedReason !== CANCELLED)
        ? { error: job.failedReason }
        : {}),
      origin: job.data.origin ?? 'request',
      ...(job.data.device === 'emulated' ? {} : { input: job.data.input ? ('request' as const) : ('sample' as const) }),
      ...(waitingFor ? { waitingFor } : {}),
    };
  }

  async function latest(ns: string, name: string): Promise<Job<SweepJobData, SweepResult>> {
    const id = await d.redis.hget(d.keys.latest(), fnKey(ns, name));
    const job = id ? await queue.getJob(id) : undefined;
    if (!job)
      throw new PlatformError(
        'not_found',
        `no profiling sweep for "${fnKey(ns, name)}"; start one with POST /system/profiles/${name} (fastgshare profile ${name})`,
      );
    return job;
  }

  async function pickNode(wanted?: string): Promise<{ client: NodeAgentClient; name: string; cpus: number }> {
    if (d.nodes.length === 0) throw new PlatformError('unavailable', 'no node agents to profile on');
    for (const client of d.nodes) {
      const info = await client.info();
      if (!wanted || wanted === info.name || wanted.replace(/\/+$/, '') === client.url)
        return { client, name: info.name, cpus: info.cpus };
    }
    throw new PlatformError(
      'bad_request',
      `node "${wanted}" is not one of this gateway's nodes (${d.nodes.map((n) => n.url).join(', ')})`,
      { details: { field: 'node' } },
    );
  }

  return {
    async request(namespace, name, body, options = {}) {
      const req = parseSweepRequest(body);
      const fn = await d.models.Function.findOne({ namespace, name }).lean();
      if (!fn)
        throw new PlatformError(
          'not_found',
          `function "${fnKey(namespace, name)}" is not deployed; deploy it before profiling it`,
        );
      const dev = readFunctionDevice((fn.annotations ?? {}) as Record<string, string>);
      const running = await d.redis.hget(d.keys.latest(), fnKey(namespace, name));
      if (running) {
        const job = await queue.getJob(running);
        if (job && ACTIVE.has(await job.getState())) {
          const v = await view(job);
          const who = v.origin === 'autoscaler' ? 'queued by the auto-scaler' : 'asked for earlier';
          const cli = `fastgshare profile ${name}${namespace === DEFAULT_NAMESPACE ? '' : ` -n ${namespace}`}`;
          throw new PlatformError(
            'conflict',
            `a sweep of "${fnKey(namespace, name)}" is already ${v.state === 'active' ? 'running' : 'queued'} (job ${job.id}, ${who}): follow it with \`${cli}\`, or cancel it with \`${cli} --cancel\` and ask again`,
            { details: { job: job.id, state: v.state } },
          );
        }
      }
      const node = await pickNode(req.node);
      const builtAt =
        (await d.imageBuiltAt?.(fn.image)) ?? (fn as { updatedAt?: Date }).updatedAt?.toISOString() ?? 'unknown';
      const automatic = options.origin === 'autoscaler';
      // the auto-scaler's sweep is short (a few minutes): a person asks for the full grid with `fastgshare profile`
      const grid = resolveGrid(
        automatic ? autoGrid(dev.device, node.cpus, dev.maxBatch) : defaultGrid(dev.device, node.cpus, dev.maxBatch),
        req.grid,
        dev.maxBatch,
      );
      const data: SweepJobData = {
        namespace,
        function: name,
        nodeUrl: node.client.url,
        node: node.name,
        cpus: node.cpus,
        device: dev.device,
        deviceId: dev.deviceId,
        deviceClass: sweepDeviceClass(dev.device, node.cpus),
        modelVersion: `${fn.image}@${builtAt}`,
        grid,
        trialSeconds: req.trialSeconds ?? (automatic ? Math.min(AUTO_TRIAL_SECONDS, d.trialSeconds) : d.trialSeconds),
        sloMs: req.sloMs ?? dev.sloMs ?? 1000,
        maxBatch: dev.maxBatch,
        ...(dev.emulatedProfile ? { emulatedProfile: dev.emulatedProfile } : {}),
        ...(req.input ? { input: req.input } : {}),
        origin: options.origin ?? 'request',
      };
      // the job id is the sweep id trials are stored under: unique even across Redis resets
      const jobId = `${name}.${namespace}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const job = await queue.add('sweep', data, {
        jobId,
        ...(data.origin === 'autoscaler' ? AUTO_RETRY : USER_RETRY),
        removeOnComplete: { count: 100 },
        removeOnFail: { count: 100 },
      });
      await d.redis.hset(d.keys.latest(), fnKey(namespace, name), job.id!);
      return view(job);
    },
    async job(namespace, name) {
      return view(await latest(namespace, name));
    },
    async cancel(namespace, name) {
      const job = await latest(namespace, name);
      const state = await job.getState();
      if (!ACTIVE.has(state))
        throw new PlatformError(
          'conflict',
          `the latest sweep of "${fnKey(namespace, name)}" has already ended (${state === 'failed' && isCancelReason(job.failedReason) ? 'cancelled' : state}): there is nothing to cancel`,
        );
      await d.redis.set(d.keys.cancel(job.id!), '1', 'EX', 86_400);
      if (state !== 'active') {
        // not running: fail it here (a worker that picks it up meanwhile sees the flag and stops)
        await job.remove().catch(() => undefined);
        await d.redis.hdel(d.keys.latest(), fnKey(namespace, name));
        return {
          ...(await view(job).catch(() => ({}) as SweepView)),
          id: job.id!,
          function: fnKey(namespace, name),
          state: 'cancelled',
        } as SweepView;
      }
      return { ...(await view(job)), state: 'cancelled' };
    },
    async queue(namespace) {
      const [active, pending, delayed] = await Promise.all([
        queue.getJobs(['active'], 0, -1, true),
        queue.getJobs([...PENDING], 0, -1, true),
        queue.getJobs(['delayed'], 0, -1, true),
      ]);
      const mine = (j: Job<SweepJobData, SweepResult> | undefined): j is Job<SweepJobData, SweepResult> =>
        j !== undefined && j.data !== undefined && (namespace === undefined || j.data.namespace === namespace);
      const sweeps: SweepView[] = [];
      for (const job of [...active, ...pending, ...delayed].filter(mine)) {
        const v = await view(job, pending).catch(() => undefined); // a job that ended meanwhile is left out
        if (v && v.state !== 'completed' && v.state !== 'failed' && v.state !== 'cancelled') sweeps.push(v);
      }
      return { running: active.length, ...(d.concurrency !== undefined ? { concurrency: d.concurrency } : {}), sweeps };
    },
    async cancelAutomatic() {
      const jobs = await queue.getJobs(['active', ...PENDING, 'delayed'], 0, -1, true);
      let n = 0;
      for (const job of jobs) {
        if (job?.data?.origin !== 'autoscaler') continue;
        await d.redis.set(d.keys.cancel(job.id!), '1', 'EX', 86_400);
        const state = await job.getState();
        // one that runs stops within a moment (its worker sees the flag); one that waits is removed here, as a cancel
        // does
        if (state !== 'active') {
          await job.remove().catch(() => undefined);
          const key = fnOf(job);
          if ((await d.redis.hget(d.keys.latest(), key)) === job.id) await d.redis.hdel(d.keys.latest(), key);
        }
        n++;
      }
      return n;
    },
    async table(namespace, name, deviceClass) {
      const t = await d.store.latestTable(namespace, name, deviceClass);
      if (!t)
        throw new PlatformError(
          'not_found',
          `no profile table for "${fnKey(namespace, name)}"${deviceClass ? ` on ${deviceClass}` : ''}; run a sweep with POST /system/profiles/${name} (fastgshare profile ${name})`,
        );
      return t;
    },
    async close() {
      await queue.close().catch(() => undefined);
    },
  };
}
