/**
 * The device timeline recorder: a bounded ring per device that keeps the newest events in order,
 * counts what it dropped, answers a window with the state at its start, tells whose batches a
 * device connection runs from the tokens, and records nothing when its capacity is 0.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../core/clock.ts';
import { createDeviceTimelines } from '../../../fast-manager/timeline/recorder.ts';

describe('device timeline recorder', () => {
  it('keeps the newest `capacity` events of each device, in time order, and counts the dropped ones', () => {
    const clock = new ManualClock(1000);
    const tl = createDeviceTimelines({ clock, capacity: 5 });
    const d = tl.device('emulated');
    for (let i = 0; i < 8; i++) {
      d.acquire(`r${i}`, 10, i);
      clock.advance(1);
    }
    tl.device('cpu').acquire('c1', 50);
    const s = tl.snapshot('emulated');
    expect(s.capacity).to.equal(5);
    expect(s.dropped).to.equal(3);
    expect(s.events.map((e) => e.replica)).to.deep.equal(['r3', 'r4', 'r5', 'r6', 'r7']);
    expect(s.events.map((e) => e.t)).to.deep.equal([1003, 1004, 1005, 1006, 1007]);
    expect(s.events.map((e) => e.burstMs)).to.deep.equal([3, 4, 5, 6, 7]);
    // devices do not share a ring
    expect(tl.snapshot('cpu').events.map((e) => e.replica)).to.deep.equal(['c1']);
    expect(tl.snapshot('cpu').dropped).to.equal(0);
  });

  it('answers a window from `since` or the last N ms, with who waited, held and ran at its start', () => {
    const clock = new ManualClock(0);
    const tl = createDeviceTimelines({ clock, capacity: 100 });
    tl.replica('emulated', { id: 'a', function: 'bert.openfaas-fn', partition: 50, quotaRequest: 0.6, quotaLimit: 1 });
    const d = tl.device('emulated');
    d.acquire('a', 50, 12);
    clock.advance(2);
    d.grant('a', 50, 30, 2);
    d.acquire('b', 60);
    clock.advance(1);
    const batch = d.batchStart(1, 50, 10);
    clock.advance(10);
    d.batchEnd(batch, 10);
    d.release('a', 50, 11, 10.5);
    clock.advance(1);
    d.grant('b', 60, 30, 12);
    clock.advance(5);

    const all = tl.snapshot('emulated');
    expect(all.window).to.deep.equal({ from: 0, to: 19 });
    expect(all.events.map((e) => e.kind)).to.deep.equal([
      'acquire',
      'grant',
      'acquire',
      'batch-start',
      'batch-end',
      'release',
      'grant',
    ]);
    expect(all.batches).to.equal(true);
    const rel = all.events.find((e) => e.kind === 'release')!;
    expect(rel).to.include({ heldMs: 11, usedMs: 10.5, replica: 'a', partition: 50 });
    // the batch started while only "a" (partition 50) held a token: it is a's
    expect(all.events.find((e) => e.kind === 'batch-start')).to.include({ replica: 'a', source: 1, soloMs: 10 });
    expect(all.events.find((e) => e.kind === 'batch-end')).to.include({ replica: 'a', elapsedMs: 10 });
    expect(all.replicas).to.deep.equal([
      { id: 'a', function: 'bert.openfaas-fn', partition: 50, quotaRequest: 0.6, quotaLimit: 1 },
      { id: 'b', partition: 60 },
    ]);

    const late = tl.snapshot('emulated', { since: 5 });
    expect(late.window).to.deep.equal({ from: 5, to: 19 });
    expect(late.events.map((e) => e.kind)).to.deep.equal(['batch-end', 'release', 'grant']);
    expect(late.open.holding).to.deep.equal([{ replica: 'a', partition: 50, since: 2 }]);
    expect(late.open.waiting).to.deep.equal([{ replica: 'b', partition: 60, since: 2 }]);
    expect(late.open.running).to.deep.equal([{ batch, partition: 50, since: 3, replica: 'a' }]);

    const last = tl.snapshot('emulated', { lastMs: 6 });
    expect(last.window.from).to.equal(13);
    expect(last.events.map((e) => e.kind)).to.deep.equal(['batch-end', 'release', 'grant']);
  });

  it("tells apart replicas of one partition by the tokens they held at each of a connection's batches", () => {
    const clock = new ManualClock(0);
    const tl = createDeviceTimelines({ clock, capacity: 100 });
    const d = tl.device('emulated');
    d.grant('r1', 12, 20, 0);
    d.grant('r2', 12, 20, 0);
    const b1 = d.batchStart(7, 12, 5); // r1 or r2: not known yet
    clock.advance(5);
    d.batchEnd(b1, 5);
    d.release('r2', 12, 5);
    const b2 = d.batchStart(7, 12, 5); // only r1 holds now: connection 7 is r1's
    clock.advance(5);
    d.batchEnd(b2, 5);
    const racing = d.batchStart(9, 30, 5); // no 30 % holder: whose is unknown
    const ev = tl.snapshot('emulated').events.filter((e) => e.kind.startsWith('batch'));
    expect(ev.map((e) => e.replica)).to.deep.equal(['r1', 'r1', 'r1', 'r1', undefined]);
    expect(ev[4]).to.include({ source: 9, batch: racing });
  });

  it('records nothing with capacity 0, and refuses a bad capacity', () => {
    const tl = createDeviceTimelines({ clock: new ManualClock(0), capacity: 0 });
    tl.device('cpu').acquire('a', 10);
    expect(tl.device('cpu').batchStart(1, 10, 1)).to.be.a('number');
    expect(tl.snapshot('cpu').events).to.deep.equal([]);
    expect(() => createDeviceTimelines({ clock: new ManualClock(0), capacity: -1 })).to.throw(/capacity/);
    expect(() => createDeviceTimelines({ clock: new ManualClock(0), capacity: 1.5 })).to.throw(/capacity/);
  });
});
