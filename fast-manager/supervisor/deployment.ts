/**
 * The replicas of one function on this node, reconciled to the desired groups: each group is a
 * template (the spec with the group's annotation overrides) and a count. A request without groups
 * is one group of the spec as it is.
 *
 * A replica belongs to the group it was started for. Scaling a group starts or drains replicas of
 * that group only (newest first). A replica whose group is gone but whose fingerprint matches a
 * group that lacks replicas moves to it without a restart (a quota change, applied live by the
 * sharing layer). Replicas that match no group are old: they are rolled, one new replica per
 * group at a time, and an old one is drained once enough new ones are ready, so the function
 * keeps serving; if no old replica is serving, all are replaced at once. Changing one group's
 * configuration therefore replaces only that group's replicas. The reconcile loop re-evaluates
 * on every replica state change and every apply.
 */
import type { Logger } from '../../core/logger.ts';
import type { FunctionReplicas, ReplicaGroupStatus } from '../../core/contracts/node-agent.ts';
import type { Replica, ReplicaTemplate } from '../replicas/replica.ts';

export type ReplicaFactory = (template: ReplicaTemplate) => Replica;

/** One group the deployment should run. */
export interface DesiredGroup {
  /** replicaGroupKey(overrides): unique within a deployment. */
  key: string;
  overrides: Record<string, string>;
  template: ReplicaTemplate;
  desired: number;
}

interface Membership {
  /** `${fingerprint}|${key}` of the group the replica runs for. */
  id: string;
  status: ReplicaGroupStatus;
}

const groupId = (g: DesiredGroup) => `${g.template.fingerprint}|${g.key}`;
const isReady = (r: Replica) => r.state === 'ready';

export class Deployment {
  private groups: DesiredGroup[] = [];
  private imageRef = '';
  /** The request had groups: replicas report theirs. */
  private grouped = false;
  private replicas: Replica[] = [];
  private readonly member = new WeakMap<Replica, Membership>();
  private looping = false;
  private removed = false;
  private wake?: () => void;
  private dirty = false;
  private settledWaiters: (() => void)[] = [];
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    readonly namespace: string,
    readonly name: string,
    private readonly createReplica: ReplicaFactory,
    private readonly log: Logger,
  ) {}

  /** Sets the desired state; resolves once the first reconcile step for it has run. */
  apply(image: string, groups: DesiredGroup[], grouped: boolean): Promise<void> {
    this.imageRef = image;
    this.groups = groups;
    this.grouped = grouped;
    const settled = new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    this.notify();
    if (!this.looping) void this.loop();
    return settled;
  }

  /** Called on any replica state change. */
  notify(): void {
    this.replicas = this.replicas.filter((r) => r.state !== 'stopped');
    this.dirty = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Drains every replica and forgets the function. */
  async remove(): Promise<void> {
    this.removed = true;
    this.groups = [];
    for (const r of this.replicas) this.retire(r);
    this.notify();
    await Promise.all([...this.retiring]);
  }

  get desired(): number {
    return this.groups.reduce((a, g) => a + g.desired, 0);
  }

  status(): FunctionReplicas {
    return {
      name: this.name,
      namespace: this.namespace,
      image: this.image,
      desired: this.desired,
      ...(this.grouped
        ? { groups: this.groups.map((g) => ({ key: g.key, annotations: { ...g.overrides }, desired: g.desired })) }
        : {}),
      replicas: this.replicas
        .filter((r) => r.state !== 'stopped')
        .sort((a, b) => a.seq - b.seq)
        .map((r) => {
          const m = this.member.get(r);
          return this.grouped && m
            ? { ...r.status(), group: { key: m.status.key, annotations: { ...m.status.annotations } } }
            : r.status();
        }),
    };
  }

  get image(): string {
    return this.imageRef;
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (!this.removed) {
        this.dirty = false;
        const done = await this.step();
        this.releaseSettled();
        if (done && !this.dirty) break;
        if (!this.dirty) await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } catch (err) {
      this.log.error('reconcile failed', { function: `${this.name}.${this.namespace}`, err });
    } finally {
      this.looping = false;
      this.releaseSettled();
    }
  }

  private releaseSettled(): void {
    const ws = this.settledWaiters;
    this.settledWaiters = [];
    for (const w of ws) w();
  }

  private join(r: Replica, g: DesiredGroup): void {
    this.member.set(r, { id: groupId(g), status: { key: g.key, annotations: g.overrides } });
  }

  /** One reconcile decision; true when the deployment matches the desired state. */
  private async step(): Promise<boolean> {
    const groups = this.groups;
    const live = this.replicas.filter((r) => !r.isStopping);
    const byId = new Map(groups.map((g) => [groupId(g), g]));
    const members = new Map<DesiredGroup, Replica[]>(groups.map((g) => [g, []]));
    const unplaced: Replica[] = [];
    for (const r of live) {
      const g = byId.get(this.member.get(r)?.id ?? '');
      if (g) members.get(g)!.push(r);
      else unplaced.push(r);
    }
    // same process, other quota: moves to a group that lacks replicas, no restart (ready ones first)
    const old: Replica[] = [];
    unplaced.sort((a, b) => Number(isReady(b)) - Number(isReady(a)) || a.seq - b.seq);
    for (const r of unplaced) {
      const g = groups.find((x) => x.template.fingerprint === r.fingerprint && members.get(x)!.length < x.desired);
      if (g) {
        members.get(g)!.push(r);
        this.join(r, g);
      } else old.push(r);
    }

    let desired = 0;
    let currentReady = 0;
    for (const g of groups) {
      const current = members.get(g)!.sort((a, b) => b.seq - a.seq);
      while (current.length > g.desired) this.retire(current.shift()!);
      desired += g.desired;
      currentReady += current.filter(isReady).length;
    }
    const oldServing = old.filter(isReady).length;
    // old replicas still needed to keep serving while new ones come up
    const keep = oldServing === 0 ? 0 : Math.max(0, desired - currentReady);
    old.sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || a.seq - b.seq);
    while (old.length > keep) this.retire(old.shift()!);

    if (old.length === 0) {
      await Promise.all(
        groups.flatMap((g) => Array.from({ length: g.desired - members.get(g)!.length }, () => this.launch(g))),
      );
      return true;
    }
    // rolling: one new replica at a time in each group, each replacing an old one once it is ready
    const launches: Promise<void>[] = [];
    for (const g of groups) {
      const current = members.get(g)!;
      const pending = current.some((r) => !isReady(r));
      if (g.desired > current.length && !pending) launches.push(this.launch(g));
    }
    await Promise.all(launches);
    return false;
  }

  private async launch(g: DesiredGroup): Promise<void> {
    const r = this.createReplica(g.template);
    this.join(r, g);
    this.replicas.push(r);
    await r.start();
  }

  private retire(r: Replica): void {
    const p = r.stop().catch((err) => this.log.error('stopping a replica failed', { replica: r.id, err }));
    this.retiring.add(p);
    void p.finally(() => {
      this.retiring.delete(p);
      this.notify();
    });
  }
}
