/**
 * Where a device's time went, from its timeline (pure; core/contracts/node-agent.ts DeviceTimeline).
 * Over the window [from, to], with "running" = Σ partition of the running batches (of the token
 * holders on a device that reports no batches):
 *   idle with work waiting   some replica waits for a token (acquire sent, no grant yet) whose
 *                            partition would fit beside what runs (Σ running + its partition ≤ 100)
 *   hand-over                from a token's release, while some replica waits, to the device's next grant
 *   held, no batch           a replica holds a token and none of its batches runs (devices that report
 *                            batches; replica-ms, so it can exceed the window with several holders)
 *   busy / utilisation       time with anything running; mean of min(Σ running, 100) / 100
 */
import type { DeviceTimeline, TimelineEvent } from '../../core/contracts/node-agent.ts';
import { DeviceState } from './device-state.ts';

export interface ReplicaWaste {
  replica: string;
  partition: number;
  grants: number;
  /** Time it waited for tokens (acquire → grant), ms. */
  waitMs: number;
  heldMs: number;
  /** Held with none of its batches running (undefined when the device reports no batches). */
  heldIdleMs?: number;
  /** Time with at least one of its batches running. */
  batchMs?: number;
  batches?: number;
}

export interface DeviceWaste {
  device: string;
  windowMs: number;
  busyMs: number;
  /** Mean min(Σ running partition, 100) / 100 over the window, 0..1. */
  utilisation: number;
  idleWithWorkWaitingMs: number;
  handoverMs: number;
  heldMs: number;
  /** Σ over replicas of token time with none of the holder's batches running (undefined without batch events). */
  heldIdleMs?: number;
  grants: number;
  waitMs: number;
  /** Batches whose replica the device could not tell (racing replicas hold no token). */
  unattributedBatches: number;
  replicas: ReplicaWaste[];
}

const FIT_EPS = 1e-9;

export function wasteOf(tl: DeviceTimeline): DeviceWaste {
  const { from, to } = tl.window;
  const s = new DeviceState();
  for (const w of tl.open.waiting) s.waiting.set(w.replica, { partition: w.partition, since: w.since });
  for (const h of tl.open.holding) s.holding.set(h.replica, { partition: h.partition, since: h.since });
  for (const b of tl.open.running)
    s.running.set(b.batch, {
      partition: b.partition,
      since: b.since,
      ...(b.replica !== undefined ? { replica: b.replica } : {}),
    });

  const per = new Map<string, ReplicaWaste>();
  const rep = (id: string, partition: number): ReplicaWaste => {
    let r = per.get(id);
    if (!r)
      per.set(
        id,
        (r = {
          replica: id,
          partition,
          grants: 0,
          waitMs: 0,
          heldMs: 0,
          ...(tl.batches ? { heldIdleMs: 0, batchMs: 0, batches: 0 } : {}),
        }),
      );
    return r;
  };
  for (const x of tl.replicas) rep(x.id, x.partition);

  let busyMs = 0,
    work = 0,
    idleWaiting = 0,
    handover = 0;
  let inHandover = false;
  let unattributed = 0;
  let at = from;
  /** Batches running per replica now. */
  const runningOf = new Map<string, number>();
  for (const b of s.running.values()) if (b.replica) runningOf.set(b.replica, (runningOf.get(b.replica) ?? 0) + 1);

  const accrue = (until: number) => {
    const dt = Math.min(until, to) - at;
    if (dt <= 0) return;
    const sum = s.runningPartition(tl.batches);
    if (sum > 0) busyMs += dt;
    work += Math.min(sum, 100) * dt;
    let fits = false;
    for (const [id, w] of s.waiting) {
      rep(id, w.partition).waitMs += dt;
      if (sum + w.partition <= 100 + FIT_EPS) fits = true;
    }
    if (fits) idleWaiting += dt;
    if (inHandover) handover += dt;
    for (const [id, h] of s.holding) {
      const r = rep(id, h.partition);
      r.heldMs += dt;
      if (tl.batches && !(runningOf.get(id)! > 0)) r.heldIdleMs! += dt;
    }
    if (tl.batches) for (const [id, n] of runningOf) if (n > 0) rep(id, 0).batchMs! += dt;
    at = Math.min(until, to);
  };

  const sorted: TimelineEvent[] = tl.events.every((e, i, a) => i === 0 || a[i - 1]!.t <= e.t)
    ? tl.events
    : [...tl.events].sort((a, b) => a.t - b.t);
  for (const ev of sorted) {
    if (ev.t > to) break;
    if (ev.t > at) accrue(ev.t);
    if (ev.kind === 'batch-start' && ev.batch !== undefined) {
      if (ev.replica) {
        runningOf.set(ev.replica, (runningOf.get(ev.replica) ?? 0) + 1);
        rep(ev.replica, ev.partition).batches! += 1;
      } else unattributed++;
    } else if (ev.kind === 'batch-end' && ev.batch !== undefined) {
      const b = s.running.get(ev.batch);
      if (b?.replica) runningOf.set(b.replica, Math.max(0, (runningOf.get(b.replica) ?? 0) - 1));
    } else if (ev.kind === 'grant' && ev.replica) {
      rep(ev.replica, ev.partition).grants++;
    }
    s.apply(ev);
    if (ev.kind === 'grant' || s.waiting.size === 0) inHandover = false;
    if (ev.kind === 'release' && s.waiting.size > 0) inHandover = true;
  }
  accrue(to);

  const replicas = [...per.values()].sort((a, b) => (a.replica < b.replica ? -1 : 1));
  const windowMs = Math.max(0, to - from);
  const sum = (f: (r: ReplicaWaste) => number) => replicas.reduce((n, r) => n + f(r), 0);
  return {
    device: tl.device,
    windowMs,
    busyMs,
    utilisation: windowMs > 0 ? work / (100 * windowMs) : 0,
    idleWithWorkWaitingMs: idleWaiting,
    handoverMs: handover,
    heldMs: sum((r) => r.heldMs),
    ...(tl.batches ? { heldIdleMs: sum((r) => r.heldIdleMs ?? 0) } : {}),
    grants: sum((r) => r.grants),
    waitMs: sum((r) => r.waitMs),
    unattributedBatches: unattributed,
    replicas,
  };
}

