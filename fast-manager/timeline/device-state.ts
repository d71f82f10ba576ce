/**
 * What is going on on one device at a point of its timeline: who waits for a token, who holds
 * one, which batches run. One state machine, fed event by event, used by the recorder (the state
 * at the start of a window it answers) and by the waste accounting (the sweep over the window).
 */
import type { TimelineEvent } from '../../core/contracts/node-agent.ts';

export interface Span {
  partition: number;
  since: number;
}

export interface RunningBatch extends Span {
  replica?: string;
}

export class DeviceState {
  readonly waiting = new Map<string, Span>();
  readonly holding = new Map<string, Span>();
  readonly running = new Map<number, RunningBatch>();

  /** Replays `ev`; an end without its start (cut off by the ring buffer) is ignored. */
  apply(ev: TimelineEvent): void {
    const r = ev.replica;
    switch (ev.kind) {
      case 'acquire':
        if (r === undefined) return;
        // asking again ends the token held (the token server does the same)
        this.holding.delete(r);
        if (!this.waiting.has(r)) this.waiting.set(r, { partition: ev.partition, since: ev.t });
        return;
      case 'grant':
        if (r === undefined) return;
        this.waiting.delete(r);
        this.holding.set(r, { partition: ev.partition, since: ev.t });
        return;
      case 'release':
        if (r !== undefined) this.holding.delete(r);
        return;
      case 'leave':
        if (r === undefined) return;
        this.waiting.delete(r);
        this.holding.delete(r);
        return;
      case 'batch-start':
        if (ev.batch !== undefined)
          this.running.set(ev.batch, {
            partition: ev.partition,
            since: ev.t,
            ...(r !== undefined ? { replica: r } : {}),
          });
        return;
      case 'batch-end':
        if (ev.batch !== undefined) this.running.delete(ev.batch);
        return;
    }
  }

  /** Σ partition of the running batches (or, for a device that reports none, of the token holders). */
  runningPartition(batches: boolean): number {
    let sum = 0;
    if (batches) for (const b of this.running.values()) sum += b.partition;
    else for (const h of this.holding.values()) sum += h.partition;
    return sum;
  }
}
