import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { PlatformError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createCpuBackend } from '../../templates/onnx-node/runtime/backends/cpu.ts';
import type { Executor } from '../../templates/onnx-node/runtime/executor.ts';
import { createOcrDetectFunction, detectorSize } from '../../functions/ocr-detect/index.ts';
import { dbBoxes } from '../../functions/ocr-detect/db-postprocess.ts';
import { createOcrRecognizeFunction } from '../../functions/ocr-recognize/index.ts';

const line = readFileSync(new URL('./fixtures/hello-world-2024.png', import.meta.url)); // 224×39, 10 px margin

/** Fraction of the text's ink box covered by `b`, and `b`'s size relative to it. */
function covers(b: { x: number; y: number; width: number; height: number }, ink: { x: number; y: number; width: number; height: number }) {
  const ix = Math.max(0, Math.min(b.x + b.width, ink.x + ink.width) - Math.max(b.x, ink.x));
  const iy = Math.max(0, Math.min(b.y + b.height, ink.y + ink.height) - Math.max(b.y, ink.y));
  return (ix * iy) / (ink.width * ink.height);
}

describe('functions/ocr-detect (PP-OCRv4 detector + DB post-processing)', function () {
  this.timeout(30_000);
  const fn = createOcrDetectFunction();
  let exec: Executor;
  before(async () => {
    exec = await createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }).open(fn);
  });
  after(() => exec?.close());

  it('finds each text line on a page, in reading order, and the boxes read back correctly', async () => {
    const page = await sharp({ create: { width: 640, height: 300, channels: 3, background: '#ffffff' } })
      .composite([
        { input: line, left: 300, top: 200 },
        { input: line, left: 30, top: 40 },
      ])
      .png()
      .toBuffer();
    const [r] = await fn.infer(exec, [await fn.decode(page, 'image/png')]);
    expect(r.boxes).to.have.length(2);
    const inks = [
      { x: 40, y: 50, width: 204, height: 19 },
      { x: 310, y: 210, width: 204, height: 19 },
    ];
    r.boxes.forEach((b, i) => {
      expect(covers(b, inks[i]), `box ${i} covers its line`).to.be.greaterThan(0.9);
      expect(b.width * b.height).to.be.lessThan(3 * inks[i].width * inks[i].height);
      expect(b.score).to.be.greaterThan(0.6);
    });
    // crop the first box and recognise it
    const rec = createOcrRecognizeFunction();
    const recExec = await createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }).open(rec);
    try {
      const b = r.boxes[0];
      const crop = await sharp(page).extract({ left: b.x, top: b.y, width: b.width, height: b.height }).png().toBuffer();
      const [text] = await rec.infer(recExec, [await rec.decode(crop, 'image/png')]);
      expect(text.text).to.equal('Hello World 2024');
    } finally {
      await recExec.close();
    }
  });

  it('finds nothing on a blank page and handles a batch of different sizes', async () => {
    const blank = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const out = await fn.infer(exec, [await fn.decode(blank, 'image/png'), await fn.decode(line, 'image/png')]);
    expect(out[0].boxes).to.deep.equal([]);
    expect(out[1].boxes).to.have.length(1);
  });

  it('scales to at most 960 px, multiples of 32', () => {
    expect(detectorSize({ width: 1920, height: 1080, pixels: Buffer.alloc(0) })).to.deep.equal({ width: 960, height: 544 });
    expect(detectorSize({ width: 224, height: 39, pixels: Buffer.alloc(0) })).to.deep.equal({ width: 224, height: 32 });
  });

  it('answers bad input with a 400', async () => {
    const err = await fn.decode(Buffer.from('nope'), 'image/png').catch((e: unknown) => e);
    expect((err as PlatformError).code).to.equal('bad_request');
  });
});

describe('functions/ocr-detect DB boxes', () => {
  it('boxes each region above threshold, drops weak and tiny ones, and unclips', () => {
    const w = 20;
    const h = 10;
    const map = new Float32Array(w * h);
    const fill = (x0: number, y0: number, x1: number, y1: number, v: number) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) map[y * w + x] = v;
    };
    fill(2, 2, 10, 6, 0.9); // 8×4 strong region
    fill(12, 2, 18, 6, 0.5); // weak: mean 0.5 < 0.6
    fill(12, 8, 14, 9, 0.9); // 2×1: too small
    const boxes = dbBoxes(map, 0, w, w, h);
    expect(boxes).to.have.length(1);
    const d = (8 * 4 * 1.5) / (2 * 12); // 2
    expect(boxes[0]).to.deep.include({ x: 2 - d, y: 2 - d, width: 8 + 2 * d, height: 4 + 2 * d });
    expect(boxes[0].score).to.be.closeTo(0.9, 1e-6);
  });
});
