import { expect } from 'chai';
import type { ModelFootprint } from '../../core/profiles/profile-table.ts';
import { maxExclusiveQuota, latencyCompatible } from '../../scheduler/device-fit.ts';
import { place, type DesiredFunction } from '../../scheduler/placement.ts';
import type { PlacedReplica, PlannedReplica, ReplicaConfig } from '../../scheduler/types.ts';
import { devices, GB } from './fixtures.ts';

const FP: Record<string, ModelFootprint> = {
  m1: { weightsBytes: 1 * GB, replicaBytes: 2 * GB },
  m2: { weightsBytes: 4 * GB, replicaBytes: 2 * GB },
  m3: { weightsBytes: 1 * GB, replicaBytes: 1 * GB },
};
const footprint = (m: string) => FP[m]!;
const cfg = (partitionPercent: number, quota = 1, batch = 1): ReplicaConfig => ({ partitionPercent, quota, batch });
const planned = (c: ReplicaConfig, latency?: PlannedReplica['latency']): PlannedReplica => ({
  config: c,
  capacityRps: 100,
  role: 'saturated',
  ...(latency ? { latency } : {}),
});
const want = (name: string, model: string, ...replicas: PlannedReplica[]): DesiredFunction => ({
  spec: { name, model, deviceClass: 'gpu' },
  replicas,
});
const running = (id: string, fn: string, model: string, deviceId: string, c: ReplicaConfig): PlacedReplica => ({
  id,
  function: fn,
  model,
  deviceId,
  nodeId: 'n1',
  config: c,
  capacityRps: 100,
});
const deviceOf = (r: { replicas: PlacedReplica[] }, fn: string) =>
  r.replicas.filter((x) => x.function === fn).map((x) => x.deviceId);

