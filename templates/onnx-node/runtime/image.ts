/**
 * Image decoding and the resize + normalise step shared by the OCR models: sharp (libvips) decodes,
 * except plain PNGs (png-decode.ts); text lines are resized in JavaScript (resize-linear.ts).
 * Undecodable or oversized images become PlatformError('bad_request').
 */
import sharp from 'sharp';
import { PlatformError } from 'fastgshare/core/errors.ts';
import { unwrapBase64Json } from './request-body.ts';
import { decodePlainPng } from './png-decode.ts';
import { resizeLinear } from './resize-linear.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bits per channel. */
  pixels: Buffer;
}

export const MAX_IMAGE_PIXELS = 40_000_000;

// A replica decodes each request once: libvips' operation cache would only hold memory.
sharp.cache(false);

export async function decodeImage(body: Buffer, what = 'image'): Promise<RgbImage> {
  if (body.length === 0)
    throw new PlatformError('bad_request', `empty body: send the ${what} as PNG, JPEG, WebP, GIF or TIFF bytes`);
  // opaque 8-bit PNGs without a colour profile: the same pixels without a call into sharp
  return decodePlainPng(body, MAX_IMAGE_PIXELS) ?? decodeWithSharp(body, what);
}

/** decodeImage's path for everything but plain PNGs: EXIF orientation, flattened onto white, sRGB. */
export async function decodeWithSharp(body: Buffer, what = 'image'): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(body, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
      .rotate() // honour EXIF orientation
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, pixels: data };
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    throw new PlatformError(
      'bad_request',
      `cannot decode the ${what}: ${reason}. Send PNG, JPEG, WebP, GIF or TIFF bytes (at most ${MAX_IMAGE_PIXELS} pixels)`,
      { cause: err },
    );
  }
}

/** A request body holding an image: its bytes, or JSON {"image": "<base64>"}. */
export function decodeImageRequest(body: Buffer, contentType: string | undefined, what = 'image'): Promise<RgbImage> {
  return decodeImage(unwrapBase64Json(body, contentType, 'image').body, what);
}

/** The rectangle (clamped to the image) as a new image. */
export async function cropRgb(
  image: RgbImage,
  rect: { x: number; y: number; width: number; height: number },
): Promise<RgbImage> {
  const left = Math.max(0, Math.min(image.width - 1, Math.round(rect.x)));
  const top = Math.max(0, Math.min(image.height - 1, Math.round(rect.y)));
  const width = Math.max(1, Math.min(image.width - left, Math.round(rect.width)));
  const height = Math.max(1, Math.min(image.height - top, Math.round(rect.height)));
  const pixels = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left, top, width, height })
    .raw()
    .toBuffer();
  return { width, height, pixels };
}

/** The image turned by 180°. */
export async function rotate180(image: RgbImage): Promise<RgbImage> {
  const pixels = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .rotate(180)
    .raw()
    .toBuffer();
  return { width: image.width, height: image.height, pixels };
}

/** Resizes to width × height (bilinear); interleaved RGB out. */
export function resizeRgb(image: RgbImage, width: number, height: number): Promise<Buffer> {
  return sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
}

/**
 * Resizes `image` to height × width (bilinear, as resizeRgb; resize-linear.ts) and writes it,
 * normalised to (x/255 − 0.5)/0.5 in BGR channel order (as PaddleOCR models expect), into `out` at
 * CHW slot offset `offset` of a tensor whose rows are `stride` wide; columns beyond `width` stay as
 * they are (zero padding). Synchronous: text lines are small, and a call into sharp cost more than
 * the resize itself.
 */
export function writeNormalisedBgr(
  image: RgbImage,
  height: number,
  width: number,
  out: Float32Array,
  offset: number,
  stride: number,
): void {
  const resized = resizeLinear(image, width, height);
  const plane = height * stride;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const dst = offset + y * stride + x;
      out[dst] = resized[src + 2] / 127.5 - 1; // B
      out[dst + plane] = resized[src + 1] / 127.5 - 1; // G
      out[dst + 2 * plane] = resized[src] / 127.5 - 1; // R
    }
  }
}

/** A text-line image (PNG/JPEG bytes or base64 JSON), at least 4×4 pixels. */
export async function decodeTextLineImage(body: Buffer, contentType: string | undefined): Promise<RgbImage> {
  const image = await decodeImageRequest(body, contentType, 'text-line image');
  if (image.height < 4 || image.width < 4)
    throw new PlatformError(
      'bad_request',
      `the text-line image is ${image.width}×${image.height} pixels; it must be at least 4×4`,
    );
  return image;
}
