/**
 * One trial: deploy `<fn>--prof-<n>` with one replica at the configuration (through the node
 * agent, annotations set), wait until it is ready, warm it up, find its SLO rate and closed-loop
 * maximum with real load sent straight to the replica, and measure the device busy share (token
 * meters when gated, the replica's CPU use otherwise) and its memory. The trial function is
 * removed afterwards, whatever happened. The quota limit is set equal to the request, so the
 * table says what the replica gets from its guarantee alone, not from idle time it happened to find.
 */
import { PlatformError } from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { ANNOTATIONS as A } from '../core/contracts/annotations.ts';
import type { FunctionSpec, NodeAgentClient, ReplicaStatus } from '../core/contracts/node-agent.ts';
import type { ReplicaConfig } from '../core/profiles/profile-table.ts';
import type { LoadGenerator } from './load.ts';
import { CLOSED_LOOP_SHARE, searchSloRate } from './slo-search.ts';
import type { TrialMetrics } from './trial-result.ts';
import type { UsageReader } from './usage-reader.ts';
import { abortable, sleep } from './abort.ts';
import { forwardHeaders, type ReplicaTarget } from './replica-target.ts';
import type { ActiveTrials } from './active-trials.ts';
import type { TrialBody, TrialBodySource } from './sample-input.ts';

const TRIAL_LABEL = 'fastgshare/profiler-trial';

export interface TrialInput {
  /** The function's own spec; the trial runs a copy under `trialName`. */
  base: FunctionSpec;
  trialName: string;
  config: ReplicaConfig;
  sloMs: number;
  /** Load time, s (the closed loop and the open-loop steps share it). */
  seconds: number;
  /** The request body, given the ready replica's URL (the function's sample is fetched from it when none was given). */
  input: TrialBodySource;
  signal: AbortSignal;
}

export interface TrialDeps {
  node: NodeAgentClient;
  cpus: number;
  load: LoadGenerator;
  usage: UsageReader;
  clock: Clock;
  log: Logger;
  /** Longest wait for the replica to become ready (default 60 s). */
  readyTimeoutMs?: number;
  pollMs?: number;
  /** Where the trial function is marked as owned while it exists (the reconciler keeps only those). */
  active?: ActiveTrials;
}

export function trialSpec(base: FunctionSpec, name: string, c: ReplicaConfig): FunctionSpec {
  return {
    ...base,
    name,
    labels: { ...base.labels, [TRIAL_LABEL]: base.name },
    annotations: {
      ...base.annotations,
      [A.partition]: String(c.partitionPercent),
      [A.quotaRequest]: String(c.quota),
      [A.quotaLimit]: String(c.quota),
      [A.maxBatch]: String(c.batch),
    },
  };
}

