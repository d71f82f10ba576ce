/**
 * Seeded discrete-event simulation of an emulated cluster running one policy.
 * - Arrivals: Poisson per function at the trace's rate (one seeded stream per function, so every
 *   policy sees the same requests).
 * - Routing: weighted least-outstanding over a function's ready replicas (routing.ts).
 * - Replicas batch dynamically (take up to their batch size of what is queued when they get the
 *   device), drop requests already past their SLO (counted as violations), and run each batch for
 *   ℓ(b, p) from the profile table.
 * - Devices honour partitions: a replica runs when the partitions running plus its own are ≤ 100 %
 *   (several run at once), otherwise it waits; waiting replicas are served in order of time used
 *   per unit of quota (decayed over a 1 s window), every one that fits at each step (multi-token),
 *   except that the first one that does not fit and is owed time reserves the device.
 *   A grant is a token of at most `tokenMs` (default 20 ms, FaST's minimum token): a longer batch
 *   gives the device back between tokens when others wait, so time sharing interleaves.
 * - Every `periodS` the policy re-plans from the estimated demand (demand-estimator.ts fed with
 *   the rate seen in the last period); new replicas are ready after `coldStartS`, removed ones
 *   finish their batch and hand their queue back to the function. For a policy that runs on this
 *   platform's node agent (`liveQuota`), a replica whose group (function, device, configuration)
 *   is gone and whose process (partition, batch) a new replica on the same device shares keeps
 *   running warm at the new quota, as the agent applies a quota change live; any other change of
 *   configuration is a new replica.
 */
import { configKey, type ProfileTable } from '../../core/profiles/profile-table.ts';
import { createDemandEstimator, type DemandEstimatorOptions, type DemandEstimator } from '../demand-estimator.ts';
import type { Policy, PolicyFactory } from '../policies/policy.ts';
import type { DeviceSpec, PlacedReplica } from '../types.ts';
import { EventQueue } from './event-queue.ts';
import { createRng, streamSeed, type Rng } from './rng.ts';
import type { Trace } from './traces.ts';

export interface ClusterShape {
  nodes: number;
  devicesPerNode: number;
  deviceClass: string;
  memoryBytes: number;
}

export function clusterDevices(c: ClusterShape): DeviceSpec[] {
  const out: DeviceSpec[] = [];
  for (let n = 0; n < c.nodes; n++)
    for (let d = 0; d < c.devicesPerNode; d++)
      out.push({
        id: `node${n + 1}/gpu${d}`,
        nodeId: `node${n + 1}`,
        deviceClass: c.deviceClass,
        memoryBytes: c.memoryBytes,
      });
  return out;
}

export interface SimOptions {
  profiles: ProfileTable;
  devices: readonly DeviceSpec[];
  trace: Trace;
  policy: PolicyFactory;
  seed: number;
  /** Re-planning period, s (default 5). */
  periodS?: number;
  /** Time a new replica takes to become ready, s (default 2). */
  coldStartS?: number;
  /** Longest token a replica holds while others wait, ms (default 20). */
  tokenMs?: number;
  estimator?: DemandEstimatorOptions;
}

export interface TimelinePoint {
  tS: number;
  devicesUsed: number;
  replicas: number;
  demandRps: number;
  offeredRps: number;
}

export interface FunctionStats {
  function: string;
  arrived: number;
  completed: number;
  withinSlo: number;
  dropped: number;
}

export interface SimResult {
  policy: string;
  durationS: number;
  devicesMean: number;
  devicesMax: number;
  sloAttainment: number;
  throughputRps: number;
  goodputRps: number;
  /** Σ busy time × partition / Σ time × devices in use. */
  utilisation: number;
  p99Ms: number;
  unplacedMax: number;
  /** Replicas started after the first round (each waited `coldStartS` before serving). */
  coldStarts: number;
  /** Replicas whose quota changed in place (no cold start). */
  resizes: number;
  /** Σ over replicas of quota × partition, time-weighted mean (the share of devices allocated). */
  areaMean: number;
  functions: FunctionStats[];
  timeline: TimelinePoint[];
}

interface SimReplica {
  placed: PlacedReplica;
  key: string;
  fn: number;
  queue: number[];
  head: number;
  busy: boolean;
  waiting: boolean;
  readyAt: number;
  stopping: boolean;
  usage: number;
  usageAt: number;
  inBatch: number;
  /** The batch being served and how much of its service time is left. */
  batch: number[];
  leftMs: number;
  sliceMs: number;
}

interface SimDevice {
  occupied: number;
  waiting: SimReplica[];
}

