import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { PlatformError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createCpuBackend } from '../../templates/onnx-node/runtime/backends/cpu.ts';
import type { Executor } from '../../templates/onnx-node/runtime/executor.ts';
import { createOcrRecognizeFunction, lineWidth, toRecognizerFeeds } from '../../functions/ocr-recognize/index.ts';
import { foldModel, foldedModelPath } from '../../functions/ocr-recognize/onnx-fold.ts';
import { createOcrDetectFunction, DETECTION_MODEL, toDetectorFeeds } from '../../functions/ocr-detect/index.ts';
import {
  CLASSIFIER_MODEL,
  createTextDirectionFunction,
  toClassifierFeeds,
} from '../../functions/text-direction/index.ts';
import type { Tensors } from '../../templates/onnx-node/runtime/tensor.ts';
import type { ModelRef } from '../../templates/onnx-node/runtime/backends/backend.ts';
import { ctcDecode } from '../../functions/ocr-recognize/ctc.ts';
import { loadCharacters } from '../../functions/ocr-recognize/model-files.ts';

// Rendered once by test/functions/fixtures/make-fixtures.ts (sharp text, DejaVu Sans 24).
const line = readFileSync(new URL('./fixtures/hello-world-2024.png', import.meta.url));

describe('functions/ocr-recognize (PP-OCRv4 recogniser)', function () {
  this.timeout(30_000);
  const fn = createOcrRecognizeFunction();
  let exec: Executor;
  before(async () => {
    exec = await createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }).open(fn);
  });
  after(() => exec?.close());

  it('reads the rendered line exactly', async () => {
    const [r] = await fn.infer(exec, [await fn.decode(line, 'image/png')]);
    expect(r.text).to.equal('Hello World 2024');
    expect(r.confidence).to.be.greaterThan(0.9).and.at.most(1);
  });

  it('reads JPEG and lines of different widths in one batch', async () => {
    const jpeg = await sharp(line).jpeg({ quality: 90 }).toBuffer();
    // the line twice, side by side: 448×39
    const wide = await sharp(line)
      .extend({ right: 224, background: '#ffffff' })
      .composite([{ input: line, left: 224, top: 0 }])
      .png()
      .toBuffer();
    const inputs = await Promise.all([
      fn.decode(jpeg, 'image/jpeg'),
      fn.decode(wide, 'image/png'),
      fn.decode(line, 'image/png'),
    ]);
    // each is cut to its ink with the same margins: the same height, the wide one about twice as wide
    expect(inputs[1]!.height).to.be.closeTo(inputs[2]!.height, 1);
    expect(lineWidth(inputs[1]!)).to.be.greaterThan(1.8 * lineWidth(inputs[2]!));
    const out = await fn.infer(exec, inputs);
    expect(out.map((r) => r.text)).to.deep.equal([
      'Hello World 2024',
      'Hello World 2024 Hello World 2024',
      'Hello World 2024',
    ]);
  });

  it('reads a line with wide margins and a 3° skew: cut to its ink box and levelled first', async () => {
    for (const skew of [3, -3]) {
      const loose = await sharp(line)
        .extend({ top: 50, bottom: 50, left: 80, right: 80, background: '#ffffff' })
        .rotate(skew, { background: '#ffffff' })
        .png()
        .toBuffer();
      const input = await fn.decode(loose, 'image/png');
      // the text (≈ 204 × 19 px of ink) now fills the crop: about 1.8 × its height
      expect(input.height).to.be.within(30, 45);
      expect(input.width).to.be.within(204, 260);
      const [r] = await fn.infer(exec, [input]);
      expect(r.text, `skew ${skew}°`).to.equal('Hello World 2024');
    }
  });

  it('finds no text in a blank image', async () => {
    const blank = await sharp({ create: { width: 200, height: 40, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const [r] = await fn.infer(exec, [await fn.decode(blank, 'image/png')]);
    expect(r.text.trim()).to.equal('');
  });

  it('answers undecodable and degenerate images with a 400 that says what to send', async () => {
    for (const [body, pattern] of [
      [Buffer.alloc(0), /empty body: send the text-line image as PNG, JPEG/],
      [Buffer.from('%PDF-1.4 not an image'), /cannot decode the text-line image: .*Send PNG, JPEG/],
      [line.subarray(0, 100), /cannot decode the text-line image/],
    ] as const) {
      const err = await fn.decode(body, 'image/png').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PlatformError);
      expect((err as PlatformError).code).to.equal('bad_request');
      expect((err as PlatformError).message).to.match(pattern);
    }
    const tiny = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect(await fn.decode(tiny, 'image/png').catch((e: PlatformError) => e.message)).to.match(
      /is 2×2 pixels; it must be at least 4×4/,
    );
  });

  it('gives the emulated device the output shape the model has', async () => {
    const input = await fn.decode(line, 'image/png');
    const feeds = { x: { type: 'float32' as const, dims: [2, 3, 48, 480], data: new Float32Array(2 * 3 * 48 * 480) } };
    const real = await exec.run(feeds);
    expect(fn.outputShapes({ x: { ...feeds.x, data: new Float32Array(0) } })['softmax_11.tmp_0'].dims).to.deep.equal(
      real['softmax_11.tmp_0'].dims,
    );
    void input;
  });

  it('runs each OCR model rewritten with fewer operators (onnx-fold.ts), computing what the exported one does', async () => {
    const backend = createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger });
    const decoded = await fn.decode(line, 'image/png');
    const cases: [ModelRef, string, Tensors][] = [
      [fn, createOcrRecognizeFunction({ foldModel: false }).path, toRecognizerFeeds([decoded])],
      [createOcrDetectFunction(), DETECTION_MODEL, await toDetectorFeeds([decoded])],
      [createTextDirectionFunction(), CLASSIFIER_MODEL, toClassifierFeeds([decoded])],
    ];
    for (const [folded, exported, feeds] of cases) {
      expect(folded.path, folded.name).to.not.equal(exported);
      const { stats } = foldModel(readFileSync(exported));
      expect(stats.hardSwish, folded.name).to.be.greaterThan(0);
      expect(stats.nodesAfter, folded.name).to.be.lessThan(0.9 * stats.nodesBefore);
      const [a, b] = await Promise.all([backend.open(folded), backend.open({ ...folded, path: exported })]);
      try {
        // run() hands the feeds' buffers over to the worker: each run gets its own copy
        const copy = (): Tensors => ({ x: { ...feeds.x, data: (feeds.x.data as Float32Array).slice() } });
        const x = Object.values(await a.run(copy()))[0]!;
        const y = Object.values(await b.run(copy()))[0]!;
        expect(x.dims).to.deep.equal(y.dims);
        const [u, v] = [x.data as Float32Array, y.data as Float32Array];
        let worst = 0;
        for (let i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(u[i]! - v[i]!));
        expect(worst, folded.name).to.be.lessThan(1e-4);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }
  });
});

