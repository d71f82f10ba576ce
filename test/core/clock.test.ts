import { expect } from 'chai';
import { ManualClock, settlesWithin, sleepOn, systemClock } from '../../core/clock.ts';

describe('Clock timers', () => {
  it('ManualClock fires due timers in due order as it advances, each seeing its own due time', () => {
    const clock = new ManualClock(100);
    const seen: string[] = [];
    clock.after(30, () => seen.push(`b@${clock.now()}`));
    clock.after(10, () => seen.push(`a@${clock.now()}`));
    clock.after(30, () => seen.push(`c@${clock.now()}`)); // same due time as b: fires after it
    clock.after(50, () => seen.push(`late@${clock.now()}`));
    clock.advance(29);
    expect(seen).to.deep.equal(['a@110']);
    clock.advance(1);
    expect(seen).to.deep.equal(['a@110', 'b@130', 'c@130']);
    expect(clock.now()).to.equal(130);
    expect(clock.pending).to.equal(1);
  });

  it('ManualClock: a cancelled timer never fires; a timer set by a timer fires within the same advance when due', () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    const cancel = clock.after(5, () => seen.push(-1));
    clock.after(10, () => clock.after(5, () => seen.push(clock.now())));
    cancel();
    clock.advance(20);
    expect(seen).to.deep.equal([15]);
    expect(clock.pending).to.equal(0);
  });

  it('sleepOn resolves when the clock passes the time', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const p = sleepOn(clock, 100).then(() => (done = true));
    clock.advance(99);
    await Promise.resolve();
    expect(done).to.equal(false);
    clock.advance(1);
    await p;
    expect(done).to.equal(true);
  });

  it('systemClock fires after real time and can be cancelled', async () => {
    const t0 = systemClock.now();
    let fired = 0;
    const cancel = systemClock.after(5, () => fired++, { background: true });
    cancel();
    await new Promise<void>((r) => systemClock.after(10, r));
    expect(fired).to.equal(0);
    expect(systemClock.now() - t0).to.be.at.least(9);
  });

  it('settlesWithin: true when the promise resolves first (its timer cancelled), false when the time is up first', async () => {
    const clock = new ManualClock(0);
    let resolve!: () => void;
    const early = settlesWithin(clock, new Promise<void>((r) => (resolve = r)), 100);
    expect(clock.pending).to.equal(1);
    resolve();
    expect(await early).to.equal(true);
    expect(clock.pending).to.equal(0); // nothing left to hold a real process open

    const late = settlesWithin(clock, new Promise<void>(() => undefined), 100);
    clock.advance(100);
    expect(await late).to.equal(false);
    expect(clock.pending).to.equal(0);
  });
});