interface Ev {
  t: number;
  seq: number;
  kind: 'arrival' | 'slice' | 'ready' | 'tick';
  fn?: number;
  rep?: SimReplica;
}

const USAGE_WINDOW_MS = 1000;

/** Same function, device, partition and batch: the same process, whatever the quota. */
function sameProcess(a: PlacedReplica, b: PlacedReplica): boolean {
  return (
    a.function === b.function &&
    a.deviceId === b.deviceId &&
    a.config.partitionPercent === b.config.partitionPercent &&
    a.config.batch === b.config.batch
  );
}
const HIST_MAX_MS = 60_000;

export function simulate(o: SimOptions): SimResult {
  const { profiles, trace } = o;
  const periodMs = (o.periodS ?? 5) * 1000;
  const coldMs = (o.coldStartS ?? 2) * 1000;
  const tokenMs = o.tokenMs ?? 20;
  const endMs = trace.durationS * 1000;
  const fns = trace.functions;
  const fnIndex = new Map(fns.map((f, i) => [f.name, i]));
  const policy: Policy = o.policy.create();
  const liveQuota = o.policy.liveQuota ?? false;
  const q = new EventQueue<Ev>();
  const rngs: Rng[] = fns.map((_, i) => createRng(streamSeed(o.seed, i)));
  const estimators: DemandEstimator[] = fns.map(() => createDemandEstimator(o.estimator));
  const devices = new Map<string, SimDevice>(o.devices.map((d) => [d.id, { occupied: 0, waiting: [] }]));
  const live: SimReplica[][] = fns.map(() => []);
  const stats: FunctionStats[] = fns.map((f) => ({
    function: f.name,
    arrived: 0,
    completed: 0,
    withinSlo: 0,
    dropped: 0,
  }));
  const arrivalsThisPeriod = new Float64Array(fns.length);
  const hist = new Uint32Array(HIST_MAX_MS + 1);
  const serviceCache = new Map<string, number>();
  const service = (model: string, b: number, p: number) => {
    const k = `${model}|${b}|${p}`;
    let v = serviceCache.get(k);
    if (v === undefined) serviceCache.set(k, (v = profiles.serviceMs(model, b, p)));
    return v;
  };
  let busySmMs = 0;
  let deviceMs = 0;
  let devicesUsed = 0;
  let devicesMax = 0;
  let unplacedMax = 0;
  let coldStarts = 0;
  let resizes = 0;
  let areaMs = 0;
  let areaNow = 0;
  let lastChange = 0;
  const timeline: TimelinePoint[] = [];
  const rateAt = (f: number, tMs: number) => trace.rates[f]![Math.min(trace.durationS - 1, Math.floor(tMs / 1000))]!;

  const scheduleArrival = (f: number, from: number) => {
    let t = from;
    while (t < endMs) {
      const r = rateAt(f, t);
      if (r > 0) {
        const next = t + rngs[f]!.exp(r / 1000);
        // A rate change inside the gap: restart the draw at the second boundary.
        const boundary = (Math.floor(t / 1000) + 1) * 1000;
        if (next <= boundary || rateAt(f, boundary) === r) {
          if (next < endMs) q.push({ t: next, kind: 'arrival', fn: f });
          return;
        }
        t = boundary;
      } else t = (Math.floor(t / 1000) + 1) * 1000;
    }
  };

  const record = (f: number, arrival: number, now: number) => {
    const lat = now - arrival;
    const s = stats[f]!;
    s.completed++;
    if (lat <= fns[f]!.sloMs) s.withinSlo++;
    hist[Math.min(HIST_MAX_MS, Math.max(0, Math.round(lat)))]!++;
  };

  const route = (f: number, arrival: number, now: number) => {
    const reps = live[f]!;
    if (reps.length === 0) {
      stats[f]!.dropped++;
      return;
    }
    let anyReady = false;
    for (const r of reps) if (r.readyAt <= now) anyReady = true;
    // Weighted least-outstanding, the same rule as routing.ts's pickReplica (inlined: per arrival).
    let rep = reps[0]!;
    let best = Infinity;
    for (const r of reps) {
      if (anyReady && r.readyAt > now) continue;
      const score = (r.queue.length - r.head + r.inBatch + 1) / (r.placed.capacityRps || 1e-9);
      if (score < best) ((best = score), (rep = r));
    }
    rep.queue.push(arrival);
    want(rep, now);
  };

  const want = (rep: SimReplica, now: number) => {
    if (rep.busy || rep.waiting || rep.readyAt > now || (rep.head >= rep.queue.length && rep.leftMs <= 0)) return;
    rep.waiting = true;
    const dev = devices.get(rep.placed.deviceId)!;
    dev.waiting.push(rep);
    grant(dev, now);
  };

  const decayed = (r: SimReplica, now: number) => r.usage * Math.exp(-(now - r.usageAt) / USAGE_WINDOW_MS);

  const grant = (dev: SimDevice, now: number) => {
    if (dev.waiting.length === 0) return;
    if (dev.waiting.length > 1)
      dev.waiting.sort((a, b) => decayed(a, now) / a.placed.config.quota - decayed(b, now) / b.placed.config.quota);
    const still: SimReplica[] = [];
    let reserved = false;
    for (const rep of dev.waiting) {
      const p = rep.placed.config.partitionPercent;
      if (reserved || dev.occupied + p > 100) {
        // The first replica that does not fit and is owed time (used < quota × window) reserves
        // the device: nobody behind it is granted, so large partitions do not starve.
        if (!reserved && decayed(rep, now) < rep.placed.config.quota * USAGE_WINDOW_MS) reserved = true;
        still.push(rep);
        continue;
      }
      rep.waiting = false;
      if (rep.leftMs <= 0) {
        const slo = fns[rep.fn]!.sloMs;
        while (rep.head < rep.queue.length && now - rep.queue[rep.head]! > slo) {
          rep.head++;
          stats[rep.fn]!.dropped++;
        }
        const n = Math.min(rep.placed.config.batch, rep.queue.length - rep.head);
        if (n === 0) continue;
        rep.batch = rep.queue.slice(rep.head, rep.head + n);
        rep.head += n;
        if (rep.head > 1024 && rep.head * 2 > rep.queue.length)
          ((rep.queue = rep.queue.slice(rep.head)), (rep.head = 0));
        rep.leftMs = service(rep.placed.model, n, p);
        rep.inBatch = n;
      }
      dev.occupied += p;
      rep.busy = true;
      runSlice(rep, now);
    }
    dev.waiting = still;
  };

  const runSlice = (rep: SimReplica, now: number) => {
    const d = Math.min(rep.leftMs, tokenMs);
    rep.sliceMs = d;
    rep.usage = decayed(rep, now) + d;
    rep.usageAt = now;
    busySmMs += (d * rep.placed.config.partitionPercent) / 100;
    q.push({ t: now + d, kind: 'slice', rep });
  };

  const stopReplica = (rep: SimReplica, now: number) => {
    rep.stopping = true;
    const dev = devices.get(rep.placed.deviceId)!;
    // A replica in the middle of a batch keeps its place to finish it; one only waiting leaves.
    if (rep.waiting && rep.leftMs <= 0) ((dev.waiting = dev.waiting.filter((r) => r !== rep)), (rep.waiting = false));
    const queued = rep.queue.slice(rep.head);
    rep.queue = [];
    rep.head = 0;
    for (const a of queued) route(rep.fn, a, now);
  };

  const replan = (now: number) => {
    const demand = new Map<string, number>();
    fns.forEach((f, i) => {
      const seen = now === 0 ? rateAt(i, 0) : arrivalsThisPeriod[i]! / (periodMs / 1000);
      estimators[i]!.observe(now, seen);
      demand.set(f.name, estimators[i]!.estimate().rps);
    });
    arrivalsThisPeriod.fill(0);
    const current = live.flat().map((r) => r.placed);
    const decision = policy.decide({ nowMs: now, functions: fns, demand, devices: o.devices, current, profiles });
    unplacedMax = Math.max(unplacedMax, decision.unplaced.length);
    const old = new Map<string, SimReplica[]>();
    for (const r of live.flat()) {
      let l = old.get(r.key);
      if (!l) old.set(r.key, (l = []));
      l.push(r);
    }
    const nextLive: SimReplica[][] = fns.map(() => []);
    const starting: SimReplica[] = [];
    const keyOf = (p: PlacedReplica) => `${p.function}|${p.deviceId}|${configKey(p.config)}`;
    const wanted = new Set(decision.replicas.map(keyOf));
    const unmatched: PlacedReplica[] = [];
    for (const p of decision.replicas) {
      const f = fnIndex.get(p.function);
      if (f === undefined) continue;
      const reuse = old.get(keyOf(p))?.shift();
      if (reuse) {
        reuse.placed = p;
        nextLive[f]!.push(reuse);
      } else unmatched.push(p);
    }
    for (const p of unmatched) {
      const f = fnIndex.get(p.function)!;
      const key = keyOf(p);
      if (liveQuota) {
        // The node agent's rule: a replica whose group (function, device, configuration) is gone
        // moves to a group of the same process (same partition and batch) at another quota, warm,
        // with its queue and its batch in flight.
        const from = [...old].find(([k, l]) => l.length > 0 && !wanted.has(k) && sameProcess(l[0]!.placed, p));
        const reuse = from?.[1].shift();
        if (reuse) {
          reuse.key = key;
          reuse.placed = p;
          nextLive[f]!.push(reuse);
          resizes++;
          continue;
        }
      }
      const rep: SimReplica = {
        placed: p,
        key,
        fn: f,
        queue: [],
        head: 0,
        busy: false,
        waiting: false,
        readyAt: now === 0 ? 0 : now + coldMs,
        stopping: false,
        usage: 0,
        usageAt: now,
        inBatch: 0,
        batch: [],
        leftMs: 0,
        sliceMs: 0,
      };
      nextLive[f]!.push(rep);
      starting.push(rep);
      if (now > 0) coldStarts++;
    }
    const leaving = [...old.values()].flat();
    for (let f = 0; f < fns.length; f++) live[f] = nextLive[f]!;
    for (const rep of leaving) stopReplica(rep, now);
    for (const rep of starting) if (rep.readyAt > now) q.push({ t: rep.readyAt, kind: 'ready', rep });
    // Devices in use, time-weighted.
    deviceMs += devicesUsed * (now - lastChange);
    areaMs += areaNow * (now - lastChange);
    lastChange = now;
    devicesUsed = new Set(live.flat().map((r) => r.placed.deviceId)).size;
    areaNow = live.flat().reduce((s, r) => s + (r.placed.config.quota * r.placed.config.partitionPercent) / 100, 0);
    devicesMax = Math.max(devicesMax, devicesUsed);
    timeline.push({
      tS: now / 1000,
      devicesUsed,
      replicas: live.flat().length,
      demandRps: [...demand.values()].reduce((s, x) => s + x, 0),
      offeredRps: fns.reduce((s, _, i) => s + rateAt(i, now), 0),
    });
  };

  replan(0);
  for (let f = 0; f < fns.length; f++) scheduleArrival(f, 0);
  for (let t = periodMs; t < endMs; t += periodMs) q.push({ t, kind: 'tick' });

  for (let e = q.pop(); e; e = q.pop()) {
    const now = e.t;
    if (e.kind === 'arrival') {
      const f = e.fn!;
      stats[f]!.arrived++;
      arrivalsThisPeriod[f]!++;
      route(f, now, now);
      scheduleArrival(f, now);
    } else if (e.kind === 'slice') {
      const rep = e.rep!;
      const dev = devices.get(rep.placed.deviceId)!;
      rep.leftMs -= rep.sliceMs;
      if (rep.leftMs > 1e-9 && dev.waiting.length === 0) {
        runSlice(rep, now);
        continue;
      }
      dev.occupied -= rep.placed.config.partitionPercent;
      rep.busy = false;
      if (rep.leftMs <= 1e-9) {
        rep.leftMs = 0;
        rep.inBatch = 0;
        for (const a of rep.batch) record(rep.fn, a, now);
        rep.batch = [];
        if (!rep.stopping) want(rep, now);
      } else {
        // Token used up while others wait: queue again with the rest of the batch.
        rep.waiting = true;
        dev.waiting.push(rep);
      }
      grant(dev, now);
    } else if (e.kind === 'ready') {
      if (!e.rep!.stopping) want(e.rep!, now);
    } else replan(now);
  }
  const lastT = Math.max(endMs, lastChange);
  deviceMs += devicesUsed * (lastT - lastChange);
  areaMs += areaNow * (lastT - lastChange);
  // Requests still queued at the end never finished in time.
  for (const reps of live) for (const r of reps) stats[r.fn]!.dropped += r.queue.length - r.head;

  const arrived = stats.reduce((s, x) => s + x.arrived, 0);
  const completed = stats.reduce((s, x) => s + x.completed, 0);
  const good = stats.reduce((s, x) => s + x.withinSlo, 0);
  let p99Ms = 0;
  let seen = 0;
  for (let i = 0; i <= HIST_MAX_MS; i++) {
    seen += hist[i]!;
    if (seen >= 0.99 * completed) {
      p99Ms = i;
      break;
    }
  }
  return {
    policy: o.policy.name,
    durationS: trace.durationS,
    devicesMean: deviceMs / endMs,
    devicesMax,
    sloAttainment: arrived ? good / arrived : 1,
    throughputRps: completed / trace.durationS,
    goodputRps: good / trace.durationS,
    utilisation: deviceMs ? busySmMs / deviceMs : 0,
    p99Ms,
    unplacedMax,
    coldStarts,
    resizes,
    areaMean: areaMs / endMs,
    functions: stats,
    timeline,
  };
}
