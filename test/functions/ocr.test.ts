import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { systemClock } from '../../core/clock.ts';
import { PlatformError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createCpuBackend } from '../../templates/onnx-node/runtime/backends/cpu.ts';
import type { ModelService } from '../../templates/onnx-node/runtime/service.ts';
import { systemTimers } from '../../templates/onnx-node/runtime/timers.ts';
import ocr from '../../functions/ocr/handler.ts';
import type { OcrResult } from '../../functions/ocr/pipeline.ts';
import { PAGE_LINES } from './fixtures/page-lines.ts';

const page = readFileSync(new URL('./fixtures/page-lines.png', import.meta.url)); // 358×290, four lines

describe('functions/ocr (detect → direction → orientation → recognize)', function () {
  this.timeout(120_000);
  let service: ModelService;
  before(async () => {
    // the handler's own open(ctx), as a replica runs it; a long SLO so that a busy machine does not refuse
    service = await ocr.open({
      backend: createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }),
      settings: { sloMs: 60_000, maxBatch: 4, maxQueue: 64 },
      clock: systemClock,
      timers: systemTimers,
      logger: silentLogger,
    });
  });
  after(() => service?.close());

  const read = async (png: Buffer) => (await service.invoke(png, 'image/png')) as OcrResult;

  it('reads a page turned by 90, 180 or 270° in reading order and reports the angle', async () => {
    for (const angle of [0, 90, 180, 270] as const) {
      const turned = await sharp(page).rotate(angle).png().toBuffer();
      const r = await read(turned);
      expect(r.angle, `page turned ${angle}°`).to.equal(angle);
      expect(
        r.lines.map((l) => l.text),
        `page turned ${angle}°`,
      ).to.deep.equal(PAGE_LINES);
      expect(r.text).to.equal(PAGE_LINES.join('\n'));
      for (const l of r.lines) {
        expect(l.angle).to.equal(angle);
        expect(l.text).to.equal(l.text.trim());
        // the box is on the turned page, its first point the line's top-left as it reads
        expect(l.box.x + l.box.width).to.be.at.most(r.width);
        expect(l.box.y + l.box.height).to.be.at.most(r.height);
        const [p0, p1] = l.box.points;
        const direction =
          (((Math.round((Math.atan2(p1[1] - p0[1], p1[0] - p0[0]) * 180) / Math.PI / 90) * 90) % 360) + 360) % 360;
        expect(direction, `reading direction of "${l.text}" on the page turned ${angle}°`).to.equal(angle);
      }
    }
  });

  it('reads a page skewed by 2.5° line by line', async () => {
    for (const skew of [2.5, -2.5]) {
      const skewed = await sharp(page).rotate(skew, { background: '#ffffff' }).png().toBuffer();
      const r = await read(skewed);
      expect(r.angle).to.equal(0);
      expect(
        r.lines.map((l) => l.text),
        `skew ${skew}°`,
      ).to.deep.equal(PAGE_LINES);
    }
  });

  it('answers bad pages with a 400 that says what to send', async () => {
    for (const [body, pattern] of [
      [Buffer.alloc(0), /empty body: send the page image/],
      [Buffer.from('not an image at all'), /cannot decode the page image/],
      [
        await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } })
          .png()
          .toBuffer(),
        /is 4×4 pixels; it must be at least 8×8/,
      ],
    ] as const) {
      const err = await service.invoke(body, 'image/png').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PlatformError);
      expect((err as PlatformError).code).to.equal('bad_request');
      expect((err as PlatformError).message).to.match(pattern);
    }
  });
});
