/**
 * The emulated device's contention (processor sharing over partitions) as pure cases, then the
 * node's emulated-device server and the replica's client over a real unix socket.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../core/clock.ts';
import { CaptureSink, createLogger, silentLogger } from '../../../core/logger.ts';
import { readJsonLines, writeJsonLine } from '../../../core/net/ndjson.ts';
import { DeviceContention } from '../../../fast-manager/devices/emulated-contention.ts';
import {
  startEmulatedDeviceServer,
  type EmulatedDeviceServer,
} from '../../../fast-manager/devices/emulated-device-server.ts';
import { emulatedDeviceClient } from '../../../templates/onnx-node/runtime/backends/emulated-device-client.ts';
import { eventually } from '../../helpers/eventually.ts';

/** Runs jobs [id, partition, soloMs, startAt] and returns each one's finish time. */
function finishTimes(
  jobs: [string, number, number, number][],
  cancels: [string, number][] = [],
): Record<string, number> {
  const d = new DeviceContention();
  const out: Record<string, number> = {};
  const events = [
    ...jobs.map((j) => ({ at: j[3], start: j })),
    ...cancels.map((c) => ({ at: c[1], cancel: c[0] })),
  ].sort((a, b) => a.at - b.at);
  const record = (done: { id: string; elapsedMs: number }[]) => {
    for (const x of done) out[x.id] = jobs.find((j) => j[0] === x.id)![3] + x.elapsedMs;
  };
  for (const e of events) {
    if ('start' in e && e.start) record(d.start(e.start[0], e.start[1], e.start[2], e.at));
    else record(d.cancel((e as { cancel: string }).cancel, e.at));
  }
  record(d.complete(1e9));
  return out;
}

describe('emulated device contention', () => {
  const cases: {
    name: string;
    jobs: [string, number, number, number][];
    cancels?: [string, number][];
    want: Record<string, number>;
  }[] = [
    {
      name: 'partitions summing to 100 % run side by side at full speed',
      jobs: [
        ['a', 50, 10, 0],
        ['b', 50, 10, 0],
      ],
      want: { a: 10, b: 10 },
    },
    {
      name: 'two batches at 100 % share the device: each takes twice as long',
      jobs: [
        ['a', 100, 10, 0],
        ['b', 100, 10, 0],
      ],
      want: { a: 20, b: 20 },
    },
    {
      name: 'three at 50 % (150 %) progress at 2/3 speed',
      jobs: [
        ['a', 50, 10, 0],
        ['b', 50, 10, 0],
        ['c', 50, 10, 0],
      ],
      want: { a: 15, b: 15, c: 15 },
    },
    {
      name: 'a late arrival slows the first down only while they overlap',
      jobs: [
        ['a', 100, 10, 0],
        ['b', 100, 10, 5],
      ],
      want: { a: 15, b: 20 },
    },
    {
      name: 'a finished batch gives its share back to the rest',
      jobs: [
        ['a', 100, 4, 0],
        ['b', 100, 10, 0],
      ],
      want: { a: 8, b: 14 },
    },
    {
      name: 'a cancelled batch (its replica died) stops slowing the others',
      jobs: [
        ['a', 100, 10, 0],
        ['b', 100, 10, 0],
      ],
      cancels: [['b', 4]],
      want: { a: 12 },
    },
    { name: 'a lone batch at any partition takes its solo time', jobs: [['a', 24, 7.5, 3]], want: { a: 10.5 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = finishTimes(c.jobs, c.cancels);
      expect(Object.keys(got).sort()).to.deep.equal(Object.keys(c.want).sort());
      for (const [id, t] of Object.entries(c.want)) expect(got[id], id).to.be.closeTo(t, 1e-6);
    });
  }

  it('finishes batches at epoch-sized clock values (no rounding error left undone)', () => {
    const d = new DeviceContention();
    const t0 = 1_763_700_000_123.456; // Date.now()-like: ms since 1970
    d.start('a', 24, 7.3, t0);
    d.start('b', 50, 11.1, t0 + 0.37);
    d.start('c', 100, 3.9, t0 + 1.11);
    expect(d.nextCompletionAt()).to.be.greaterThan(t0);
    const done = d.complete(t0 + 1000);
    expect(done.map((x) => x.id).sort()).to.deep.equal(['a', 'b', 'c']);
    expect(d.running).to.equal(0);
    expect(d.nextCompletionAt()).to.equal(undefined);
  });

  it('refuses a partition outside (0, 100] and a negative batch time', () => {
    const d = new DeviceContention();
    expect(() => d.start('a', 0, 5, 0)).to.throw(RangeError, /partition/);
    expect(() => d.start('a', 50, -1, 0)).to.throw(RangeError, /batch time/);
  });
});

