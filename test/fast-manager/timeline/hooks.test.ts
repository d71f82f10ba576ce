/**
 * The recording hooks over real sockets: the token server records acquire, grant, release (held
 * time by its clock, the replica's own report) and leave; the emulated device records each batch,
 * attributed to the replica that holds the token of its partition, and a racing batch (no token)
 * by its connection only.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { systemClock } from '../../../core/clock.ts';
import { CaptureSink, createLogger, silentLogger } from '../../../core/logger.ts';
import { createTokenMeter } from '../../../fast-manager/sharing/meter.ts';
import { createTokenServer, type TokenServer } from '../../../fast-manager/sharing/token-server.ts';
import {
  startEmulatedDeviceServer,
  type EmulatedDeviceServer,
} from '../../../fast-manager/devices/emulated-device-server.ts';
import { createDeviceTimelines, type DeviceTimelines } from '../../../fast-manager/timeline/recorder.ts';
import { wasteOf } from '../../../fast-manager/timeline/waste.ts';
import { connectTokenClient } from '../../../templates/onnx-node/runtime/token-client.ts';
import { emulatedDeviceClient } from '../../../templates/onnx-node/runtime/backends/emulated-device-client.ts';
import { eventually } from '../../helpers/eventually.ts';

describe('timeline hooks in the token server and the emulated device', function () {
  this.timeout(15_000);
  let dir: string;
  let tokens: TokenServer;
  let device: EmulatedDeviceServer;
  let timeline: DeviceTimelines;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fg-timeline-'));
    timeline = createDeviceTimelines({ clock: systemClock });
    tokens = await createTokenServer({
      socketPath: join(dir, 't.sock'),
      clock: systemClock,
      log: createLogger({ sink: new CaptureSink() }),
      meter: createTokenMeter(new Registry(), systemClock),
      scheduler: { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 5 },
      timeline,
    });
    device = await startEmulatedDeviceServer({
      socketPath: join(dir, 'emu.sock'),
      clock: systemClock,
      log: silentLogger,
      timeline: timeline.device('emulated'),
    });
  });
  afterEach(async () => {
    await tokens.close();
    await device.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records a gated batch under its token, and a racing batch by its connection', async () => {
    tokens.register('g1', {
      function: 'bert.fn',
      device: 'emulated',
      share: { quotaRequest: 0.5, quotaLimit: 1, partition: 50 },
      key: 'key-g1-0123456789',
    });
    const c = await connectTokenClient({ socketPath: tokens.socketPath, replicaId: 'g1', key: 'key-g1-0123456789' });
    const gated = emulatedDeviceClient({ socketPath: device.socketPath, partitionPercent: 50, logger: silentLogger });
    const racing = emulatedDeviceClient({ socketPath: device.socketPath, partitionPercent: 30, logger: silentLogger });
    const recorded = (kind: string) => timeline.snapshot('emulated').events.filter((e) => e.kind === kind).length;
    try {
      await c.acquire({ burstMs: 4 });
      await gated.run(15);
      c.release();
      // the racing batch comes after the release has been handled (they travel on different sockets)
      await eventually(async () => expect(recorded('release')).to.equal(1), 5000);
      await racing.run(5);
      c.close();
      await eventually(async () => expect(recorded('leave')).to.equal(1), 5000);
    } finally {
      gated.close();
      racing.close();
    }
    const tl = timeline.snapshot('emulated');
    const kinds = tl.events.map((e) => `${e.kind}:${e.replica ?? `#${e.source}`}`);
    expect(kinds).to.deep.equal([
      'acquire:g1',
      'grant:g1',
      'batch-start:g1',
      'batch-end:g1',
      'release:g1',
      `batch-start:#${tl.events[5]!.source}`,
      `batch-end:#${tl.events[5]!.source}`,
      'leave:g1',
    ]);
    expect(tl.events.map((e) => e.t)).to.deep.equal([...tl.events.map((e) => e.t)].sort((a, b) => a - b));
    expect(tl.events[0]).to.include({ partition: 50, burstMs: 4 });
    expect(tl.events[1]!.quotaMs).to.be.a('number').above(0);
    const release = tl.events[4]!;
    expect(release.heldMs).to.be.at.least(14);
    expect(release.usedMs).to.be.a('number').at.least(14);
    expect(tl.events[2]).to.include({ partition: 50, soloMs: 15 });
    expect(tl.events[3]!.elapsedMs).to.be.at.least(15);
    expect(tl.events[5]).to.include({ partition: 30, soloMs: 5 });
    expect(tl.batches).to.equal(true);
    expect(tl.replicas).to.deep.equal([
      { id: 'g1', function: 'bert.fn', partition: 50, quotaRequest: 0.5, quotaLimit: 1 },
    ]);
    const w = wasteOf(tl);
    expect(w.unattributedBatches).to.equal(1);
    expect(w.replicas[0]!.batches).to.equal(1);
    expect(w.replicas[0]!.heldIdleMs).to.be.below(w.replicas[0]!.heldMs);
  });
});
