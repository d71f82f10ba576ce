/** The live loop's pure part: reading stored functions, node devices, and one round's targets. */
import { expect } from 'chai';
import { createProfileTable, type ProfileEntry } from '../../../core/profiles/profile-table.ts';
import { configOverrides, readLiveFunction } from '../../../scheduler/live/live-function.ts';
import { groupOverrides, groupsPerNode, nodeDevices, runLiveRound } from '../../../scheduler/live/round.ts';
import type { FunctionPlanState } from '../../../scheduler/planner.ts';

const row = (partitionPercent: number, rps: number): ProfileEntry => ({
  model: 'm',
  deviceClass: 'cpu',
  partitionPercent,
  quota: 1,
  batch: 1,
  rps,
  latencyMs: { p50: 5, p95: 5, p99: 5 },
  memoryBytes: 1,
  source: 'measured',
});
const table = createProfileTable({
  entries: [row(25, 10), row(100, 30)],
  footprints: { m: { weightsBytes: 0, replicaBytes: 1024 } },
});
const fn = (annotations: Record<string, string>, labels: Record<string, string> = {}) =>
  readLiveFunction({ name: 'f', namespace: 'ns', annotations, labels, replicas: 1 });

describe('scheduler/live', () => {
  it('reads SLO, model, device class, bounds and the current configuration; unmanaged without an SLO', () => {
    expect(fn({})).to.equal(undefined);
    const f = fn(
      {
        'fastgshare/slo_ms': '150',
        'fastgshare/device': 'emulated',
        'fastgshare/emulated_profile': 'v100-bert',
        'fastgshare/gpu_sm_partition': '50',
        'fastgshare/gpu_quota_request': '0.4',
        'fastgshare/max_batch': '8',
      },
      { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '5' },
    )!;
    expect(f.spec).to.deep.equal({
      name: 'f.ns',
      model: 'v100-bert',
      deviceClass: 'v100',
      sloMs: 150,
      minReplicas: 2,
      maxReplicas: 5,
    });
    expect(f.config).to.deep.equal({ partitionPercent: 50, quota: 0.4, batch: 8 });
    expect(() => fn({ 'fastgshare/slo_ms': 'soon' })).to.throw(/annotation fastgshare\/slo_ms: "soon" is not a number/);
    // the one parser's rule: out of range is refused, never clamped (partition 150 was read as 100)
    expect(() => fn({ 'fastgshare/slo_ms': '10', 'fastgshare/gpu_sm_partition': '150' })).to.throw(
      /annotation fastgshare\/gpu_sm_partition: 150 is out of range; use a number from 1 to 100/,
    );
    expect(() => fn({ 'fastgshare/slo_ms': '10', 'fastgshare/gpu_quota_request': '1.5' })).to.throw(
      /annotation fastgshare\/gpu_quota_request: 1.5 is out of range/,
    );
    expect(fn({ 'fastgshare/slo_ms': '10', 'fastgshare/model': 'm2' })!.spec.model).to.equal('m2');
    expect(() => fn({ 'fastgshare/slo_ms': '10', 'fastgshare/device': 'tpu' })).to.throw(/not a device/);
  });

  it('gives a configuration as annotation overrides, raising a quota limit below the new quota request', () => {
    expect(
      configOverrides(
        { partitionPercent: 50, quota: 1, batch: 4 },
        { 'fastgshare/gpu_quota_limit': '0.8', other: 'x' },
      ),
    ).to.deep.equal({
      'fastgshare/gpu_sm_partition': '50',
      'fastgshare/gpu_quota_request': '1',
      'fastgshare/max_batch': '4',
      'fastgshare/gpu_quota_limit': '1',
    });
    expect(
      configOverrides({ partitionPercent: 25, quota: 0.5, batch: 1 }, { 'fastgshare/gpu_quota_limit': '0.8' }),
    ).to.deep.equal({
      'fastgshare/gpu_sm_partition': '25',
      'fastgshare/gpu_quota_request': '0.5',
      'fastgshare/max_batch': '1',
    });
  });

  it('keeps a residual replica of a cheaper configuration as its own group on its node', () => {
    // 50 % → 20 rps (0.4 rps per %), 25 % → 8 rps: 25 rps = one 50 % replica + a 25 % residual (area 75 < 100)
    const mixed = createProfileTable({
      entries: [row(50, 20), row(25, 8)],
      footprints: { m: { weightsBytes: 0, replicaBytes: 1024 } },
    });
    const f = fn({ 'fastgshare/slo_ms': '200', 'fastgshare/model': 'm' }, { 'com.openfaas.scale.max': '6' })!;
    const r = runLiveRound(
      {
        nowMs: 0,
        functions: [f],
        demand: new Map([['f.ns', 25]]),
        nodes: [
          { id: 'http://n1', memoryBytes: 1 << 30 },
          { id: 'http://n2', memoryBytes: 1 << 30 },
        ],
        devicesPerNode: 1,
        current: [],
        profiles: mixed,
      },
      new Map(),
    );
    const t = r.targets[0]!;
    expect(t.replicas).to.equal(2);
    expect(t.config).to.deep.equal({ partitionPercent: 50, quota: 1, batch: 1 }); // the saturated one
    const roles = t.decision.plan!.replicas.map((x) => `${x.role}:${x.config.partitionPercent}`).sort();
    expect(roles).to.deep.equal(['residual:25', 'saturated:50']);
    // every placed replica is in exactly one group of its node, with its own configuration and capacity
    const all = [...t.groups!].flatMap(([node, gs]) =>
      gs.map((g) => ({ node, p: g.config.partitionPercent, rps: g.capacityRps, n: g.replicas })),
    );
    expect(all.map((g) => `${g.p}:${g.rps}:${g.n}`).sort()).to.deep.equal(['25:8:1', '50:20:1']);
    for (const [node, gs] of t.groups!) expect(gs.reduce((a, g) => a + g.replicas, 0)).to.equal(t.perNode!.get(node));
    expect(r.decision.replicas.map((p) => p.nodeId).sort()).to.deep.equal(all.map((g) => g.node).sort());
  });

  it('has no groups for a function without a profile (it keeps its own annotations)', () => {
    const f = fn({ 'fastgshare/slo_ms': '200', 'fastgshare/model': 'unknown' })!;
    const r = runLiveRound(
      {
        nowMs: 0,
        functions: [f],
        demand: new Map([['f.ns', 5]]),
        nodes: [{ id: 'http://n1', memoryBytes: 1 << 30 }],
        devicesPerNode: 1,
        current: [],
        profiles: table,
      },
      new Map(),
    );
    expect(r.targets[0]!.decision.plan!.needsProfiling).to.equal(true);
    expect(r.targets[0]!.groups).to.equal(undefined);
  });

  it('gives a node that reports no devices devicesPerNode devices of each class used', () => {
    const d = nodeDevices(
      [
        { id: 'http://b', memoryBytes: 8 },
        { id: 'http://a', memoryBytes: 4 },
      ],
      ['cpu', 'v100', 'cpu'],
      2,
    );
    expect(d.map((x) => x.id)).to.deep.equal([
      'http://a#cpu0',
      'http://a#cpu1',
      'http://a#v1000',
      'http://a#v1001',
      'http://b#cpu0',
      'http://b#cpu1',
      'http://b#v1000',
      'http://b#v1001',
    ]);
  });

  it('uses the devices a node reports for its kinds (v100 is the emulated kind) and devicesPerNode for the rest', () => {
    const d = nodeDevices(
      [
        { id: 'http://a', memoryBytes: 4, devices: { cpu: 1, emulated: 3 } },
        { id: 'http://b', memoryBytes: 8 },
      ],
      ['cpu', 'v100', 'cuda'],
      2,
    );
    expect(d.map((x) => x.id)).to.deep.equal([
      'http://a#cpu0',
      'http://a#cuda0',
      'http://a#cuda1',
      'http://a#v1000',
      'http://a#v1001',
      'http://a#v1002',
      'http://b#cpu0',
      'http://b#cpu1',
      'http://b#cuda0',
      'http://b#cuda1',
      'http://b#v1000',
      'http://b#v1001',
    ]);
    // none of that kind: nothing placed there
    expect(nodeDevices([{ id: 'http://a', memoryBytes: 4, devices: { emulated: 0 } }], ['v100'], 2)).to.deep.equal([]);
  });

  it('gives each device its kind, index, whether the node reported it, and its own memory when reported', () => {
    const d = nodeDevices(
      [{ id: 'http://a', memoryBytes: 64, devices: { cuda: 2 }, deviceMemoryBytes: { cuda: [16, undefined] } }],
      ['cuda', 'v100'],
      1,
    );
    expect(
      d.map(({ id, kind, index, reported, memoryBytes }) => ({ id, kind, index, reported, memoryBytes })),
    ).to.deep.equal([
      { id: 'http://a#cuda0', kind: 'cuda', index: 0, reported: true, memoryBytes: 16 },
      { id: 'http://a#cuda1', kind: 'cuda', index: 1, reported: true, memoryBytes: 64 },
      { id: 'http://a#v1000', kind: 'emulated', index: 0, reported: false, memoryBytes: 64 },
    ]);
  });

  describe('placement on devices → replica groups that name their device', () => {
    const v100 = (partitionPercent: number, rps: number): ProfileEntry => ({
      ...row(partitionPercent, rps),
      deviceClass: 'v100',
    });
    const full = createProfileTable({
      entries: [v100(100, 30)],
      footprints: { m: { weightsBytes: 0, replicaBytes: 1024 } },
    });
    const emu = fn(
      { 'fastgshare/slo_ms': '200', 'fastgshare/device': 'emulated', 'fastgshare/emulated_profile': 'm' },
      { 'com.openfaas.scale.max': '6' },
    )!;
    const round = (nodes: Parameters<typeof runLiveRound>[0]['nodes'], demand: number, devicesPerNode = 1) =>
      runLiveRound(
        {
          nowMs: 0,
          functions: [emu],
          demand: new Map([['f.ns', demand]]),
          nodes,
          devicesPerNode,
          current: [],
          profiles: full,
        },
        new Map(),
      ).targets[0]!;

    it('places two partition-100 replicas of one function on the two emulated devices of one node, one group per device', () => {
      const t = round([{ id: 'http://n1', memoryBytes: 1 << 30, devices: { cpu: 1, emulated: 2 } }], 45);
      expect(t.replicas).to.equal(2);
      expect(t.perNode).to.deep.equal(new Map([['http://n1', 2]]));
      const cfg = { partitionPercent: 100, quota: 1, batch: 1 };
      expect(t.groups!.get('http://n1')).to.deep.equal([
        { config: cfg, capacityRps: 30, replicas: 1, device: { kind: 'emulated', index: 0 } },
        { config: cfg, capacityRps: 30, replicas: 1, device: { kind: 'emulated', index: 1 } },
      ]);
      // what the node is sent: the configuration and the device index
      expect(
        t.groups!.get('http://n1')!.map((g) => groupOverrides(g, { 'fastgshare/gpu_quota_limit': '0.5' })),
      ).to.deep.equal([
        {
          'fastgshare/gpu_sm_partition': '100',
          'fastgshare/gpu_quota_request': '1',
          'fastgshare/max_batch': '1',
          'fastgshare/gpu_quota_limit': '1',
          'fastgshare/emulated_device': '0',
        },
        {
          'fastgshare/gpu_sm_partition': '100',
          'fastgshare/gpu_quota_request': '1',
          'fastgshare/max_batch': '1',
          'fastgshare/gpu_quota_limit': '1',
          'fastgshare/emulated_device': '1',
        },
      ]);
    });

    it('spreads over nodes and devices: three replicas on two nodes of two devices each use three distinct devices', () => {
      const t = round(
        [
          { id: 'http://n1', memoryBytes: 1 << 30, devices: { emulated: 2 } },
          { id: 'http://n2', memoryBytes: 1 << 30, devices: { emulated: 2 } },
        ],
        75,
      );
      expect(t.replicas).to.equal(3);
      const used = [...t.groups!]
        .flatMap(([node, gs]) => gs.map((g) => `${node}#${g.device!.index}x${g.replicas}`))
        .sort();
      expect(used).to.have.length(3);
      expect(new Set(used).size).to.equal(3);
      for (const u of used) expect(u).to.match(/x1$/);
      for (const [node, gs] of t.groups!) expect(gs.reduce((a, g) => a + g.replicas, 0)).to.equal(t.perNode!.get(node));
    });

    it('names no device where the node did not report its devices, nor for the cpu', () => {
      // two assumed devices (devicesPerNode): placed on both, but the node picks (it said nothing of its devices)
      const unreported = round([{ id: 'http://n1', memoryBytes: 1 << 30 }], 45, 2);
      expect(unreported.groups!.get('http://n1')).to.deep.equal([
        { config: { partitionPercent: 100, quota: 1, batch: 1 }, capacityRps: 30, replicas: 2 },
      ]);
      const cpu = fn({ 'fastgshare/slo_ms': '200', 'fastgshare/model': 'm' }, { 'com.openfaas.scale.max': '6' })!;
      const r = runLiveRound(
        {
          nowMs: 0,
          functions: [cpu],
          demand: new Map([['f.ns', 25]]),
          nodes: [{ id: 'http://n1', memoryBytes: 1 << 30, devices: { cpu: 1 } }],
          devicesPerNode: 1,
          current: [],
          profiles: table,
        },
        new Map(),
      );
      for (const g of r.targets[0]!.groups!.get('http://n1')!) expect(g.device).to.equal(undefined);
      expect(groupOverrides({ config: { partitionPercent: 25, quota: 1, batch: 1 } })).to.not.have.any.keys(
        'fastgshare/emulated_device',
        'fastgshare/cuda_device',
      );
      expect(
        groupOverrides({ config: { partitionPercent: 25, quota: 1, batch: 1 }, device: { kind: 'cuda', index: 3 } }),
      ).to.include({ 'fastgshare/cuda_device': '3' });
    });

    it('keeps replicas of one configuration on one device in one group', () => {
      const placed = [0, 1, 2].map((i) => ({
        id: `r${i}`,
        function: 'f',
        model: 'm',
        deviceId: i < 2 ? 'n#v1001' : 'n#v1000',
        nodeId: 'n',
        config: { partitionPercent: 25, quota: 1, batch: 1 },
        capacityRps: 10,
      }));
      const devices = new Map(
        nodeDevices([{ id: 'n', memoryBytes: 1, devices: { emulated: 2 } }], ['v100'], 1).map((d) => [d.id, d]),
      );
      expect(
        groupsPerNode(placed, devices)
          .get('n')!
          .map((g) => `${g.device!.index}x${g.replicas}`),
      ).to.deep.equal(['1x2', '0x1']);
    });
  });

  it('plans replicas of the most efficient configuration per demand, places them per node, and goes back to the minimum when idle', () => {
    const f = fn({ 'fastgshare/slo_ms': '200', 'fastgshare/model': 'm' }, { 'com.openfaas.scale.max': '6' })!;
    const nodes = [
      { id: 'http://n1', memoryBytes: 1 << 30 },
      { id: 'http://n2', memoryBytes: 1 << 30 },
    ];
    let state: Map<string, FunctionPlanState> = new Map();
    const step = (
      nowMs: number,
      demand: number,
      current: ReturnType<typeof runLiveRound>['decision']['replicas'] = [],
    ) => {
      const r = runLiveRound(
        {
          nowMs,
          functions: [f],
          demand: new Map([['f.ns', demand]]),
          nodes,
          devicesPerNode: 1,
          current,
          profiles: table,
        },
        state,
        { planner: { cooldownDownMs: 1000 } },
      );
      state = r.state;
      return r;
    };
    const up = step(0, 45);
    const t = up.targets[0]!;
    // efficiency: 25 % → 40 rps per device, 100 % → 30: four saturated 25 % replicas + one residual of 25 %
    expect(t.replicas).to.equal(5);
    expect(t.config).to.deep.equal({ partitionPercent: 25, quota: 1, batch: 1 });
    expect(t.capacityRps).to.equal(10);
    expect([...t.perNode!.values()].reduce((a, b) => a + b, 0)).to.equal(5);
    expect(t.perNode!.get('http://n1')).to.equal(4); // best fit: fill one device before opening another
    expect(t.groups!.get('http://n1')).to.deep.equal([
      { config: { partitionPercent: 25, quota: 1, batch: 1 }, capacityRps: 10, replicas: 4 },
    ]);
    const hold = step(500, 0, up.decision.replicas);
    expect(hold.targets[0]!.replicas).to.equal(5); // cooldown
    const idle = step(1500, 0, hold.decision.replicas);
    expect(idle.targets[0]!.decision.plan!.action).to.equal('idle');
    expect(idle.targets[0]!.replicas).to.equal(1);
  });
});
