import { expect } from 'chai';
import sharp from 'sharp';
import { resizeRgb, type RgbImage } from '../../../templates/onnx-node/runtime/image.ts';
import { axisTaps, resizeLinear } from '../../../templates/onnx-node/runtime/resize-linear.ts';

/** Deterministic noise: the hardest input for a resize to agree on (every tap shows). */
function noise(width: number, height: number, seed: number): RgbImage {
  let s = seed;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    pixels[i] = s >>> 23;
  }
  return { width, height, pixels };
}

/** A dark bar on white, like ink on paper. */
function bars(width: number, height: number): RgbImage {
  const pixels = Buffer.alloc(width * height * 3, 255);
  for (let y = Math.floor(height / 3); y < Math.floor((2 * height) / 3); y++)
    for (let x = 0; x < width; x++)
      if (Math.floor(x / 3) % 2 === 0) pixels.fill(20, (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { width, height, pixels };
}

async function difference(image: RgbImage, width: number, height: number) {
  const expected = await resizeRgb(image, width, height);
  const actual = resizeLinear(image, width, height);
  expect(actual.length).to.equal(expected.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(expected[i] - actual[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / expected.length };
}

describe('onnx-node resize-linear (sharp-compatible resize without sharp)', () => {
  // [from width, from height, to width, to height]: enlarging, shrinking (by less than 2, by 2–4
  // with a block average first), one axis of each (libvips samples the other at X − 0.5), same size
  const cases: Array<[number, number, number, number]> = [
    [224, 39, 303, 48], // a text line to the recogniser's 48 px
    [11, 15, 118, 100],
    [358, 290, 200, 150],
    [224, 39, 97, 17],
    [224, 39, 45, 8],
    [79, 68, 29, 45],
    [76, 27, 31, 28],
    [34, 63, 165, 35],
    [40, 37, 40, 60],
    [52, 63, 52, 63],
  ];
  for (const [w, h, W, H] of cases)
    it(`agrees with sharp within 2 grey levels: ${w}×${h} → ${W}×${H}`, async () => {
      for (const image of [noise(w, h, w * 1000 + h), bars(w, h)]) {
        const { max, mean } = await difference(image, W, H);
        expect(max).to.be.at.most(2);
        // libvips rounds after each stage, this once: on noise shrunk with a block average first,
        // about a third of the values differ by one
        expect(mean).to.be.below(0.4);
      }
    });

  it('samples an enlarged axis at X / scale − 0.5, as libvips does', async () => {
    const ramp = { width: 2, height: 1, pixels: Buffer.from([0, 0, 0, 255, 255, 255]) };
    const out = resizeLinear(ramp, 8, 1);
    // position X / 4 − 0.5: 0 (clamped), 0 (clamped), 0, 0.25, 0.5, 0.75, 1, 1 (clamped)
    expect([...out].filter((_, i) => i % 3 === 0)).to.deep.equal([0, 0, 0, 64, 128, 191, 255, 255]);
    const viaSharp = await sharp(ramp.pixels, { raw: { width: 2, height: 1, channels: 3 } })
      .resize(8, 1, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    expect([...out]).to.deep.equal([...viaSharp]);
  });

  it('gives every output pixel weights that sum to 1', () => {
    for (const [from, to, enlarging] of [
      [100, 33, false],
      [100, 7, false],
      [10, 37, true],
      [40, 40, true],
      [50, 20, true],
    ] as const) {
      const { first, weight } = axisTaps(from, to, enlarging);
      for (let x = 0; x < to; x++) {
        let sum = 0;
        for (let k = first[x]; k < first[x + 1]; k++) sum += weight[k];
        expect(sum).to.be.closeTo(1, 1e-9);
      }
    }
  });
});
