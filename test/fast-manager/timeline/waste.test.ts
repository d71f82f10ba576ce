/**
 * Waste accounting over hand-built timelines whose answers are worked out by hand in each case.
 */
import { expect } from 'chai';
import type { DeviceTimeline, TimelineEvent } from '../../../core/contracts/node-agent.ts';
import { mergeWaste, wasteOf, wasteShares } from '../../../fast-manager/timeline/waste.ts';

const tl = (events: TimelineEvent[], o: Partial<DeviceTimeline> = {}): DeviceTimeline => ({
  device: 'emulated',
  window: { from: 0, to: 100 },
  capacity: 1000,
  dropped: 0,
  batches: true,
  replicas: [],
  open: { waiting: [], holding: [], running: [] },
  events,
  ...o,
});
const ev = (
  t: number,
  kind: TimelineEvent['kind'],
  replica: string | undefined,
  partition: number,
  extra: Partial<TimelineEvent> = {},
): TimelineEvent => ({ t, kind, ...(replica ? { replica } : {}), partition, ...extra });

describe('waste accounting', () => {
  it('spatio-temporal: idle with work waiting only while the waiter fits; tokens held with no batch', () => {
    // a (50 %) holds 0-100, batches 0-40 and 60-100; b (60 %) waits 10-50, holds 50-100, batch 50-90
    // Σ running: 0-40 50 | 40-50 0 | 50-60 60 | 60-90 110 | 90-100 50
    const w = wasteOf(
      tl([
        ev(0, 'acquire', 'a', 50),
        ev(0, 'grant', 'a', 50, { quotaMs: 100, waitedMs: 0 }),
        ev(0, 'batch-start', 'a', 50, { batch: 1, source: 1 }),
        ev(10, 'acquire', 'b', 60),
        ev(40, 'batch-end', 'a', NaN, { batch: 1 }),
        ev(50, 'grant', 'b', 60, { quotaMs: 50, waitedMs: 40 }),
        ev(50, 'batch-start', 'b', 60, { batch: 2, source: 2 }),
        ev(60, 'batch-start', 'a', 50, { batch: 3, source: 1 }),
        ev(90, 'batch-end', 'b', NaN, { batch: 2 }),
      ]),
    );
    expect(w.windowMs).to.equal(100);
    // b (60) fits beside Σ = 0 only in 40-50; in 10-40 50 + 60 > 100
    expect(w.idleWithWorkWaitingMs).to.equal(10);
    expect(w.busyMs).to.equal(90);
    expect(w.utilisation).to.be.closeTo((50 * 40 + 60 * 10 + 100 * 30 + 50 * 10) / (100 * 100), 1e-12);
    expect(w.handoverMs).to.equal(0);
    expect(w.heldMs).to.equal(150);
    expect(w.heldIdleMs).to.equal(20 + 10);
    expect(w.grants).to.equal(2);
    expect(w.waitMs).to.equal(40);
    const a = w.replicas.find((r) => r.replica === 'a')!;
    expect(a).to.include({ heldMs: 100, heldIdleMs: 20, batchMs: 80, batches: 2, grants: 1, waitMs: 0 });
    expect(w.replicas.find((r) => r.replica === 'b')).to.include({
      heldMs: 50,
      heldIdleMs: 10,
      batchMs: 40,
      batches: 1,
      waitMs: 40,
    });
    expect(wasteShares(w)).to.deep.include({
      idleWithWorkWaiting: 0.1,
      handover: 0,
      busy: 0.9,
      heldIdleOfHeld: 30 / 150,
    });
  });

  it('time sharing on a device without batch events: hand-over from release to next grant while someone waits', () => {
    // a (100) holds 0-30; b waits 10-34, holds 34-60; c waits 55-61, holds 61-100; a releases at 30 with b waiting
    const w = wasteOf(
      tl(
        [
          ev(0, 'grant', 'a', 100, { quotaMs: 30, waitedMs: 0 }),
          ev(10, 'acquire', 'b', 100),
          ev(30, 'release', 'a', 100, { heldMs: 30 }),
          ev(34, 'grant', 'b', 100, { quotaMs: 30, waitedMs: 24 }),
          ev(55, 'acquire', 'c', 100),
          ev(60, 'release', 'b', 100, { heldMs: 26 }),
          ev(61, 'grant', 'c', 100, { quotaMs: 40, waitedMs: 6 }),
          ev(70, 'acquire', 'a', 100),
          ev(80, 'leave', 'a', 100),
        ],
        { device: 'cpu', batches: false },
      ),
    );
    expect(w.handoverMs).to.equal(4 + 1);
    // waiting and fitting only while nobody holds: 30-34 (b) and 60-61 (c); a waits 70-80 beside c (100 + 100 > 100)
    expect(w.idleWithWorkWaitingMs).to.equal(5);
    expect(w.heldIdleMs).to.equal(undefined);
    expect(w.heldMs).to.equal(30 + 26 + 39);
    expect(w.busyMs).to.equal(95);
    expect(w.waitMs).to.equal(24 + 6 + 10);
    expect(w.grants).to.equal(3);
  });

  it('a release with nobody waiting is no hand-over; the state at the window start counts; unknown batches are counted apart', () => {
    const w = wasteOf(
      tl(
        [
          ev(20, 'release', 'a', 40, { heldMs: 30 }),
          ev(30, 'batch-end', undefined, NaN, { batch: 5 }),
          ev(50, 'batch-start', undefined, 30, { batch: 6, source: 9 }),
          ev(50, 'acquire', 'b', 80),
          ev(60, 'batch-end', undefined, NaN, { batch: 6 }),
        ],
        {
          window: { from: 10, to: 110 },
          open: {
            waiting: [],
            holding: [{ replica: 'a', partition: 40, since: -10 }],
            running: [{ batch: 5, partition: 40, since: 0, replica: 'a' }],
          },
        },
      ),
    );
    expect(w.handoverMs).to.equal(0);
    // a held 10-20 with its batch running: not idle; b (80) waits 50-110 and fits when Σ ≤ 20: 60-110
    expect(w.heldMs).to.equal(10);
    expect(w.heldIdleMs).to.equal(0);
    expect(w.idleWithWorkWaitingMs).to.equal(50);
    expect(w.busyMs).to.equal(20 + 10);
    expect(w.unattributedBatches).to.equal(1);
  });

  it('merges devices by summing their times', () => {
    const one = wasteOf(
      tl([ev(0, 'batch-start', 'a', 100, { batch: 1 }), ev(50, 'batch-end', 'a', NaN, { batch: 1 })]),
    );
    const two = wasteOf(tl([ev(0, 'batch-start', 'b', 100, { batch: 1 })]));
    const m = mergeWaste('emulated x2', [one, two]);
    expect(m.windowMs).to.equal(200);
    expect(m.busyMs).to.equal(150);
    expect(m.utilisation).to.be.closeTo(0.75, 1e-12);
  });
});