/** Several devices' waste as one (sums of ms; utilisation weighted by window). */
export function mergeWaste(device: string, list: DeviceWaste[]): DeviceWaste {
  const total = (f: (w: DeviceWaste) => number) => list.reduce((n, w) => n + f(w), 0);
  const windowMs = total((w) => w.windowMs);
  const anyBatches = list.some((w) => w.heldIdleMs !== undefined);
  return {
    device,
    windowMs,
    busyMs: total((w) => w.busyMs),
    utilisation: windowMs > 0 ? total((w) => w.utilisation * w.windowMs) / windowMs : 0,
    idleWithWorkWaitingMs: total((w) => w.idleWithWorkWaitingMs),
    handoverMs: total((w) => w.handoverMs),
    heldMs: total((w) => w.heldMs),
    ...(anyBatches ? { heldIdleMs: total((w) => w.heldIdleMs ?? 0) } : {}),
    grants: total((w) => w.grants),
    waitMs: total((w) => w.waitMs),
    unattributedBatches: total((w) => w.unattributedBatches),
    replicas: list.flatMap((w) => w.replicas),
  };
}

/**
 * The shares a report prints: of the window (idle waiting, hand-over, busy) and of the held time (held idle; absent
 * without batch events or tokens).
 */
export function wasteShares(w: DeviceWaste): {
  idleWithWorkWaiting: number;
  handover: number;
  busy: number;
  utilisation: number;
  heldIdleOfHeld?: number;
} {
  const of = (n: number, d: number) => (d > 0 ? n / d : 0);
  return {
    idleWithWorkWaiting: of(w.idleWithWorkWaitingMs, w.windowMs),
    handover: of(w.handoverMs, w.windowMs),
    busy: of(w.busyMs, w.windowMs),
    utilisation: w.utilisation,
    ...(w.heldIdleMs !== undefined && w.heldMs > 0 ? { heldIdleOfHeld: w.heldIdleMs / w.heldMs } : {}),
  };
}