describe('functions/ocr-recognize rewritten models cache (onnx-fold.ts)', () => {
  it("caches only in a folder that is this user's alone: one others may write to is not used", async () => {
    const { mkdtemp, mkdir, chmod, rm, symlink } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const uid = process.getuid!();
    const tmp = await mkdtemp(join(tmpdir(), 'fold-cache-'));
    try {
      const good = foldedModelPath(CLASSIFIER_MODEL, tmp);
      expect(good.startsWith(join(tmp, `fastgshare-onnx-fold-${uid}`))).to.equal(true);
      expect((await import('node:fs')).statSync(join(tmp, `fastgshare-onnx-fold-${uid}`)).mode & 0o777).to.equal(0o700);
      // a folder others may write to (someone made it first, or loosened it): not trusted
      const open = await mkdtemp(join(tmpdir(), 'fold-cache-open-'));
      await mkdir(join(open, `fastgshare-onnx-fold-${uid}`));
      await chmod(join(open, `fastgshare-onnx-fold-${uid}`), 0o777);
      expect(foldedModelPath(CLASSIFIER_MODEL, open)).to.equal(CLASSIFIER_MODEL);
      // a link planted in its place: not followed
      const linked = await mkdtemp(join(tmpdir(), 'fold-cache-link-'));
      await symlink(open, join(linked, `fastgshare-onnx-fold-${uid}`));
      expect(foldedModelPath(CLASSIFIER_MODEL, linked)).to.equal(CLASSIFIER_MODEL);
      await rm(open, { recursive: true, force: true });
      await rm(linked, { recursive: true, force: true });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('functions/ocr-recognize CTC decoding', () => {
  it('collapses repeats, drops blanks and averages the kept probabilities', () => {
    const chars = ['', 'a', 'b'];
    // steps: a(0.9) a(0.8) blank b(0.6) b blank a(0.7)
    const rows = [
      [0.05, 0.9, 0.05],
      [0.1, 0.8, 0.1],
      [0.9, 0.05, 0.05],
      [0.2, 0.2, 0.6],
      [0.1, 0.1, 0.8],
      [0.9, 0.05, 0.05],
      [0.1, 0.7, 0.2],
    ];
    const r = ctcDecode(Float32Array.from(rows.flat()), [1, rows.length, 3], 0, chars);
    expect(r.text).to.equal('aba');
    expect(r.confidence).to.be.closeTo((0.9 + 0.6 + 0.7) / 3, 1e-6);
  });

  it('has the 6,625 classes of the model: blank, dictionary, space', () => {
    const chars = loadCharacters();
    expect(chars).to.have.length(6625);
    expect(chars[0]).to.equal('');
    expect(chars[chars.length - 1]).to.equal(' ');
    expect(() => ctcDecode(new Float32Array(4), [1, 2, 2], 0, chars)).to.throw(
      /2 classes but the dictionary gives 6625/,
    );
  });
});
