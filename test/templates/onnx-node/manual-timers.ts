/** Timers driven by a ManualClock: `advance` moves time and fires what fell due, in order. */
import { ManualClock } from '../../../core/clock.ts';
import type { Timers } from '../../../templates/onnx-node/runtime/timers.ts';

export class ManualTimers implements Timers {
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  constructor(readonly clock: ManualClock) {}

  after(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.pending.push({ at: this.clock.now() + Math.max(0, ms), fn, id });
    return () => {
      this.pending = this.pending.filter((p) => p.id !== id);
    };
  }

  /** Moves the clock by `ms`, firing due timers at their own times; lets promises settle between. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      await settle();
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.at > end) break;
      this.pending.shift();
      this.clock.advance(next.at - this.clock.now());
      next.fn();
    }
    this.clock.advance(end - this.clock.now());
    await settle();
  }

  get size(): number {
    return this.pending.length;
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}