export async function runTrial(d: TrialDeps, t: TrialInput): Promise<TrialMetrics> {
  const { node, clock } = d;
  const pollMs = d.pollMs ?? 100;
  const ns = t.base.namespace;
  const find = async () => (await node.listFunctions()).find((f) => f.name === t.trialName && f.namespace === ns);
  // owned before it exists on the node, so a reconcile pass in between does not remove it
  const owned = d.active?.add(ns, t.trialName);
  try {
    await node.applyFunction({ spec: trialSpec(t.base, t.trialName, t.config), replicas: 1 });
    const deadline = clock.now() + (d.readyTimeoutMs ?? 60_000);
    let replica: ReplicaStatus | undefined;
    for (;;) {
      replica = (await find())?.replicas.find((r) => r.state === 'ready');
      if (replica) break;
      if (clock.now() > deadline)
        throw new PlatformError(
          'unavailable',
          `trial replica ${t.trialName} was not ready within ${d.readyTimeoutMs ?? 60_000} ms; see \`fastgshare logs ${t.trialName}\``,
        );
      await sleep(pollMs, t.signal);
    }
    const url = replica.url;
    // load goes straight to the replica (no gateway hop in the numbers), with its forward token
    const headers = forwardHeaders(replica);
    const input = await t.input(replica, t.signal);
    await warmUp(replica, input, t, d.log);
    // A gated replica starts with a whole window of unused quota: measured at once, a short trial
    // would run on it and overstate what the quota delivers. Saturate it for one window first, so
    // the window holds steady-state use when measuring starts. Then its quota is used up for the
    // rest of that window and it refuses (429) what it cannot serve within the SLO: a closed loop
    // shorter than the window may see nothing served (0 req/s, a trial that did not measure the
    // configuration), so the search lasts long enough for its closed loop to span a whole window.
    let loadSeconds = t.seconds;
    if (t.config.quota < 1) {
      const windowMs = await d.usage.windowMs(node, replica.id);
      if (windowMs !== undefined) {
        const window = Math.min(windowMs, MAX_SATURATE_MS);
        // closed loop through the load generator (one abort listener, not one per request)
        await d.load.run({
          url,
          headers,
          body: input.body,
          contentType: input.contentType,
          connections: Math.max(2, 2 * t.config.batch),
          durationS: window / 1000,
          signal: t.signal,
        });
        loadSeconds = Math.max(loadSeconds, window / 1000 / CLOSED_LOOP_SHARE);
      }
    }

    const devBefore = await d.usage.deviceSeconds(node, replica.id);
    const startedAt = clock.now();
    const sampler = sampleReplica(
      async () => (await find())?.replicas.find((r) => r.id === replica!.id),
      Math.max(100, pollMs * 2),
      t.signal,
    );
    const search = await abortable(
      searchSloRate(d.load, {
        url,
        headers,
        body: input.body,
        contentType: input.contentType,
        batch: t.config.batch,
        sloMs: t.sloMs,
        seconds: loadSeconds,
        signal: t.signal,
      }),
      t.signal,
    );
    const seconds = Math.max(1e-3, (clock.now() - startedAt) / 1000);
    const devAfter = await d.usage.deviceSeconds(node, replica.id);
    const samples = await sampler.stop();
    if (t.signal.aborted) throw t.signal.reason;

    const gated = devBefore !== undefined && devAfter !== undefined;
    const meanCpu = samples.cpu.length ? samples.cpu.reduce((a, b) => a + b, 0) / samples.cpu.length : 0;
    const all = [search.closed, ...search.steps.map((s) => s.outcome)];
    const failed = all.reduce((n, o) => n + o.failed, 0);
    const shed = all.reduce((n, o) => n + (o.shed ?? 0), 0);
    const requests = all.reduce((n, o) => n + o.ok + o.failed, 0);
    const at = search.best?.outcome ?? search.closed;
    return {
      sloRps: search.best?.outcome.rps ?? 0,
      closedLoopRps: search.closed.rps,
      latencyMs: { p50: at.p50, p95: at.p95, p99: at.p99 },
      closedLoopLatencyMs: { p50: search.closed.p50, p95: search.closed.p95, p99: search.closed.p99 },
      errorRate: requests ? failed / requests : 1,
      failedRate: requests ? (failed - shed) / requests : 1,
      busyShare: Math.min(1, gated ? (devAfter - devBefore) / seconds : meanCpu / Math.max(1, d.cpus)),
      busySource: gated ? 'tokens' : 'cpu',
      memoryBytes: Math.max(0, ...samples.memory),
      requests,
      steps: search.steps.map((s) => ({
        targetRps: s.targetRps,
        rps: s.outcome.rps,
        p99: s.outcome.p99,
        errorRate: s.outcome.errorRate,
        meetsSlo: s.meetsSlo,
      })),
    };
  } finally {
    await node
      .removeFunction(ns, t.trialName)
      .catch((err: Error) => d.log.warn('cannot remove trial function', { function: t.trialName, error: err.message }));
    owned?.(); // one left behind by a failed removal is now the reconciler's to remove
  }
}

/** Longest one-window saturation before a gated trial (a window longer than this is cut short). */
const MAX_SATURATE_MS = 30_000;

/** A few rounds of `batch` concurrent requests, so model load and first-call costs stay out of the numbers. */
async function warmUp(replica: ReplicaTarget, input: TrialBody, t: TrialInput, log: Logger): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(
      Array.from({ length: Math.max(1, t.config.batch) }, () =>
        fetch(replica.url, {
          method: 'POST',
          body: new Uint8Array(input.body),
          headers: { ...forwardHeaders(replica), 'content-type': input.contentType },
          signal: t.signal,
        }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    const bad = answers.find((s) => s >= 400 && s !== 429);
    if (bad !== undefined && round === 2) {
      throw new PlatformError(
        'bad_request',
        `the trial replica answers ${bad} to the profiling input (${input.contentType}); give an input the function accepts`,
      );
    }
    if (bad !== undefined) log.debug('warm-up request failed', { status: bad });
  }
}

interface ReplicaSamples {
  cpu: number[];
  memory: number[];
}

function sampleReplica(
  read: () => Promise<ReplicaStatus | undefined>,
  everyMs: number,
  signal: AbortSignal,
): { stop(): Promise<ReplicaSamples> } {
  const out: ReplicaSamples = { cpu: [], memory: [] };
  let stopped = false;
  const loop = (async () => {
    while (!stopped && !signal.aborted) {
      const r = await read().catch(() => undefined);
      if (r) {
        out.cpu.push(r.usage.cpu);
        out.memory.push(r.usage.totalMemoryBytes);
      }
      await sleep(everyMs, signal).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return out;
    },
  };
}
