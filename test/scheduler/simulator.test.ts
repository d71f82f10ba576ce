import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../cli/main.ts';
import {
  loadCalibrationProfiles,
  V100_DEVICE_CLASS,
  V100_MEMORY_BYTES,
} from '../../core/profiles/calibration-profiles.ts';
import { getPolicies } from '../../scheduler/policies/registry.ts';
import { fixedLayout, runPublishedSchedulerTest } from '../../scheduler/sim/published-test.ts';
import { resultsSvg, resultsTable } from '../../scheduler/sim/report.ts';
import { comparePolicies } from '../../scheduler/sim/run.ts';
import { clusterDevices, simulate } from '../../scheduler/sim/simulator.ts';
import { generateTrace, parseTraceCsv, type Trace } from '../../scheduler/sim/traces.ts';
import { buildWorkload } from '../../scheduler/sim/workload.ts';
import type { PlacedReplica } from '../../scheduler/types.ts';

const profiles = loadCalibrationProfiles();
const cluster = (nodes: number, per: number) =>
  clusterDevices({ nodes, devicesPerNode: per, deviceClass: V100_DEVICE_CLASS, memoryBytes: V100_MEMORY_BYTES });

describe('scheduler/sim', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const wl = buildWorkload(profiles, 3, 5);
    const trace = generateTrace('bursty', wl, 30, 5);
    const policies = getPolicies(['ours', 'time-sharing']);
    const a = comparePolicies({ profiles, devices: cluster(1, 4), trace, policies, seed: 5 });
    const b = comparePolicies({ profiles, devices: cluster(1, 4), trace, policies, seed: 5 });
    expect(a).to.deep.equal(b);
    const c = comparePolicies({ profiles, devices: cluster(1, 4), trace, policies, seed: 6 });
    expect(c[0]!.functions[0]!.arrived).to.not.equal(a[0]!.functions[0]!.arrived);
    // Every policy sees the same requests.
    expect(a[0]!.functions.map((f) => f.arrived)).to.deep.equal(a[1]!.functions.map((f) => f.arrived));
    const arrived = a[0]!.functions.reduce((s, f) => s + f.arrived, 0);
    const offered = trace.rates.reduce((s, r) => s + r.reduce((x, y) => x + y, 0), 0);
    expect(arrived / offered).to.be.within(0.95, 1.05);
  });

  it('honours partitions: two 50 % replicas run together, two 100 % replicas take turns', () => {
    const fns = ['a', 'b'].map((name) => ({
      name,
      model: 'resnet50',
      deviceClass: V100_DEVICE_CLASS,
      sloMs: 200,
      minReplicas: 1,
      maxReplicas: 1,
    }));
    const trace: Trace = {
      name: 't',
      functions: fns,
      rates: fns.map(() => new Float64Array(20).fill(100)),
      durationS: 20,
    };
    const layout = (p: number): PlacedReplica[] =>
      fns.map((f) => ({
        id: `${f.name}-1`,
        function: f.name,
        model: f.model,
        deviceId: 'node1/gpu0',
        nodeId: 'node1',
        config: { partitionPercent: p, quota: 0.5, batch: 1 },
        capacityRps: 300,
      }));
    const together = simulate({
      profiles,
      devices: cluster(1, 1),
      trace,
      policy: fixedLayout('p50', layout(50)),
      seed: 1,
    });
    const turns = simulate({
      profiles,
      devices: cluster(1, 1),
      trace,
      policy: fixedLayout('p100', layout(100)),
      seed: 1,
    });
    // ResNet-50 batch 1 takes 4.77 ms on 50 % or 100 % alike. At 100 rps each replica is 47.7 % busy:
    // side by side on 50 % halves that is 2 × 0.477 × 0.5 ≈ 0.48 of the SMs; taking turns on the
    // whole device it is 95 % busy, so requests queue behind each other.
    expect(together.utilisation).to.be.within(0.44, 0.51);
    expect(together.p99Ms).to.be.lessThan(turns.p99Ms);
    expect(together.sloAttainment).to.be.greaterThan(0.99);
    expect(together.devicesMean).to.equal(1);
  });

  it('reproduces the published scheduler test: ours on 1 device, time sharing on 4', () => {
    const r = runPublishedSchedulerTest(profiles, cluster(1, 4), { durationS: 30 });
    expect(r.ours.devicesUsed).to.equal(1);
    expect(r.timeSharing.devicesUsed).to.equal(4);
    expect(r.ours.devicesUsed).to.be.lessThan(r.timeSharing.devicesUsed);
    expect(r.functions.find((f) => f.name === 'resnet')!.sloMs).to.equal(69);
    const resnet = r.ours.sim.functions.find((f) => f.function === 'resnet')!;
    expect(resnet.withinSlo / resnet.arrived).to.be.greaterThan(0.95);
    expect(r.ours.sim.sloAttainment).to.be.greaterThan(0.95);
  });

  it('ours beats time sharing on devices at comparable SLO attainment on a diurnal trace', () => {
    const wl = buildWorkload(profiles, 4, 3);
    const trace = generateTrace('diurnal', wl, 60, 3);
    const [ours, ts] = comparePolicies({
      profiles,
      devices: cluster(2, 4),
      trace,
      policies: getPolicies(['ours', 'time-sharing']),
      seed: 3,
    });
    expect(ours!.devicesMean).to.be.lessThan(ts!.devicesMean);
    expect(ours!.sloAttainment).to.be.greaterThan(ts!.sloAttainment - 0.02);
    expect(ours!.timeline.length).to.equal(12);
  });

  it('reads trace files and says what is wrong with bad ones', () => {
    const t = parseTraceCsv(
      'time_s,function,rps,model\n0,img,10,v100-resnet50\n5,img,30\n0,txt,2,v100-bert\n',
      profiles,
      10,
    );
    expect(t.functions.map((f) => [f.name, f.model])).to.deep.equal([
      ['img', 'v100-resnet50'],
      ['txt', 'v100-bert'],
    ]);
    expect(Array.from(t.rates[0]!)).to.deep.equal([10, 10, 10, 10, 10, 30, 30, 30, 30, 30]);
    expect(t.functions[0]!.sloMs).to.equal(67);
    expect(() => parseTraceCsv('t,f\n', profiles)).to.throw(/header with time_s,function,rps/);
    expect(() => parseTraceCsv('time_s,function,rps\n0,img,-1\n', profiles)).to.throw(/line 2/);
    expect(() => parseTraceCsv('time_s,function,rps\n0,img,1\n', profiles)).to.throw(/add a model column/);
  });

  it('renders a table and an SVG chart', () => {
    const wl = buildWorkload(profiles, 2, 1);
    const results = comparePolicies({
      profiles,
      devices: cluster(1, 2),
      trace: generateTrace('steady', wl, 15, 1),
      policies: getPolicies(['ours', 'exclusive']),
      seed: 1,
    });
    const table = resultsTable(results);
    expect(table.split('\n')).to.have.length(4);
    expect(table).to.match(/\| ours +\|/);
    const svg = resultsSvg(results, 'a <test>');
    expect(svg).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).to.contain('a &lt;test&gt;');
    expect((svg.match(/<polyline/g) ?? []).length).to.equal(2);
    expect(svg.trim().endsWith('</svg>')).to.equal(true);
  });

  describe('fastgshare sim (CLI)', () => {
    let dir: string;
    beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'fastgshare-sim-'))));
    afterEach(async () => rm(dir, { recursive: true, force: true }));
    const io = () => {
      const o = { out: '', err: '' };
      return {
        o,
        io: {
          stdout: { write: (s: string | Uint8Array) => (o.out += s.toString()) },
          stderr: { write: (s: string | Uint8Array) => (o.err += s.toString()) },
          stdin: Readable.from([]),
        },
      };
    };
    const run = (argv: string[], t = io()) =>
      main({
        argv,
        env: { OPENFAAS_CONFIG: join(dir, 'cfg') },
        io: t.io,
        cwd: dir,
        home: dir,
        stopSignal: () => new Promise(() => {}),
      });

    it('writes the table, chart and JSON for a trace file', async () => {
      await writeFile(
        join(dir, 'trace.csv'),
        'time_s,function,rps,model,slo_ms\n0,img,50,v100-resnet50,69\n10,img,120\n',
      );
      const t = io();
      expect(
        await run(
          [
            'sim',
            '--trace',
            'trace.csv',
            '--duration',
            '20',
            '--nodes',
            '1',
            '--devices',
            '2',
            '--policies',
            'ours,exclusive',
            '--out',
            'out',
          ],
          t,
        ),
      ).to.equal(0);
      expect(t.o.out).to.match(/\| ours +\|/);
      expect(t.o.out).to.match(/\| exclusive +\|/);
      const md = await readFile(join(dir, 'out', 'sim.md'), 'utf8');
      expect(md).to.contain('trace.csv trace, 1 functions, 1 × 2 V100, 20 s, seed 1');
      expect(await readFile(join(dir, 'out', 'sim.svg'), 'utf8')).to.match(/<svg/);
      const json = JSON.parse(await readFile(join(dir, 'out', 'sim.json'), 'utf8')) as { policy: string }[];
      expect(json.map((r) => r.policy)).to.deep.equal(['ours', 'exclusive']);
    });

    it('rejects bad flags with one clear line', async () => {
      const t = io();
      expect(await run(['sim', '--policies', 'ours,magic', '--duration', '5'], t)).to.equal(1);
      expect(t.o.err).to.match(/unknown policy "magic"/);
      const u = io();
      expect(await run(['sim', '--nodes', '0'], u)).to.equal(1);
      expect(u.o.err).to.match(/--nodes must be a whole number from 1/);
      const f = io();
      expect(await run(['sim', '--trace', 'missing.csv'], f)).to.equal(1);
      expect(f.o.err).to.match(/cannot read/);
    });
  });
});
