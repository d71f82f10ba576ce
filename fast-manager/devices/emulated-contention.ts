/**
 * How the emulated device slows batches down when replicas race for it: processor sharing over
 * compute partitions. A batch needs `soloMs` of device time at its partition (the calibrated
 * latency); while the partitions of the batches running at once sum to at most 100 % they run side
 * by side at full speed (spatial sharing); above 100 % the device is oversubscribed and every
 * running batch progresses at 100 / Σ partition of its solo speed (the SMs time-slice between
 * contexts), so the device never does more than 100 % of its work at once. Under the token
 * scheduler Σ partition of the token holders stays ≤ 100 %, so gated replicas see no slowdown;
 * racing replicas do, which is what makes racing comparable with sharing on this device.
 *
 * Pure: time comes in as arguments (ms), no timers.
 */

/** Work left below this is done (ms of solo device time). */
const EPSILON_MS = 1e-6;

interface Job {
  id: string;
  partition: number;
  /** Solo device time still to do, ms. */
  leftMs: number;
  startedAt: number;
}

export interface CompletedJob {
  id: string;
  /** Wall time the batch took, ms (≥ its solo time). */
  elapsedMs: number;
}

export class DeviceContention {
  private readonly jobs = new Map<string, Job>();
  private at = 0;

  /** Progress rate of every running batch: 1, or 100 / Σ partition when oversubscribed. */
  rate(): number {
    let sum = 0;
    for (const j of this.jobs.values()) sum += j.partition;
    return sum <= 100 ? 1 : 100 / sum;
  }

  get running(): number {
    return this.jobs.size;
  }

  /**
   * Starts a batch of `soloMs` at `partition` % at time `now`; returns the batches that finished
   * before `now` (deliver them first).
   */
  start(id: string, partition: number, soloMs: number, now: number): CompletedJob[] {
    if (!(partition > 0 && partition <= 100)) throw new RangeError(`partition must be in (0, 100], got ${partition}`);
    if (!(soloMs >= 0) || !Number.isFinite(soloMs))
      throw new RangeError(`batch time must be a finite number ≥ 0 ms, got ${soloMs}`);
    if (this.jobs.has(id)) throw new RangeError(`batch ${id} is already running`);
    const done = this.complete(now);
    this.jobs.set(id, { id, partition, leftMs: soloMs, startedAt: now });
    return done;
  }

  /** Drops a batch (its replica went away) at `now`; returns the batches that finished before. */
  cancel(id: string, now: number): CompletedJob[] {
    const done = this.complete(now);
    this.jobs.delete(id);
    return done;
  }

  /** When the next running batch finishes at the current rate, or undefined when none runs. */
  nextCompletionAt(): number | undefined {
    let min = Infinity;
    for (const j of this.jobs.values()) min = Math.min(min, j.leftMs);
    return this.jobs.size === 0 ? undefined : this.at + min / this.rate();
  }

  /** Moves time to `now` and returns the batches finished by then (earliest first). */
  complete(now: number): CompletedJob[] {
    const done: CompletedJob[] = [];
    // finish batches one by one: each completion raises the rate of the others. Progress is counted
    // in work (solo ms), not re-derived from times, so clock values of any size (epoch ms) cannot
    // leave a batch a rounding error short of done.
    while (this.jobs.size > 0) {
      let minLeft = Infinity;
      for (const j of this.jobs.values()) minLeft = Math.min(minLeft, j.leftMs);
      const at = this.at + minLeft / this.rate();
      if (at > now) break;
      for (const j of [...this.jobs.values()]) {
        j.leftMs -= minLeft;
        if (j.leftMs <= EPSILON_MS) {
          this.jobs.delete(j.id);
          done.push({ id: j.id, elapsedMs: at - j.startedAt });
        }
      }
      this.at = at;
    }
    this.advance(now);
    return done;
  }

  private advance(now: number): void {
    if (now < this.at) now = this.at;
    const dt = now - this.at;
    if (dt > 0 && this.jobs.size > 0) {
      const r = this.rate();
      for (const j of this.jobs.values()) j.leftMs = Math.max(0, j.leftMs - dt * r);
    }
    this.at = now;
  }
}