describe('scheduler/placement', () => {
  it('best fit without model affinity picks the tighter device; model sharing beats fit', () => {
    const current = [running('a-1', 'a', 'm1', 'd1', cfg(50)), running('b-1', 'b', 'm2', 'd2', cfg(70))];
    const base = [want('a', 'm1', planned(cfg(50))), want('b', 'm2', planned(cfg(70)))];
    const fresh = place({
      devices: devices(3),
      current,
      footprint,
      desired: [...base, { spec: { name: 'c', model: 'm3', deviceClass: 'gpu' }, replicas: [planned(cfg(30))] }],
      options: { consolidate: false },
    });
    expect(deviceOf(fresh, 'c')).to.deep.equal(['d2']); // leftover 0 on d2 vs 0.2 on d1
    const shared = place({
      devices: devices(3),
      current,
      footprint,
      desired: [...base, want('c', 'm2', planned(cfg(20)))],
      options: { consolidate: false },
    });
    expect(deviceOf(shared, 'c')).to.deep.equal(['d2']);
    const shared1 = place({
      devices: devices(3),
      current,
      footprint,
      desired: [...base, want('c', 'm1', planned(cfg(20)))],
      options: { consolidate: false },
    });
    expect(deviceOf(shared1, 'c')).to.deep.equal(['d1']); // d2 fits tighter, but d1 already holds m1
    expect(shared1.notes.get('c')![0]!.why).to.match(/shares m1 weights/);
  });

  it('memory: weights once per model per device, plus each replica', () => {
    // 7 GiB devices: m1 replicas cost 1 + 2 + 2 + 2 = 7 → three fit on one device; m2 (4 + 2) only once.
    const r = place({
      devices: devices(4, 7 * GB),
      current: [],
      footprint,
      desired: [
        want('a', 'm1', ...[1, 2, 3].map(() => planned(cfg(10)))),
        want('b', 'm2', planned(cfg(10)), planned(cfg(10))),
      ],
    });
    expect(new Set(deviceOf(r, 'a')).size).to.equal(1);
    expect(new Set(deviceOf(r, 'b')).size).to.equal(2);
    expect(r.notes.get('b')!.some((n) => n.rejected && n.rejected.memory! > 0)).to.equal(true);
  });

  it('capacity: area, exclusive quotas and the time × SM packing', () => {
    // Two 60 % replicas at quota 1 can never share; at quota 0.5 they take turns on one device.
    expect(
      place({
        devices: devices(2),
        current: [],
        footprint,
        desired: [want('a', 'm1', planned(cfg(60)), planned(cfg(60)))],
      }).devicesUsed,
    ).to.equal(2);
    expect(
      place({
        devices: devices(2),
        current: [],
        footprint,
        desired: [want('a', 'm1', planned(cfg(60, 0.5)), planned(cfg(60, 0.5)))],
      }).devicesUsed,
    ).to.equal(1);
    // 50 + 50 + 6: no two conflict, yet all three cannot run at once and quotas 0.8 + 0.8 leave no time.
    const three = place({
      devices: devices(2),
      current: [],
      footprint,
      desired: [want('a', 'm1', planned(cfg(50, 0.8)), planned(cfg(50, 0.8)), planned(cfg(6, 1)))],
    });
    expect(three.devicesUsed).to.equal(2);
    expect(maxExclusiveQuota([cfg(60, 0.5), cfg(60, 0.5), cfg(45, 0.3)])).to.be.closeTo(1.3, 1e-9); // 45 + 60 > 100
    expect(maxExclusiveQuota([cfg(60, 0.5), cfg(60, 0.5), cfg(30, 0.3)])).to.be.closeTo(1.0, 1e-9); // 30 + 60 ≤ 100
    expect(maxExclusiveQuota([cfg(60, 0.5), cfg(40, 0.5)])).to.equal(0.5);
    // Full cluster: the rest is reported, not dropped silently.
    const full = place({
      devices: devices(1),
      current: [],
      footprint,
      desired: [want('a', 'm1', planned(cfg(100)), planned(cfg(100)))],
    });
    expect(full.unplaced).to.have.length(1);
    expect(full.unplaced[0]!.reason).to.match(/no device can take it/);
  });

  it("latency: a time-shared device must leave every replica slack for the others' tokens", () => {
    expect(
      latencyCompatible([
        { model: 'm1', config: cfg(60, 0.5), latency: { slackMs: 5, holdMs: 10 } },
        { model: 'm1', config: cfg(60, 0.5), latency: { slackMs: 30, holdMs: 20 } },
      ]),
    ).to.equal(false);
    expect(
      latencyCompatible([
        { model: 'm1', config: cfg(60, 0.5), latency: { slackMs: 25, holdMs: 10 } },
        { model: 'm1', config: cfg(60, 0.5), latency: { slackMs: 30, holdMs: 20 } },
      ]),
    ).to.equal(true);
    const tight = place({
      devices: devices(2),
      current: [],
      footprint,
      desired: [
        want(
          'a',
          'm1',
          planned(cfg(60, 0.5), { slackMs: 5, holdMs: 20 }),
          planned(cfg(60, 0.5), { slackMs: 5, holdMs: 20 }),
        ),
      ],
    });
    expect(tight.devicesUsed).to.equal(2);
    expect(tight.notes.get('a')![1]!.rejected).to.deep.equal({ latency: 1 });
  });

  it('keeps healthy replicas where they are when the plan does not change', () => {
    const current = [running('a-1', 'a', 'm1', 'd1', cfg(60)), running('b-1', 'b', 'm2', 'd2', cfg(60))];
    const r = place({
      devices: devices(2),
      current,
      footprint,
      desired: [want('a', 'm1', planned(cfg(60))), want('b', 'm2', planned(cfg(60)))],
    });
    expect(r.moved).to.deep.equal([]);
    expect(r.started).to.deep.equal([]);
    expect(r.stopped).to.deep.equal([]);
    expect(r.notes.get('a')![0]).to.include({ action: 'kept', deviceId: 'd1' });
  });

  it('scale-down stops replicas on the emptiest device first', () => {
    const current = [
      running('a-1', 'a', 'm1', 'd1', cfg(30)),
      running('a-2', 'a', 'm1', 'd1', cfg(30)),
      running('a-3', 'a', 'm1', 'd2', cfg(30)),
    ];
    const r = place({
      devices: devices(2),
      current,
      footprint,
      desired: [want('a', 'm1', planned(cfg(30)), planned(cfg(30)))],
    });
    expect(r.stopped.map((s) => s.id)).to.deep.equal(['a-3']);
    expect(r.devicesUsed).to.equal(1);
    expect(r.moved).to.deep.equal([]);
  });

  it('consolidates when freeing a device pays for the moves, not otherwise', () => {
    const current = [running('a-1', 'a', 'm1', 'd1', cfg(30)), running('b-1', 'b', 'm2', 'd2', cfg(30))];
    const desired = [want('a', 'm1', planned(cfg(30))), want('b', 'm2', planned(cfg(30)))];
    const r = place({ devices: devices(2), current, footprint, desired });
    expect(r.devicesUsed).to.equal(1);
    expect(r.moved).to.have.length(1);
    expect(
      r.notes.get(r.moved[0]!.replica.function)!.some((n) => n.action === 'moved' && /consolidation/.test(n.why)),
    ).to.equal(true);
    const costly = place({ devices: devices(2), current, footprint, desired, options: { moveCost: 2 } });
    expect(costly.devicesUsed).to.equal(2);
    expect(costly.moved).to.deep.equal([]);
  });

  it('numbers new replicas after the existing ones', () => {
    const current = [running('a-7', 'a', 'm1', 'd1', cfg(30))];
    const r = place({
      devices: devices(2),
      current,
      footprint,
      desired: [want('a', 'm1', planned(cfg(30)), planned(cfg(20)))],
    });
    expect(r.started.map((s) => s.id)).to.deep.equal(['a-8']);
  });
});
