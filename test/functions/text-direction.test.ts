import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { PlatformError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createCpuBackend } from '../../templates/onnx-node/runtime/backends/cpu.ts';
import type { Executor } from '../../templates/onnx-node/runtime/executor.ts';
import { createTextDirectionFunction } from '../../functions/text-direction/index.ts';

const line = readFileSync(new URL('./fixtures/hello-world-2024.png', import.meta.url));

describe('functions/text-direction (PaddleOCR direction classifier)', function () {
  this.timeout(30_000);
  const fn = createTextDirectionFunction();
  let exec: Executor;
  before(async () => {
    exec = await createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }).open(fn);
  });
  after(() => exec?.close());

  it('tells an upright line (0) from the same line rotated 180° (180)', async () => {
    const flipped = await sharp(line).rotate(180).png().toBuffer();
    const out = await fn.infer(exec, [await fn.decode(line, 'image/png'), await fn.decode(flipped, 'image/png')]);
    expect(out[0].angle).to.equal(0);
    expect(out[1].angle).to.equal(180);
    for (const r of out) expect(r.score).to.be.greaterThan(0.9).and.at.most(1);
  });

  it('answers bad input with a 400', async () => {
    const err = await fn.decode(Buffer.from('GIF89a broken'), 'image/gif').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect((err as PlatformError).code).to.equal('bad_request');
    expect((err as PlatformError).message).to.match(/cannot decode the text-line image/);
  });

  it('declares the output shape the model has', async () => {
    const real = await exec.run({
      x: { type: 'float32', dims: [3, 3, 48, 192], data: new Float32Array(3 * 3 * 48 * 192) },
    });
    expect(
      fn.outputShapes({ x: { type: 'float32', dims: [3, 3, 48, 192], data: new Float32Array(0) } })['softmax_0.tmp_0']
        .dims,
    ).to.deep.equal(real['softmax_0.tmp_0'].dims);
  });
});
