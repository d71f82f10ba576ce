import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { PlatformError } from '../../../core/errors.ts';
import { decodeImage, decodeWithSharp, MAX_IMAGE_PIXELS } from '../../../templates/onnx-node/runtime/image.ts';
import { decodePlainPng } from '../../../templates/onnx-node/runtime/png-decode.ts';

const FIXTURE = 'test/functions/fixtures/hello-world-2024.png';

/** A gradient with some texture, as raw RGB. */
function gradient(width: number, height: number) {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      pixels[o] = (x * 7) & 255;
      pixels[o + 1] = (y * 13 + x) & 255;
      pixels[o + 2] = (x * y) & 255;
    }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** One PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** `png` with a chunk of `type` inserted before its image data. */
function withChunk(png: Buffer, type: string, data: Buffer): Buffer {
  let at = 8;
  while (png.toString('latin1', at + 4, at + 8) !== 'IDAT') at += 12 + png.readUInt32BE(at);
  return Buffer.concat([png.subarray(0, at), chunk(type, data), png.subarray(at)]);
}

describe('onnx-node png-decode (plain PNGs without sharp)', () => {
  it('gives the pixels sharp gives for RGB, grey and palette PNGs, with or without a gamma chunk', async () => {
    const gamma = Buffer.alloc(4);
    gamma.writeUInt32BE(45455, 0); // 1/2.2, as ImageMagick writes it
    const pngs = [
      readFileSync(FIXTURE),
      await gradient(61, 23).png().toBuffer(),
      await gradient(61, 23).toColourspace('b-w').png().toBuffer(),
      await gradient(61, 23).png({ palette: true, colours: 16 }).toBuffer(), // 4-bit indices
      await gradient(61, 23).png({ palette: true }).toBuffer(),
      withChunk(await gradient(40, 9).toColourspace('b-w').png().toBuffer(), 'gAMA', gamma),
    ];
    for (const [i, png] of pngs.entries()) {
      const fast = decodePlainPng(png, MAX_IMAGE_PIXELS);
      expect(fast, `PNG ${i} decoded without sharp`).to.not.equal(undefined);
      const slow = await decodeWithSharp(png);
      expect([fast!.width, fast!.height]).to.deep.equal([slow.width, slow.height]);
      expect(fast!.pixels.equals(slow.pixels)).to.equal(true);
      expect((await decodeImage(png)).pixels.equals(slow.pixels)).to.equal(true);
    }
  });

  it('leaves to sharp what sharp would change or must judge', async () => {
    const rgba = await sharp(Buffer.alloc(8 * 8 * 4, 128), { raw: { width: 8, height: 8, channels: 4 } })
      .png()
      .toBuffer();
    const cases: Record<string, Buffer> = {
      'transparency (flattened onto white)': rgba,
      '16 bits per channel': await gradient(16, 8).toColourspace('rgb16').png().toBuffer(),
      interlaced: await gradient(16, 8).png({ progressive: true }).toBuffer(),
      'a colour profile': withChunk(await gradient(16, 8).png().toBuffer(), 'iCCP', Buffer.from('x\0\0')),
      'a transparent palette entry': withChunk(
        await gradient(16, 8).png({ palette: true }).toBuffer(),
        'tRNS',
        Buffer.from([0]),
      ),
      'EXIF orientation': withChunk(await gradient(16, 8).png().toBuffer(), 'eXIf', Buffer.from('MM\0*')),
      JPEG: await gradient(16, 8).jpeg().toBuffer(),
    };
    for (const [what, body] of Object.entries(cases))
      expect(decodePlainPng(body, MAX_IMAGE_PIXELS), what).to.equal(undefined);
    // the transparent one still decodes, through sharp: grey 128 at half opacity on white
    const flat = await decodeImage(rgba);
    expect(flat.pixels[0]).to.equal(191);
  });

  it('does not inflate more than the header says (a 10 × 10 PNG whose data unpacks to 64 MiB)', async () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(10, 0);
    ihdr.writeUInt32BE(10, 4);
    ihdr[8] = 8; // 8-bit grey
    const png = Buffer.concat([
      readFileSync(FIXTURE).subarray(0, 8), // the signature
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(64 * 1024 * 1024))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const before = process.memoryUsage().rss;
    const image = await decodeImage(png);
    expect([image.width, image.height]).to.deep.equal([10, 10]);
    expect(process.memoryUsage().rss - before).to.be.below(48 * 1024 * 1024);
  });

  it('leaves large images, and broken ones, to sharp and its clear 400s', async () => {
    const png = readFileSync(FIXTURE);
    expect(decodePlainPng(png, 224 * 39 - 1)).to.equal(undefined);
    expect(decodePlainPng(png, 224 * 39)).to.not.equal(undefined);
    const page = await gradient(500, 401).png().toBuffer(); // over PLAIN_PNG_MAX_PIXELS: libvips is faster
    expect(decodePlainPng(page, MAX_IMAGE_PIXELS)).to.equal(undefined);
    const truncated = png.subarray(0, png.length - 40);
    expect(decodePlainPng(truncated, MAX_IMAGE_PIXELS)).to.equal(undefined);
    const err = await decodeImage(truncated).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect((err as PlatformError).code).to.equal('bad_request');
    expect((err as PlatformError).message).to.match(/^cannot decode the image/);
  });
});
