/**
 * The node's device timelines: per device a bounded ring buffer of token and batch events (see
 * `DeviceTimeline` in core/contracts/node-agent.ts), on by default and cheap enough to leave on
 * (a few typed-array stores per event, no allocation: the buffer is struct-of-arrays, replica ids
 * are interned). The token server (sharing/token-server.ts) records acquire/grant/release/leave,
 * the emulated device's contention server (devices/emulated-device-server.ts) batch start/end.
 *
 * Whose batch: the emulated device only sees a connection per replica process, not who it is. The
 * recorder learns it from the tokens: a gated replica's batch starts while it holds a token, so a
 * connection's replica is the one holder of that partition that held a token at every batch the
 * connection started (the candidate set is narrowed batch by batch; replicas of equal partitions
 * are told apart once their tokens stop overlapping). Racing replicas hold no token: their batches
 * stay per connection (`source`).
 */
import type { Clock } from '../../core/clock.ts';
import type {
  DeviceTimeline,
  TimelineEvent,
  TimelineEventKind,
  TimelineReplica,
} from '../../core/contracts/node-agent.ts';
import { DeviceState } from './device-state.ts';

/** Events kept per device unless configured (FASTGSHARE_TIMELINE_EVENTS). */
export const DEFAULT_TIMELINE_EVENTS = 50_000;

const KINDS: TimelineEventKind[] = ['acquire', 'grant', 'release', 'leave', 'batch-start', 'batch-end'];
const K = { acquire: 0, grant: 1, release: 2, leave: 3, batchStart: 4, batchEnd: 5 } as const;
/** Replica infos kept for replicas that have left (newest kept). */
const MAX_REPLICA_INFOS = 4096;

/** One device's recording hooks. */
export interface DeviceRecorder {
  readonly device: string;
  acquire(replica: string, partition: number, burstMs?: number): void;
  grant(replica: string, partition: number, quotaMs: number, waitedMs: number): void;
  release(replica: string, partition: number, heldMs: number, usedMs?: number): void;
  leave(replica: string, partition: number): void;
  /** A batch of `soloMs` device time started on connection `source`; returns its key for `batchEnd`. */
  batchStart(source: number, partition: number, soloMs: number): number;
  batchEnd(batch: number, elapsedMs: number, cancelled?: boolean): void;
}

export interface DeviceTimelines {
  /** Events kept per device (0: recording is off and every hook does nothing). */
  readonly capacity: number;
  /** The recorder of `device` (made on first use). */
  device(device: string): DeviceRecorder;
  /** Notes a replica's share (the token server calls it when the replica registers or its share changes). */
  replica(device: string, info: TimelineReplica): void;
  /** Devices with a recorder. */
  devices(): string[];
  /**
   * The device's events in [from, now]; `since` (agent-clock ms) or `lastMs` pick `from` (default: the oldest kept).
   */
  snapshot(device: string, q?: { since?: number; lastMs?: number }): DeviceTimeline;
}

class Ring implements DeviceRecorder {
  readonly t: Float64Array;
  readonly kind: Uint8Array;
  readonly rep: Int32Array;
  readonly part: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly batch: Int32Array;
  readonly src: Int32Array;
  readonly flag: Uint8Array;
  head = 0;
  size = 0;
  dropped = 0;
  hasBatches = false;
  private seq = 0;
  /** Token holders now (for telling whose batches a connection runs). */
  private readonly holders = new Map<string, number>();
  /** Per device connection: its replica's candidates (one left = known). */
  readonly sources = new Map<number, Set<string>>();
  private readonly batchSrc = new Map<number, number>();

  constructor(
    readonly device: string,
    private readonly cap: number,
    private readonly clock: Clock,
    private readonly intern: (id: string) => number,
    private readonly nameOf: (i: number) => string,
  ) {
    this.t = new Float64Array(cap);
    this.kind = new Uint8Array(cap);
    this.rep = new Int32Array(cap);
    this.part = new Float64Array(cap);
    this.a = new Float64Array(cap);
    this.b = new Float64Array(cap);
    this.batch = new Int32Array(cap);
    this.src = new Int32Array(cap);
    this.flag = new Uint8Array(cap);
  }

