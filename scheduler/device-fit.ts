/**
 * What one device can still take. A replica asks for quota q of every window on p % of the SMs.
 * The multi-token scheduler runs together every set of replicas whose partitions sum ≤ 100 and
 * time-shares the rest, so a set of replicas can all get their quota requests only if
 *  1. area: Σ q·p ≤ 100 (the window × SM square is not over-full), and
 *  2. exclusion: replicas that can never run at the same time (p_i + p_j > 100) need Σ q ≤ 1.
 *     These pairs form a threshold graph; its largest weighted clique is all replicas with
 *     p > 50 that conflict with each other (every pair of them) plus at most one with p ≤ 50,
 *     so max clique = max(Σ_{p>50} q, q_x + Σ_{p>50, p>100−p_x} q over every p_x ≤ 50).
 * Both are necessary but not sufficient (three replicas can conflict where no two do: 50 + 50 + 6).
 * What suffices is a schedule: rectangles q × p packed without overlap in the window × SM square
 * (each replica runs during its time span on its band of SMs, so the partitions running at any
 * instant sum ≤ 100). So when the partitions on a device add up to more than 100 % the replica must
 * also fit a MaxRects packing of the device (as FaST-GShare places); at ≤ 100 % all run at once.
 * The token scheduler then only has to give each replica its quota, which such a schedule shows is
 * possible. Latency: once partitions add up to more than 100 %, a replica
 * may wait for another's token before each batch, so every replica's slack must cover the longest
 * token any replica there holds. Memory: the weights of a model are counted once per device
 * (model sharing), plus each replica's runtime.
 */
import { configArea, type ModelFootprint } from '../core/profiles/profile-table.ts';
import { MaxRectsBin } from './maxrects.ts';
import type { DeviceSpec, PlacedReplica, ReplicaConfig } from './types.ts';

export type Candidate = Pick<PlacedReplica, 'model' | 'config' | 'latency'>;
export type Rejection = 'device class' | 'area' | 'memory' | 'time-sharing' | 'latency';

const EPS = 1e-9;

export class DeviceLoad {
  readonly replicas: PlacedReplica[] = [];
  area = 0;
  memoryBytes = 0;
  partitionSum = 0;
  private bin: MaxRectsBin | undefined = new MaxRectsBin();
  readonly models = new Map<string, number>();

  constructor(readonly device: DeviceSpec) {}

  get empty(): boolean {
    return this.replicas.length === 0;
  }

  hasModel(model: string): boolean {
    return (this.models.get(model) ?? 0) > 0;
  }

  /** Memory added by one more replica of `model`. */
  memoryFor(model: string, fp: ModelFootprint): number {
    return fp.replicaBytes + (this.hasModel(model) ? 0 : fp.weightsBytes);
  }

  /** Why the candidate does not fit, or undefined when it does. */
  rejects(c: Candidate, fp: ModelFootprint, deviceClass?: string): Rejection | undefined {
    const { model, config } = c;
    if (deviceClass !== undefined && deviceClass !== this.device.deviceClass) return 'device class';
    if (this.area + configArea(config) > 1 + EPS) return 'area';
    if (this.memoryBytes + this.memoryFor(model, fp) > this.device.memoryBytes) return 'memory';
    // At ≤ 100 % of the SMs in all, every replica runs at once: nothing to check about time.
    if (this.partitionSum + config.partitionPercent > 100) {
      if (this.exclusiveQuotaWith(config) > 1 + EPS) return 'time-sharing';
      if (!this.packing().fit(...rect(config))) return 'time-sharing';
      if (!latencyCompatible(this.replicas, c)) return 'latency';
    }
    return undefined;
  }

  add(r: PlacedReplica, fp: ModelFootprint): void {
    this.memoryBytes += this.memoryFor(r.model, fp);
    this.models.set(r.model, (this.models.get(r.model) ?? 0) + 1);
    this.area += configArea(r.config);
    this.partitionSum += r.config.partitionPercent;
    this.replicas.push(r);
    if (this.bin && !this.bin.insert(...rect(r.config))) this.bin = undefined;
  }

