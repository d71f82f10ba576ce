import { expect } from 'chai';
import { PlatformError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { loadLatencyTable } from '../../../core/profiles/calibration-table.ts';
import { createEmulatedBackend } from '../../../templates/onnx-node/runtime/backends/emulated.ts';
import { createBackend } from '../../../templates/onnx-node/runtime/backends/index.ts';
import { readBackendConfig } from '../../../templates/onnx-node/runtime/backends/config.ts';
import type { ModelRef } from '../../../templates/onnx-node/runtime/backends/backend.ts';

const table = loadLatencyTable();

const model: ModelRef = {
  name: 'm',
  path: '/unused.onnx',
  outputShapes: (feeds) => ({ y: { type: 'float32', dims: [feeds.x.dims[0], 3] } }),
};

describe('onnx-node emulated device', () => {
  it('reads measured latencies from the gpulet table', () => {
    // gpu-batch-partition-latency.csv: vgg16,1,20 → 4.5352 ms; vgg16,1,40 → 2.5328 ms
    expect(table.latencyMs('vgg16', 1, 20)).to.be.closeTo(4.5352, 1e-9);
    expect(table.latencyMs('vgg16', 1, 40)).to.be.closeTo(2.5328, 1e-9);
  });

  it('interpolates linearly between partitions and batches', () => {
    expect(table.latencyMs('vgg16', 1, 30)).to.be.closeTo((4.5352 + 2.5328) / 2, 1e-9);
    const b2 = table.latencyMs('resnet50', 2, 50);
    const b4 = table.latencyMs('resnet50', 4, 50);
    expect(table.latencyMs('resnet50', 3, 50)).to.be.closeTo((b2 + b4) / 2, 1e-9);
    expect(b4).to.be.greaterThan(b2);
  });

  it('derives batch-1 service time of the V100 models from throughput at quota 1.0', () => {
    // v100-profiles.csv: bert,1.0,100 → 47.941 rps; bert,1.0,50 → 47.672; bert,1.0,24 → 34.694
    expect(table.latencyMs('bert', 1, 100)).to.be.closeTo(1000 / 47.941, 1e-9);
    expect(table.latencyMs('v100-bert', 1, 24)).to.be.closeTo(1000 / 34.694, 1e-9);
    expect(table.latencyMs('bert', 1, 37)).to.be.closeTo((1000 / 34.694 + 1000 / 47.672) / 2, 1e-9);
    // resnet50,1.0,100 → 74.932 rps, reachable as v100-resnet50 (plain resnet50 is the gpulet profile)
    expect(table.latencyMs('v100-resnet50', 1, 100)).to.be.closeTo(1000 / 74.932, 1e-9);
    expect(table.latencyMs('resnet50', 1, 100)).to.not.be.closeTo(1000 / 74.932, 1);
  });

  it('scales batch-1-only models by the mean CNN batching gain', () => {
    const cnns = [
      'densenet121',
      'densenet169',
      'densenet201',
      'inception',
      'mobilenet',
      'resnet101',
      'resnet152',
      'resnet50',
      'vgg16',
      'vgg19',
    ];
    const meanGain = cnns.reduce((s, m) => s + table.latencyMs(m, 8, 60) / table.latencyMs(m, 1, 60), 0) / cnns.length;
    expect(table.latencyMs('gnmt', 8, 60)).to.be.closeTo(table.latencyMs('gnmt', 1, 60) * meanGain, 1e-9);
    expect(meanGain).to.be.greaterThan(1).and.lessThan(8); // batching helps, but is not free
  });

  it('rejects unknown models and partitions with clear errors', () => {
    expect(() => table.latencyMs('gpt9', 1, 50)).to.throw(
      PlatformError,
      /no calibration profile for model "gpt9"; known: .*resnet50/,
    );
    expect(() => table.latencyMs('vgg16', 0, 50)).to.throw(/batch must be a positive whole number/);
    expect(() =>
      createEmulatedBackend({ table, profileModel: 'nope', partitionPercent: 50, logger: silentLogger }),
    ).to.throw(/choose one of/);
  });

  it('a batch takes the profiled time (sleeping, not computing) and returns outputs of the right shape', async () => {
    const slept: number[] = [];
    const backend = createEmulatedBackend({
      table,
      profileModel: 'vgg16',
      partitionPercent: 40,
      logger: silentLogger,
      sleep: async (ms) => void slept.push(ms),
    });
    const exec = await backend.open(model);
    const out = await exec.run({ x: { type: 'float32', dims: [4, 7], data: new Float32Array(28) } });
    expect(slept).to.deep.equal([table.latencyMs('vgg16', 4, 40)]);
    expect(out.y.dims).to.deep.equal([4, 3]);
    expect(out.y.data).to.be.instanceOf(Float32Array).with.length(12);
    await exec.close();
    await exec.run({ x: { type: 'float32', dims: [1, 7], data: new Float32Array(7) } }).then(
      () => expect.fail('ran after close'),
      (e: PlatformError) => expect(e.code).to.equal('unavailable'),
    );
  });

  it('runs batches one after another with real timers, without burning CPU', async () => {
    const backend = createBackend(
      readBackendConfig(
        { FASTGSHARE_DEVICE: 'emulated', FASTGSHARE_EMULATED_PROFILE: 'vgg19', FASTGSHARE_PARTITION: '20' },
        2,
      ),
      { logger: silentLogger },
    );
    const exec = await backend.open(model);
    const each = table.latencyMs('vgg19', 8, 20); // tens of ms
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      [1, 2, 3].map(() => exec.run({ x: { type: 'float32', dims: [8, 1], data: new Float32Array(8) } })),
    );
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    expect(wall).to.be.at.least(3 * each - 3);
    expect((cpu.user + cpu.system) / 1000).to.be.lessThan(wall / 2);
    await exec.close();
  });
});