describe('emulated device server and client (unix socket)', function () {
  this.timeout(10_000);
  let dir: string;
  let server: EmulatedDeviceServer;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fg-emu-'));
    server = await startEmulatedDeviceServer({
      socketPath: join(dir, 'emu.sock'),
      clock: systemClock,
      log: silentLogger,
    });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Sends runs on one raw connection each and returns the device's elapsedMs for each. */
  async function runAll(runs: { partition: number; ms: number }[]): Promise<number[]> {
    return Promise.all(
      runs.map(
        (r, i) =>
          new Promise<number>((resolve, reject) => {
            const s = createConnection(server.socketPath);
            readJsonLines(s, {
              message: (m) => (resolve((m as { elapsedMs: number }).elapsedMs), s.end()),
              bad: reject,
            });
            s.once('connect', () => writeJsonLine(s, { op: 'run', id: `r${i}`, partition: r.partition, ms: r.ms }));
            s.on('error', reject);
          }),
      ),
    );
  }

  it('runs batches of replicas at 50 % side by side, and makes two at 100 % take turns', async () => {
    const half = await runAll([
      { partition: 50, ms: 40 },
      { partition: 50, ms: 40 },
    ]);
    for (const e of half) expect(e).to.be.closeTo(40, 0.01);
    const full = await runAll([
      { partition: 100, ms: 40 },
      { partition: 100, ms: 40 },
    ]);
    // sent in the same turn: they overlap for (almost) all of their time
    for (const e of full) expect(e).to.be.greaterThan(70);
  });

  it('answers a bad message with an error and closes the connection; a dropped replica frees the device', async () => {
    const s = createConnection(server.socketPath);
    const got = new Promise<{ op: string; message: string }>((resolve) =>
      readJsonLines(s, { message: (m) => resolve(m as { op: string; message: string }), bad: () => {} }),
    );
    s.once('connect', () => writeJsonLine(s, { op: 'run', id: 'x', partition: 150, ms: 5 }));
    const err = await got;
    expect(err.op).to.equal('error');
    expect(err.message).to.match(/partition in \(0, 100\]/);
    // a connection that goes away mid-batch: its batch is cancelled
    const d = createConnection(server.socketPath);
    await new Promise((r) => d.once('connect', r));
    writeJsonLine(d, { op: 'run', id: 'y', partition: 100, ms: 10_000 });
    await eventually(async () => expect(server.running()).to.equal(1), 5000);
    d.destroy();
    await eventually(async () => expect(server.running()).to.equal(0), 5000);
  });

  it('the replica client waits for the device; without a device it runs on a local timer and says so once', async () => {
    const client = emulatedDeviceClient({ socketPath: server.socketPath, partitionPercent: 100, logger: silentLogger });
    const t0 = performance.now();
    await Promise.all([
      client.run(30),
      emulatedDeviceClient({ socketPath: server.socketPath, partitionPercent: 100, logger: silentLogger }).run(30),
    ]);
    expect(performance.now() - t0, 'two 30 ms batches at 100 % contend').to.be.greaterThan(55);
    client.close();

    const sink = new CaptureSink();
    const lone = emulatedDeviceClient({
      socketPath: join(dir, 'missing.sock'),
      partitionPercent: 50,
      logger: createLogger({ sink, level: 'debug' }),
    });
    const t1 = performance.now();
    await lone.run(20);
    await lone.run(20);
    expect(performance.now() - t1).to.be.greaterThan(38);
    expect(sink.lines().filter((l) => /emulated device unreachable/.test(l))).to.have.length(1);
  });
});