  remove(r: PlacedReplica, fp: ModelFootprint): void {
    const i = this.replicas.findIndex((x) => x.id === r.id);
    if (i < 0) return;
    this.replicas.splice(i, 1);
    const left = (this.models.get(r.model) ?? 1) - 1;
    if (left > 0) this.models.set(r.model, left);
    else this.models.delete(r.model);
    this.memoryBytes -= fp.replicaBytes + (left > 0 ? 0 : fp.weightsBytes);
    this.area -= configArea(r.config);
    this.partitionSum -= r.config.partitionPercent;
    this.bin = undefined;
    if (this.replicas.length === 0) ((this.area = 0), (this.memoryBytes = 0), (this.partitionSum = 0));
  }

  /** maxExclusiveQuota of the replicas here plus `extra` (no closures or lists: this runs per device per replica). */
  private exclusiveQuotaWith(extra: ReplicaConfig): number {
    const rs = this.replicas;
    let bigSum = extra.partitionPercent > 50 ? extra.quota : 0;
    for (let i = 0; i < rs.length; i++) if (rs[i]!.config.partitionPercent > 50) bigSum += rs[i]!.config.quota;
    let best = bigSum;
    for (let i = 0; i <= rs.length; i++) {
      const x = i < rs.length ? rs[i]!.config : extra;
      if (x.partitionPercent > 50) continue;
      let sum = x.quota;
      for (let j = 0; j <= rs.length; j++) {
        const c = j < rs.length ? rs[j]!.config : extra;
        if (c.partitionPercent > 50 && c.partitionPercent + x.partitionPercent > 100) sum += c.quota;
      }
      if (sum > best) best = sum;
    }
    return best;
  }

  /** The time × SM packing of the replicas here (rebuilt, tallest first, after a removal). */
  private packing(): MaxRectsBin {
    if (this.bin) return this.bin;
    const bin = new MaxRectsBin();
    const sorted = [...this.replicas].sort(
      (a, b) => b.config.partitionPercent - a.config.partitionPercent || b.config.quota - a.config.quota,
    );
    for (const r of sorted) bin.insert(...rect(r.config));
    this.bin = bin;
    return bin;
  }
}

function rect(c: ReplicaConfig): [number, number] {
  return [Math.round(c.quota * 1000), c.partitionPercent];
}

/** Largest Σ quota over replicas that pairwise cannot run together (p_i + p_j > 100). */
export function maxExclusiveQuota(configs: readonly ReplicaConfig[]): number {
  let bigSum = 0;
  for (const c of configs) if (c.partitionPercent > 50) bigSum += c.quota;
  let best = bigSum;
  for (const x of configs) {
    if (x.partitionPercent > 50) continue;
    let s = x.quota;
    for (const c of configs) if (c.partitionPercent > 50 && c.partitionPercent + x.partitionPercent > 100) s += c.quota;
    if (s > best) best = s;
  }
  return best;
}

/** On a time-shared device: does every replica's slack cover the longest token another one holds? */
export function latencyCompatible(replicas: readonly Candidate[], extra?: Candidate): boolean {
  const n = replicas.length + (extra ? 1 : 0);
  let first = 0;
  let second = 0;
  for (let i = 0; i < n; i++) {
    const h = (i < replicas.length ? replicas[i]! : extra!).latency?.holdMs ?? 0;
    if (h > first) ((second = first), (first = h));
    else if (h > second) second = h;
  }
  for (let i = 0; i < n; i++) {
    const r = i < replicas.length ? replicas[i]! : extra!;
    const slack = r.latency?.slackMs ?? Infinity;
    const others = (r.latency?.holdMs ?? 0) === first ? second : first;
    if (slack < others) return false;
  }
  return true;
}
