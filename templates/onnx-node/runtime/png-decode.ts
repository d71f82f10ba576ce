/**
 * A synchronous decoder for the PNGs that text-line requests mostly are (8-bit grey or RGB, or a
 * palette; opaque, not interlaced), with pngjs, so that a small image does not pay for sharp's hop to libvips'
 * thread pool (about 1.5 ms for a 500 × 48 line, several times the decoding itself). It gives the
 * same pixels as the sharp path in image.ts (test/templates/onnx-node/png-decode.test.ts), and
 * leaves to sharp everything whose result could differ or that sharp must judge: transparency (to
 * be flattened onto white), colour profiles and EXIF orientation, 16-bit and interlaced images,
 * large images, and anything that does not parse.
 */
import pngjs from 'pngjs';
import type { RgbImage } from './image.ts';

/**
 * Larger images go to sharp: libvips decodes them faster than pngjs, on its own threads (bench:ocr
 * pages, about 1000 × 700: pngjs 6–11 ms, sharp 4–5 ms; 500 × 48 lines: pngjs 0.6 ms, sharp 1.3–1.6 ms).
 */
const PLAIN_PNG_MAX_PIXELS = 200_000;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Grey, RGB and palette colour types (no alpha channel). */
const OPAQUE_COLOUR_TYPES = new Set([0, 2, 3]);
/** Chunks that make sharp's pixels differ from the stored ones: transparency, ICC profile, EXIF. */
const SHARP_ONLY_CHUNKS = new Set(['tRNS', 'iCCP', 'eXIf']);

/** Whether `body` is a PNG this decoder gives exactly as sharp does, at most `maxPixels` large. */
export function isPlainPng(body: Buffer, maxPixels: number): boolean {
  if (body.length < 8 + 25 || !body.subarray(0, 8).equals(SIGNATURE)) return false;
  if (body.toString('latin1', 12, 16) !== 'IHDR') return false;
  const width = body.readUInt32BE(16);
  const height = body.readUInt32BE(20);
  const [bitDepth, colourType, , , interlace] = body.subarray(24, 29);
  if (width === 0 || height === 0 || width * height > Math.min(maxPixels, PLAIN_PNG_MAX_PIXELS)) return false;
  // palette indices may be packed below 8 bits; grey or RGB samples only at 8 bits (no rescaling)
  const depthOk = bitDepth === 8 || (colourType === 3 && bitDepth! < 8);
  if (!depthOk || !OPAQUE_COLOUR_TYPES.has(colourType!) || interlace !== 0) return false;
  // walk the chunks up to the image data: the ones that change the pixels come before it
  for (let at = 8; at + 8 <= body.length;) {
    const length = body.readUInt32BE(at);
    const type = body.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') return true;
    if (SHARP_ONLY_CHUNKS.has(type)) return false;
    at += 12 + length;
  }
  return false;
}

/** The PNG's pixels as interleaved RGB, or undefined when sharp should decode it (see isPlainPng). */
export function decodePlainPng(body: Buffer, maxPixels: number): RgbImage | undefined {
  if (!isPlainPng(body, maxPixels)) return undefined;
  let png: { width: number; height: number; data: Buffer };
  try {
    png = pngjs.PNG.sync.read(body);
  } catch {
    return undefined; // sharp says what is wrong with it
  }
  const { width, height, data } = png;
  const pixels = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, o = 0; o < pixels.length; i += 4, o += 3) {
    pixels[o] = data[i]!;
    pixels[o + 1] = data[i + 1]!;
    pixels[o + 2] = data[i + 2]!;
  }
  return { width, height, pixels };
}
