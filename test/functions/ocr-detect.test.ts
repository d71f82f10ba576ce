import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { PlatformError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createCpuBackend } from '../../templates/onnx-node/runtime/backends/cpu.ts';
import type { Executor } from '../../templates/onnx-node/runtime/executor.ts';
import { createOcrDetectFunction, detectorSize } from '../../functions/ocr-detect/index.ts';
import { dbRects, DEFAULT_DB_OPTIONS, toImageBox } from '../../functions/ocr-detect/db-postprocess.ts';
import { PAGE_LINES } from './fixtures/page-lines.ts';
import { createOcrRecognizeFunction } from '../../functions/ocr-recognize/index.ts';

const line = readFileSync(new URL('./fixtures/hello-world-2024.png', import.meta.url)); // 224×39, 10 px margin

/** Fraction of the text's ink box covered by `b`, and `b`'s size relative to it. */
function covers(
  b: { x: number; y: number; width: number; height: number },
  ink: { x: number; y: number; width: number; height: number },
) {
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
      const crop = await sharp(page)
        .extract({ left: b.x, top: b.y, width: b.width, height: b.height })
        .png()
        .toBuffer();
      const [text] = await rec.infer(recExec, [await rec.decode(crop, 'image/png')]);
      expect(text.text).to.equal('Hello World 2024');
    } finally {
      await recExec.close();
    }
  });

  it('boxes the lines of a skewed page as rotated rectangles, one per line', async () => {
    const page = readFileSync(new URL('./fixtures/page-lines.png', import.meta.url));
    const skewed = await sharp(page).rotate(3, { background: '#ffffff' }).png().toBuffer();
    const [r] = await fn.infer(exec, [await fn.decode(skewed, 'image/png')]);
    expect(r.boxes).to.have.length(PAGE_LINES.length);
    for (const b of r.boxes) {
      const [p0, p1] = b.points;
      const angle = (Math.atan2(p1[1] - p0[1], p1[0] - p0[0]) * 180) / Math.PI;
      expect(angle).to.be.closeTo(3, 1);
      for (const [x, y] of b.points) {
        expect(x).to.be.within(b.x, b.x + b.width);
        expect(y).to.be.within(b.y, b.y + b.height);
      }
    }
    for (let i = 1; i < r.boxes.length; i++) expect(r.boxes[i]!.y).to.be.greaterThan(r.boxes[i - 1]!.y);
  });

  it('finds nothing on a blank page and handles a batch of different sizes', async () => {
    const blank = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const out = await fn.infer(exec, [await fn.decode(blank, 'image/png'), await fn.decode(line, 'image/png')]);
    expect(out[0].boxes).to.deep.equal([]);
    expect(out[1].boxes).to.have.length(1);
  });

  it('scales to at most 960 px, multiples of 32', () => {
    expect(detectorSize({ width: 1920, height: 1080, pixels: Buffer.alloc(0) })).to.deep.equal({
      width: 960,
      height: 544,
    });
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
    const rects = dbRects(map, 0, w, w, h);
    expect(rects).to.have.length(1);
    const d = (8 * 4 * 1.5) / (2 * 12); // 2
    const box = toImageBox(rects[0]!, 1, 1, w, h);
    expect(box).to.deep.include({ x: 2 - d, y: 2 - d, width: 8 + 2 * d, height: 4 + 2 * d });
    expect(box.points).to.deep.equal([
      [0, 0],
      [12, 0],
      [12, 8],
      [0, 8],
    ]);
    expect(box.score).to.be.closeTo(0.9, 1e-6);
  });

  it('gives a sloping line its rotated rectangle, scored inside it, where the axis-aligned box would fail', () => {
    // a 60 × 4 bar sloping at 5°: its axis-aligned box is 60 × 9 and mostly empty (mean < 0.6)
    const w = 80;
    const h = 30;
    const map = new Float32Array(w * h);
    const slope = Math.tan((5 * Math.PI) / 180);
    for (let x = 10; x < 70; x++) {
      const top = Math.round(10 + (x - 10) * slope);
      for (let y = top; y < top + 4; y++) map[y * w + x] = 0.95;
    }
    const [r, ...rest] = dbRects(map, 0, w, w, h);
    expect(rest).to.deep.equal([]);
    expect(r!.rect.angle).to.be.closeTo(5, 1.5);
    // the axis-aligned box's mean: 60·4·0.95 / (60·9) ≈ 0.42
    expect(r!.score).to.be.greaterThan(DEFAULT_DB_OPTIONS.boxThreshold);
    const box = toImageBox(r!, 2, 2, 2 * w, 2 * h); // scaled to an image twice the map's size
    const [p0, p1, , p3] = box.points;
    expect(p1[0] - p0[0]).to.be.greaterThan(2 * 60); // along the bar, unclipped
    expect((p1[1] - p0[1]) / (p1[0] - p0[0])).to.be.closeTo(slope, 0.03); // the top edge slopes with the bar
    expect(p3[1]).to.be.greaterThan(p0[1]); // p3 is below p0: points start at the top-left
  });
});
