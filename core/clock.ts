/** Time as a dependency, so that logic with timeouts and windows can be tested without sleeping. */
export interface Clock {
  /** Milliseconds, monotonic within a process. */
  now(): number;
  /** Wall-clock time for records shown to people. */
  date(): Date;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  date: () => new Date(),
};

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  date(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
