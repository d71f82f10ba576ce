/**
 * Time as a dependency, so that logic with timeouts and windows can be tested without sleeping:
 * `now()` for measuring, `after()` for waiting. `ManualClock` moves only when a test advances it,
 * firing the timers that fall due in order, each seeing `now()` at its own due time.
 */
export interface Clock {
  /** Milliseconds, monotonic within a process. */
  now(): number;
  /** Wall-clock time for records shown to people. */
  date(): Date;
  /**
   * Calls `fn` once `ms` have passed on this clock; returns a function that cancels it.
   * `background`: the timer alone does not keep the process alive (periodic housekeeping).
   */
  after(ms: number, fn: () => void, opts?: { background?: boolean }): () => void;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  date: () => new Date(),
  after(ms, fn, opts) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (opts?.background) t.unref();
    return () => clearTimeout(t);
  },
};

interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/** Resolves after `ms` on `clock`. */
export function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}

/**
 * Waits for `p` at most `ms` on `clock`: true once it resolves, false when the time is up first.
 * The timer is cancelled when `p` wins, so a wait that ended early leaves nothing pending.
 */
export async function settlesWithin(clock: Clock, p: Promise<unknown>, ms: number): Promise<boolean> {
  let cancel: (() => void) | undefined;
  const timeUp = new Promise<false>((resolve) => (cancel = clock.after(ms, () => resolve(false))));
  try {
    return await Promise.race([p.then(() => true as const), timeUp]);
  } finally {
    cancel?.();
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  private timers: ManualTimer[] = [];
  private seq = 0;
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  date(): Date {
    return new Date(this.t);
  }
  after(ms: number, fn: () => void): () => void {
    const timer: ManualTimer = { due: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time forward by `ms`, firing every timer due by then in due order (ties: the order set). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const x of this.timers)
        if (x.due <= end && (!next || x.due < next.due || (x.due === next.due && x.seq < next.seq))) next = x;
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.due);
      next.fn();
    }
    this.t = end;
  }
}
