import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ManualClock, systemClock } from '../../../core/clock.ts';
import { PlatformError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { AdmissionRejectedError } from '../../../templates/onnx-node/runtime/admission-error.ts';
import { createCpuBackend } from '../../../templates/onnx-node/runtime/backends/cpu.ts';
import { createBackend } from '../../../templates/onnx-node/runtime/backends/index.ts';
import { readBackendConfig } from '../../../templates/onnx-node/runtime/backends/config.ts';
import { createInference, type Inference } from '../../../templates/onnx-node/runtime/inference.ts';
import { systemTimers } from '../../../templates/onnx-node/runtime/timers.ts';
import { ungatedDevice } from '../../../templates/onnx-node/runtime/token-gate.ts';
import { createEmulatedBackend } from '../../../templates/onnx-node/runtime/backends/emulated.ts';
import type { ModelFunction } from '../../../templates/onnx-node/runtime/model-function.ts';
import { loadLatencyTable } from '../../../core/profiles/calibration-table.ts';
import { createTextDirectionFunction, type TextDirectionResult } from '../../../functions/text-direction/index.ts';
import { createOcrRecognizeFunction, type OcrRecognizeResult } from '../../../functions/ocr-recognize/index.ts';

const upright = readFileSync(new URL('../../functions/fixtures/hello-world-2024.png', import.meta.url));

describe('onnx-node inference: batcher + real onnx executor', function () {
  this.timeout(30_000);
  let flipped: Buffer;
  before(async () => {
    flipped = await sharp(upright).rotate(180).png().toBuffer();
  });

  describe('on the cpu device', () => {
    let inf: Inference<TextDirectionResult>;
    const batches: number[] = [];
    before(async () => {
      const fn = createTextDirectionFunction();
      const counted = {
        ...fn,
        infer: (e: Parameters<typeof fn.infer>[0], items: Parameters<typeof fn.infer>[1]) => (
          batches.push(items.length),
          fn.infer(e, items)
        ),
      };
      inf = await createInference({
        fn: counted,
        backend: createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }),
        maxBatch: 4,
        maxQueue: 16,
        sloMs: 2_000,
        maxQueueDelayMs: 200,
        // a shared device whose tokens come at once: batches are cut to the token, so the warm-up also times a full one
        gate: { ...ungatedDevice, stats: () => ({ ...ungatedDevice.stats(), gated: true }) },
        clock: systemClock,
        timers: systemTimers,
        logger: silentLogger,
      });
    });
    after(() => inf?.close());

    it('warms up and seeds the latency estimate', async () => {
      const ms = await inf.warmUp(upright, 'image/png');
      expect(ms).to.be.greaterThan(0).and.lessThan(1_000);
      // a provisional figure (it decays with time on the system clock: within a hair of `ms` here)
      expect(inf.estimator.estimate(1)).to.be.closeTo(ms, ms * 0.01);
      // and a full batch ran: only batch 1 is a figure; sizes not served follow the affine shape of the two
      expect(batches.slice(-1)).to.deep.equal([4]);
      expect(Object.keys(inf.estimator.snapshot())).to.deep.equal(['1']);
      const [e1, e2, e3, e4] = [1, 2, 3, 4].map((b) => inf.estimator.estimate(b));
      expect(e4).to.be.at.least(e1!);
      expect(e3! - e2!).to.be.closeTo(e2! - e1!, 1e-9);
      expect(e4! - e3!).to.be.closeTo(e2! - e1!, 1e-9);
    });

    it('batches concurrent requests and answers each with its own result', async () => {
      batches.length = 0;
      const bodies = [upright, flipped, upright, flipped, flipped, upright];
      const results = await Promise.all(bodies.map((b) => inf.invoke(b, 'image/png')));
      expect(results.map((r) => r.angle)).to.deep.equal([0, 180, 0, 180, 180, 0]);
      for (const r of results) expect(r.score).to.be.greaterThan(0.9);
      expect(batches).to.deep.equal([4, 2]);
      expect(inf.stats()).to.include({ served: 6, queued: 0, running: 0 });
    });

    it('answers bad input with a 400 before it is queued', async () => {
      const err = await inf.invoke(Buffer.from('not an image'), 'image/png').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PlatformError);
      expect((err as PlatformError).status).to.equal(400);
      expect((err as PlatformError).message).to.match(/cannot decode the text-line image/);
    });

    it('rejects with 429 a request whose SLO is below the measured latency while the replica is busy, and serves it when idle', async () => {
      const input = await createTextDirectionFunction().decode(flipped, 'image/png');
      const busy = inf.invoke(upright, 'image/png'); // decoded, then runs
      while (inf.stats().running === 0) await new Promise((r) => setImmediate(r));
      const err = await inf.submit(input, { sloMs: 0.001 }).catch((e: unknown) => e); // joins while a batch runs
      expect(err).to.be.instanceOf(AdmissionRejectedError);
      expect((err as AdmissionRejectedError).status).to.equal(429);
      expect((await busy).angle).to.equal(0);
      // idle again: an estimate alone never refuses work (issue 14)
      expect((await inf.invoke(flipped, 'image/png', { sloMs: 0.001 })).angle).to.equal(180);
    });
  });

  describe('on the emulated device', () => {
    it('returns outputs of the right shape after the profiled time, through the same code path', async () => {
      const backend = createBackend(
        readBackendConfig(
          { FASTGSHARE_DEVICE: 'emulated', FASTGSHARE_EMULATED_PROFILE: 'resnet50', FASTGSHARE_PARTITION: '50' },
          2,
        ),
        { logger: silentLogger },
      );
      const inf: Inference<OcrRecognizeResult> = await createInference({
        fn: createOcrRecognizeFunction(),
        backend,
        maxBatch: 8,
        maxQueue: 16,
        sloMs: 1_000,
        maxQueueDelayMs: 0,
        clock: systemClock,
        timers: systemTimers,
        logger: silentLogger,
      });
      try {
        const t0 = performance.now();
        const r = await inf.invoke(upright, 'image/png');
        expect(performance.now() - t0).to.be.at.least(2);
        expect(r).to.deep.equal({ text: '', confidence: 0 }); // zero outputs decode to nothing
        expect(inf.stats().latencyMs[1]).to.be.greaterThan(0);
      } finally {
        await inf.close();
      }
    });
  });
  describe('warm-up on a shared device (emulated RNN-T, 24 %)', () => {
    it('scales sizes not yet served by the shape of batch 1 and a full batch, not in proportion to batch 1', async () => {
      const table = loadLatencyTable();
      const clock = new ManualClock(0);
      const fn: ModelFunction<number, number> = {
        name: 'rnnt',
        path: '/unused.onnx',
        decode: async () => 0,
        async infer(executor, items) {
          await executor.run({ x: { type: 'float32', dims: [items.length, 1], data: new Float32Array(items.length) } });
          return items;
        },
        outputShapes: (feeds) => ({ y: { type: 'float32', dims: [feeds.x!.dims[0]!, 1] } }),
      };
      const inf = await createInference({
        fn,
        // a batch takes the profiled time on the manual clock
        backend: createEmulatedBackend({
          table,
          profileModel: 'v100-rnnt',
          partitionPercent: 24,
          logger: silentLogger,
          sleep: async (ms) => void clock.advance(ms),
        }),
        maxBatch: 8,
        maxQueue: 16,
        sloMs: 2_000,
        gate: { ...ungatedDevice, stats: () => ({ ...ungatedDevice.stats(), gated: true }) },
        clock,
        timers: systemTimers,
        logger: silentLogger,
      });
      try {
        await inf.warmUp(Buffer.from('x'), 'application/octet-stream');
        const b1 = table.latencyMs('v100-rnnt', 1, 24);
        const b8 = table.latencyMs('v100-rnnt', 8, 24);
        expect(inf.estimator.estimate(1)).to.be.closeTo(b1, 1e-6);
        // affine between the two measured points: 4 items about 119 ms, not 4 × 84
        expect(inf.estimator.estimate(4)).to.be.closeTo(b1 + ((b8 - b1) * 3) / 7, 1e-6);
        expect(inf.estimator.estimate(4)).to.be.below(2 * b1);
      } finally {
        await inf.close();
      }
    });
  });
});
