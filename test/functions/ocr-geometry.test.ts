import { expect } from 'chai';
import { convexHull, type Point } from '../../functions/ocr-detect/convex-hull.ts';
import { bounds, growQuad, minAreaRect, rectQuad, type Quad } from '../../functions/ocr-detect/min-area-rect.ts';
import { mergePieces } from '../../functions/ocr-detect/merge-pieces.ts';
import { quadForAngle, readingOrder, readingRows } from '../../functions/ocr-detect/reading-order.ts';
import {
  applyHomography,
  homography,
  perspectiveCrop,
  quadSize,
} from '../../functions/ocr-recognize/perspective-crop.ts';
import { fromTurned, turnClockwise } from '../../functions/ocr/page-turn.ts';
import { pageAngle } from '../../functions/ocr/orientation.ts';
import type { RgbImage } from '../../templates/onnx-node/runtime/image.ts';

const close = (a: readonly Point[], b: readonly Point[], eps = 1e-6) => {
  expect(a).to.have.length(b.length);
  a.forEach((p, i) => {
    expect(p[0], `x of point ${i}`).to.be.closeTo(b[i]![0], eps);
    expect(p[1], `y of point ${i}`).to.be.closeTo(b[i]![1], eps);
  });
};

/** The corners of a w × h rectangle centred at (cx, cy), turned by `deg` clockwise. */
function turnedRect(cx: number, cy: number, w: number, h: number, deg: number): Point[] {
  const a = (deg * Math.PI) / 180;
  return [
    [-w / 2, -h / 2],
    [w / 2, -h / 2],
    [w / 2, h / 2],
    [-w / 2, h / 2],
  ].map(([x, y]) => [cx + x! * Math.cos(a) - y! * Math.sin(a), cy + x! * Math.sin(a) + y! * Math.cos(a)] as Point);
}

