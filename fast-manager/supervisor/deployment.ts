/**
 * The replicas of one function on this node, reconciled to a desired count and template.
 * Scaling starts or drains replicas (newest first); a template change rolls them: one new
 * replica at a time is started and, once it is ready, an old one is drained, so the function
 * keeps serving. If no old replica is serving there is nothing to protect, and all are replaced
 * at once. The reconcile loop re-evaluates on every replica state change and every apply.
 */
import type { Logger } from '../../core/logger.ts';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';
import type { Replica, ReplicaTemplate } from '../replicas/replica.ts';

export type ReplicaFactory = (template: ReplicaTemplate) => Replica;

export class Deployment {
  private template?: ReplicaTemplate;
  private desired = 0;
  private replicas: Replica[] = [];
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
  apply(template: ReplicaTemplate, desired: number): Promise<void> {
    this.template = template;
    this.desired = desired;
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
    this.desired = 0;
    for (const r of this.replicas) this.retire(r);
    this.notify();
    await Promise.all([...this.retiring]);
  }

  status(): FunctionReplicas {
    return {
      name: this.name,
      namespace: this.namespace,
      image: this.template?.spec.image ?? '',
      desired: this.desired,
      replicas: this.replicas.filter((r) => r.state !== 'stopped').sort((a, b) => a.seq - b.seq).map((r) => r.status()),
    };
  }

  get image(): string {
    return this.template?.spec.image ?? '';
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

  /** One reconcile decision; true when the deployment matches the desired state. */
  private async step(): Promise<boolean> {
    const t = this.template;
    if (!t) return true;
    const live = this.replicas.filter((r) => !r.isStopping);
    const current = live.filter((r) => r.fingerprint === t.fingerprint).sort((a, b) => b.seq - a.seq);
    let old = live.filter((r) => r.fingerprint !== t.fingerprint);

    while (current.length > this.desired) this.retire(current.shift()!);

    const currentReady = current.filter((r) => r.state === 'ready').length;
    const oldServing = old.filter((r) => r.state === 'ready').length;
    // old replicas still needed to keep serving while new ones come up
    const keep = oldServing === 0 ? 0 : Math.max(0, this.desired - currentReady);
    old.sort((a, b) => Number(a.state === 'ready') - Number(b.state === 'ready') || a.seq - b.seq);
    while (old.length > keep) this.retire(old.shift()!);

    const missing = this.desired - current.length;
    if (old.length === 0) {
      await Promise.all(Array.from({ length: missing }, () => this.launch(t)));
      return true;
    }
    // rolling: one new replica at a time, each replacing an old one once it is ready
    const pending = current.some((r) => r.state !== 'ready');
    if (missing > 0 && !pending) await this.launch(t);
    return false;
  }

  private async launch(t: ReplicaTemplate): Promise<void> {
    const r = this.createReplica(t);
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