  private push(
    kind: number,
    rep: number,
    partition: number,
    a: number,
    b: number,
    batch: number,
    src: number,
    flag: number,
  ): void {
    const cap = this.cap;
    if (cap === 0) return;
    const i = (this.head + this.size) % cap;
    if (this.size === cap) {
      this.head = (this.head + 1) % cap;
      this.dropped++;
    } else this.size++;
    this.t[i] = this.clock.now();
    this.kind[i] = kind;
    this.rep[i] = rep;
    this.part[i] = partition;
    this.a[i] = a;
    this.b[i] = b;
    this.batch[i] = batch;
    this.src[i] = src;
    this.flag[i] = flag;
  }

  acquire(replica: string, partition: number, burstMs?: number): void {
    if (this.cap === 0) return;
    this.holders.delete(replica);
    this.push(K.acquire, this.intern(replica), partition, burstMs ?? NaN, NaN, -1, -1, 0);
  }
  grant(replica: string, partition: number, quotaMs: number, waitedMs: number): void {
    if (this.cap === 0) return;
    this.holders.set(replica, partition);
    this.push(K.grant, this.intern(replica), partition, quotaMs, waitedMs, -1, -1, 0);
  }
  release(replica: string, partition: number, heldMs: number, usedMs?: number): void {
    if (this.cap === 0) return;
    this.holders.delete(replica);
    this.push(K.release, this.intern(replica), partition, heldMs, usedMs ?? NaN, -1, -1, 0);
  }
  leave(replica: string, partition: number): void {
    if (this.cap === 0) return;
    this.holders.delete(replica);
    this.push(K.leave, this.intern(replica), partition, NaN, NaN, -1, -1, 0);
  }
  batchStart(source: number, partition: number, soloMs: number): number {
    const key = (this.seq = (this.seq + 1) | 0);
    if (this.cap === 0) return key;
    this.hasBatches = true;
    const rep = this.attribute(source, partition);
    this.batchSrc.set(key, source);
    this.push(K.batchStart, rep, partition, soloMs, NaN, key, source, 0);
    return key;
  }
  batchEnd(batch: number, elapsedMs: number, cancelled = false): void {
    if (this.cap === 0) return;
    const source = this.batchSrc.get(batch) ?? -1;
    this.batchSrc.delete(batch);
    this.push(K.batchEnd, source >= 0 ? this.known(source) : -1, NaN, NaN, elapsedMs, batch, source, cancelled ? 1 : 0);
  }

  /** Narrows the connection's candidates to the holders of `partition` now; its replica's index when one is left. */
  private attribute(source: number, partition: number): number {
    let cands = this.sources.get(source);
    if (cands?.size === 1) return this.intern(cands.values().next().value!);
    const now: string[] = [];
    for (const [id, p] of this.holders) if (p === partition) now.push(id);
    if (now.length) {
      if (!cands) this.sources.set(source, (cands = new Set(now)));
      else {
        const both = now.filter((id) => cands!.has(id));
        if (both.length) this.sources.set(source, (cands = new Set(both)));
      }
    }
    return cands?.size === 1 ? this.intern(cands.values().next().value!) : -1;
  }

  private known(source: number): number {
    const c = this.sources.get(source);
    return c?.size === 1 ? this.intern(c.values().next().value!) : -1;
  }