describe('functions/ocr geometry', () => {
  it('convex hull: corners only, inner and collinear points dropped', () => {
    const hull = convexHull([
      [0, 0],
      [2, 0],
      [4, 0],
      [4, 3],
      [2, 1],
      [0, 3],
      [0, 3],
    ]);
    expect(hull).to.have.length(4);
    expect(hull).to.deep.include.members([
      [0, 0],
      [4, 0],
      [4, 3],
      [0, 3],
    ]);
    expect(
      convexHull([
        [0, 0],
        [1, 1],
        [2, 2],
      ]),
    ).to.deep.equal([
      [0, 0],
      [2, 2],
    ]);
  });

  it('minimum-area rectangle of a turned rectangle and points inside it is that rectangle', () => {
    for (const deg of [0, 7, -12, 33, 90, -80]) {
      const corners = turnedRect(50, 40, 60, 10, deg);
      const inside: Point[] = [
        [50, 40],
        [52, 41],
      ];
      const r = minAreaRect([...corners, ...inside]);
      expect(r.width).to.be.closeTo(60, 1e-6);
      expect(r.height).to.be.closeTo(10, 1e-6);
      expect(r.cx).to.be.closeTo(50, 1e-6);
      expect(r.cy).to.be.closeTo(40, 1e-6);
      const expected = deg > 90 ? deg - 180 : deg <= -90 ? deg + 180 : deg;
      expect(r.angle, `at ${deg}°`).to.be.closeTo(expected === -90 ? 90 : expected, 1e-6);
    }
  });

  it('rectQuad numbers the corners as the text reads, growQuad grows along and across', () => {
    const r = minAreaRect(turnedRect(0, 0, 20, 4, 0));
    close(rectQuad(r, 0), [
      [-10, -2],
      [10, -2],
      [10, 2],
      [-10, 2],
    ]);
    // read upside down: the top-left as read is the bottom-right on screen
    close(rectQuad(r, 180), [
      [10, 2],
      [-10, 2],
      [-10, -2],
      [10, -2],
    ]);
    // read top to bottom (turned 90° clockwise): along is the short side
    const q90 = rectQuad(r, 90);
    expect(q90[1][1] - q90[0][1]).to.be.closeTo(4, 1e-9);
    close(growQuad(rectQuad(r, 0), 1, 2), [
      [-11, -4],
      [11, -4],
      [11, 4],
      [-11, 4],
    ]);
    expect(bounds(rectQuad(r, 0))).to.deep.equal({ x: -10, y: -2, width: 20, height: 4 });
  });

  it('homography maps the four corners, and a perspective crop levels a turned rectangle', () => {
    const from: Point[] = [
      [0, 0],
      [10, 0],
      [10, 5],
      [0, 5],
    ];
    const to: Point[] = [
      [3, 1],
      [20, 4],
      [18, 12],
      [2, 9],
    ];
    const h = homography(from, to);
    from.forEach((p, i) => close([applyHomography(h, p[0], p[1])], [to[i]!], 1e-9));

    // a 40 × 10 rectangle, left half red and right half blue, turned by 20° on a white image
    const W = 80;
    const H = 60;
    const pixels = Buffer.alloc(W * H * 3, 255);
    const rect = turnedRect(40, 30, 40, 10, 20) as Quad;
    const a = (20 * Math.PI) / 180;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const dx = x + 0.5 - 40;
        const dy = y + 0.5 - 30;
        const u = dx * Math.cos(a) + dy * Math.sin(a);
        const v = -dx * Math.sin(a) + dy * Math.cos(a);
        if (Math.abs(u) > 20 || Math.abs(v) > 5) continue;
        pixels.set(u < 0 ? [255, 0, 0] : [0, 0, 255], (y * W + x) * 3);
      }
    }
    const image: RgbImage = { width: W, height: H, pixels };
    expect(quadSize(rect)).to.deep.equal({ width: 40, height: 10 });
    const crop = perspectiveCrop(image, rect);
    expect([crop.width, crop.height]).to.deep.equal([40, 10]);
    const at = (x: number, y: number) => [...crop.pixels.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)];
    // away from the edges (bilinear blends there): red on the left, blue on the right, no white
    for (const y of [3, 5, 7]) {
      for (const x of [3, 10, 15]) expect(at(x, y), `(${x}, ${y})`).to.deep.equal([255, 0, 0]);
      for (const x of [25, 30, 36]) expect(at(x, y), `(${x}, ${y})`).to.deep.equal([0, 0, 255]);
    }
  });

  it('a degenerate quadrilateral (all corners on one line) crops its bounds instead of failing', () => {
    const image: RgbImage = { width: 20, height: 10, pixels: Buffer.alloc(600, 200) };
    const flat: Quad = [
      [0, 2],
      [5, 2],
      [10, 2],
      [3, 2],
    ];
    const crop = perspectiveCrop(image, flat);
    expect([crop.width, crop.height]).to.deep.equal([7, 5]);
    expect([...crop.pixels.subarray(0, 3)]).to.deep.equal([200, 200, 200]);
  });

  it('turns pages by quarter turns and takes points back', () => {
    // 3 × 2 image, pixel value = its index
    const image: RgbImage = { width: 3, height: 2, pixels: Buffer.from([0, 1, 2, 3, 4, 5].flatMap((v) => [v, v, v])) };
    const at = (im: RgbImage, x: number, y: number) => im.pixels[(y * im.width + x) * 3];
    const t1 = turnClockwise(image, 1);
    expect([t1.width, t1.height]).to.deep.equal([2, 3]);
    expect([at(t1, 0, 0), at(t1, 1, 0), at(t1, 0, 2), at(t1, 1, 2)]).to.deep.equal([3, 0, 5, 2]);
    const t2 = turnClockwise(image, 2);
    expect([at(t2, 0, 0), at(t2, 2, 1)]).to.deep.equal([5, 0]);
    const t3 = turnClockwise(image, 3);
    expect([t3.width, t3.height, at(t3, 0, 0), at(t3, 1, 0)]).to.deep.equal([2, 3, 2, 5]);
    // the centre of pixel (2, 0) (value 2) on each turned image comes back to (2.5, 0.5)
    const where = { 1: [1.5, 2.5], 2: [0.5, 1.5], 3: [0.5, 0.5] } as const;
    for (const q of [1, 2, 3] as const) close([fromTurned(where[q] as unknown as Point, q, image)], [[2.5, 0.5]]);
  });

  it('reading order: rows across, pieces of a row along, for each page angle', () => {
    const box = (x: number, y: number, w: number, h: number): Quad => [
      [x, y],
      [x + w, y],
      [x + w, y + h],
      [x, y + h],
    ];
    // two lines; the first in two pieces, given out of order
    const quads = [box(10, 50, 100, 20), box(120, 12, 40, 18), box(10, 10, 100, 20)];
    expect(readingRows(quads, 0)).to.deep.equal([[2, 1], [0]]);
    expect(readingOrder(quads, 180)).to.deep.equal([0, 1, 2]); // upside down: bottom line first, right to left
    // standing lines (page turned 90° clockwise): rightmost line first, top to bottom
    const standing = [box(10, 10, 20, 100), box(50, 10, 20, 100)];
    expect(readingOrder(standing, 90)).to.deep.equal([1, 0]);
    expect(readingOrder(standing, 270)).to.deep.equal([0, 1]);
    const q = quadForAngle(box(0, 0, 100, 20), 180);
    expect(q[0]).to.deep.equal([100, 20]);
  });

  it('page angle: the heaviest of the long boxes\u2019 votes; short and unsure boxes do not count', () => {
    const lying: Quad = [
      [0, 0],
      [100, 0],
      [100, 20],
      [0, 20],
    ];
    const standing: Quad = [
      [20, 0],
      [20, 100],
      [0, 100],
      [0, 0],
    ];
    const square: Quad = [
      [0, 0],
      [20, 0],
      [20, 18],
      [0, 18],
    ];
    expect(pageAngle([{ points: lying, flipped: true, score: 0.99 }]).angle).to.equal(180);
    expect(pageAngle([{ points: standing, flipped: false, score: 0.99 }]).angle).to.equal(90);
    expect(pageAngle([{ points: standing, flipped: true, score: 0.99 }]).angle).to.equal(270);
    expect(pageAngle([{ points: square, flipped: true, score: 1 }]).angle).to.equal(0);
    expect(
      pageAngle([
        { points: lying, flipped: true, score: 0.55 }, // unsure: weight 0.1 × 100
        { points: lying, flipped: false, score: 0.95 },
      ]).angle,
    ).to.equal(0);
  });

  it('merges overlapping pieces of one line, not neighbouring lines', () => {
    const rect = (cx: number, cy: number, width: number, height: number) => ({
      rect: { cx, cy, width, height, angle: 0 },
      score: 0.8,
    });
    const merged = mergePieces([rect(50, 20, 100, 20), rect(110, 22, 40, 12), rect(50, 60, 100, 20)]);
    expect(merged).to.have.length(2);
    expect(merged[0]!.rect.width).to.be.closeTo(130, 1e-6);
    expect(mergePieces([rect(50, 20, 100, 20), rect(200, 20, 40, 20)])).to.have.length(2); // 80 px apart: two columns
  });
});
