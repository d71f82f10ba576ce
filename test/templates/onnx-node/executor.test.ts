import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { PlatformError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createCpuBackend } from '../../../templates/onnx-node/runtime/backends/cpu.ts';
import { createExecutor, type Executor } from '../../../templates/onnx-node/runtime/executor.ts';
import { createTextDirectionFunction } from '../../../functions/text-direction/index.ts';
import { createOcrRecognizeFunction } from '../../../functions/ocr-recognize/index.ts';

const backend = createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger });

describe('onnx-node executor (onnxruntime-node in a worker thread)', function () {
  this.timeout(30_000);
  let exec: Executor;
  before(async () => {
    exec = await createExecutor({ backend, model: createTextDirectionFunction() });
  });
  after(async () => {
    await exec?.close();
  });

  it("reports the model's inputs and outputs", () => {
    expect(exec.info.device).to.equal('cpu');
    expect(exec.info.inputs.map((i) => i.name)).to.deep.equal(['x']);
    expect(exec.info.inputs[0].shape[1]).to.equal(3);
    expect(exec.info.outputs.map((o) => o.name)).to.deep.equal(['softmax_0.tmp_0']);
  });

  it('runs a batch and transfers the buffers instead of copying them', async () => {
    const data = new Float32Array(2 * 3 * 48 * 192);
    const out = await exec.run({ x: { type: 'float32', dims: [2, 3, 48, 192], data } });
    expect(data.byteLength).to.equal(0); // moved to the worker
    const y = out['softmax_0.tmp_0'];
    expect(y.dims).to.deep.equal([2, 2]);
    expect(y.data).to.be.instanceOf(Float32Array);
    const p = y.data as Float32Array;
    expect(p[0] + p[1]).to.be.closeTo(1, 1e-5);
    expect(p[2]).to.be.closeTo(p[0], 1e-6); // same input, same answer
  });

  it('runs concurrent calls in order, one at a time, all answered', async () => {
    const runs = [1, 2, 3].map((n) =>
      exec.run({ x: { type: 'float32', dims: [n, 3, 48, 192], data: new Float32Array(n * 3 * 48 * 192) } }),
    );
    const outs = await Promise.all(runs);
    expect(outs.map((o) => o['softmax_0.tmp_0'].dims[0])).to.deep.equal([1, 2, 3]);
  });

  it('keeps the event loop free while the model runs', async () => {
    const rec = await createExecutor({ backend, model: createOcrRecognizeFunction() });
    try {
      const feeds = () => ({
        x: { type: 'float32' as const, dims: [4, 3, 48, 960], data: new Float32Array(4 * 3 * 48 * 960) },
      });
      await rec.run(feeds());
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) await rec.run(feeds());
      const wall = performance.now() - t0;
      const elu = performance.eventLoopUtilization(elu0);
      expect(wall).to.be.greaterThan(20);
      expect(elu.utilization).to.be.lessThan(0.5);
    } finally {
      await rec.close();
    }
  });

  it('turns an inference error into a PlatformError and keeps working', async () => {
    const err = await exec
      .run({ x: { type: 'float32', dims: [1, 2, 48, 192], data: new Float32Array(2 * 48 * 192) } })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect((err as PlatformError).message).to.match(/^inference failed: /);
    const ok = await exec.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
    expect(ok['softmax_0.tmp_0'].dims).to.deep.equal([1, 2]);
  });

  it('fails to open a missing model with a clear error', async () => {
    const model = { ...createTextDirectionFunction(), path: '/nonexistent/model.onnx' };
    const err = await createExecutor({ backend, model }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect((err as PlatformError).message).to.match(/cannot load model \/nonexistent\/model\.onnx/);
  });

  it('close rejects pending runs and later ones', async () => {
    const e2 = await createExecutor({ backend, model: createTextDirectionFunction() });
    const pending = e2.run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } });
    const closing = e2.close();
    const err = await pending.catch((e: PlatformError) => e);
    await closing;
    expect((err as PlatformError).code).to.equal('unavailable');
    const later = await e2
      .run({ x: { type: 'float32', dims: [1, 3, 48, 192], data: new Float32Array(3 * 48 * 192) } })
      .catch((e: PlatformError) => e.code);
    expect(later).to.equal('unavailable');
  });
});