  /** The stored event at ring position `i` (its batch resolved to a replica when known by now). */
  event(i: number): TimelineEvent {
    const kind = KINDS[this.kind[i]!]!;
    const ev: TimelineEvent = { t: this.t[i]!, kind, partition: this.part[i]! };
    let rep = this.rep[i]!;
    const src = this.src[i]!;
    if (rep < 0 && src >= 0) rep = this.known(src);
    if (rep >= 0) ev.replica = this.nameOf(rep);
    const a = this.a[i]!,
      b = this.b[i]!;
    switch (kind) {
      case 'acquire':
        if (!Number.isNaN(a)) ev.burstMs = a;
        break;
      case 'grant':
        ev.quotaMs = a;
        ev.waitedMs = b;
        break;
      case 'release':
        ev.heldMs = a;
        if (!Number.isNaN(b)) ev.usedMs = b;
        break;
      case 'batch-start':
        ev.batch = this.batch[i]!;
        ev.source = src;
        ev.soloMs = a;
        break;
      case 'batch-end':
        ev.batch = this.batch[i]!;
        if (src >= 0) ev.source = src;
        ev.elapsedMs = b;
        if (this.flag[i]) ev.cancelled = true;
        break;
      default:
        break;
    }
    return ev;
  }
}

export function createDeviceTimelines(o: { clock: Clock; capacity?: number }): DeviceTimelines {
  const capacity = o.capacity ?? DEFAULT_TIMELINE_EVENTS;
  if (!(Number.isInteger(capacity) && capacity >= 0))
    throw new RangeError(`timeline capacity must be a whole number ≥ 0, got ${capacity}`);
  const rings = new Map<string, Ring>();
  const ids = new Map<string, number>();
  const names: string[] = [];
  const infos = new Map<string, Map<string, TimelineReplica>>();
  const intern = (id: string) => {
    let i = ids.get(id);
    if (i === undefined) {
      i = names.length;
      names.push(id);
      ids.set(id, i);
    }
    return i;
  };
  const nameOf = (i: number) => names[i]!;
  const ring = (device: string): Ring => {
    let r = rings.get(device);
    if (!r) rings.set(device, (r = new Ring(device, capacity, o.clock, intern, nameOf)));
    return r;
  };

  return {
    capacity,
    device: ring,
    devices: () => [...rings.keys()],
    replica(device, info) {
      if (capacity === 0) return;
      let m = infos.get(device);
      if (!m) infos.set(device, (m = new Map()));
      m.delete(info.id);
      m.set(info.id, { ...info });
      if (m.size > MAX_REPLICA_INFOS) m.delete(m.keys().next().value!);
    },
    snapshot(device, q = {}) {
      const r = rings.get(device);
      const now = o.clock.now();
      const oldest = r && r.size ? r.t[r.head]! : now;
      const from = Math.min(now, q.since !== undefined ? q.since : q.lastMs !== undefined ? now - q.lastMs : oldest);
      const state = new DeviceState();
      const events: TimelineEvent[] = [];
      const seen = new Set<string>();
      if (r) {
        for (let k = 0; k < r.size; k++) {
          const i = (r.head + k) % capacity;
          const ev = r.event(i);
          if (ev.t < from) state.apply(ev);
          else {
            events.push(ev);
            if (ev.replica) seen.add(ev.replica);
          }
        }
      }
      const open = {
        waiting: [...state.waiting].map(([replica, s]) => ({ replica, ...s })),
        holding: [...state.holding].map(([replica, s]) => ({ replica, ...s })),
        running: [...state.running].map(([batch, s]) => ({ batch, ...s })),
      };
      for (const x of [...open.waiting, ...open.holding, ...open.running]) if (x.replica) seen.add(x.replica);
      const known = infos.get(device);
      const partitionOf = (id: string) =>
        events.find((e) => e.replica === id)?.partition ??
        [...open.waiting, ...open.holding, ...open.running].find((x) => x.replica === id)?.partition ??
        0;
      const replicas = [...seen].sort().map((id) => known?.get(id) ?? { id, partition: partitionOf(id) });
      return {
        device,
        window: { from, to: now },
        capacity,
        dropped: r?.dropped ?? 0,
        batches: r?.hasBatches ?? false,
        replicas,
        open,
        events,
      };
    },
  };
}
