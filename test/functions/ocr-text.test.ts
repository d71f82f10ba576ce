import { expect } from 'chai';
import { ctcDecode } from '../../functions/ocr-recognize/ctc.ts';
import { inkBox } from '../../functions/ocr-recognize/ink-box.ts';
import { otsuThreshold } from '../../functions/ocr-recognize/ink-mask.ts';
import { fixLetterDigits } from '../../functions/ocr-recognize/letter-digit.ts';
import { fixLetterCase } from '../../functions/ocr-recognize/letter-case.ts';
import { lineWindows } from '../../functions/text-direction/index.ts';
import { plainText } from '../../functions/ocr-recognize/plain-text.ts';
import type { RgbImage } from '../../templates/onnx-node/runtime/image.ts';

/** A probability tensor from per-step rows of [class, p] (the rest of each step is blank). */
function steps(chars: readonly string[], rows: [string, number, number?][]): Float32Array {
  const C = chars.length;
  const out = new Float32Array(rows.length * C);
  rows.forEach(([c, p, space = 0], t) => {
    const k = c === '_' ? 0 : chars.indexOf(c);
    out[t * C + k] = p;
    out[t * C + C - 1] += space;
    out[t * C] += 1 - p - (k === C - 1 ? 0 : space);
  });
  return out;
}

describe('functions/ocr-recognize text', () => {
  const chars = ['', 'a', 'b', '.', '(', ' '];
  const decode = (rows: [string, number, number?][], spaceThreshold = 0.05) =>
    ctcDecode(steps(chars, rows), [1, rows.length, chars.length], 0, chars, { spaceThreshold }).text;

  it('keeps a word gap whose space probability peaks at the threshold, not a gap inside a word', () => {
    const rows: [string, number, number?][] = [
      ['a', 0.9],
      ['_', 0.8, 0.01], // inside a word: no space
      ['b', 0.9],
      ['_', 0.7, 0.2], // a word gap the space lost
      ['_', 0.9, 0.06],
      ['a', 0.9],
    ];
    expect(decode(rows)).to.equal('ab a');
    expect(decode(rows, 1)).to.equal('aba'); // argmax only
    expect(decode(rows, 0.25)).to.equal('aba');
  });

  it('never starts or ends with a space, never doubles one, and adds none before closing punctuation', () => {
    expect(
      decode([
        [' ', 0.9],
        ['a', 0.9],
        [' ', 0.9],
        ['_', 0.9],
        [' ', 0.9],
        ['b', 0.9],
        [' ', 0.9],
      ]),
    ).to.equal('a b');
    expect(
      decode([
        ['a', 0.9],
        ['_', 0.7, 0.3],
        ['.', 0.9],
        ['_', 0.7, 0.3],
        ['(', 0.9],
        ['_', 0.7, 0.3],
        ['b', 0.9],
      ]),
    ).to.equal('a. (b');
    // a space the model itself chose stays, even before punctuation
    expect(
      decode([
        ['a', 0.9],
        [' ', 0.9],
        ['.', 0.9],
      ]),
    ).to.equal('a .');
  });

  it('writes full-width punctuation of Latin lines as ASCII, and leaves CJK lines as read', () => {
    expect(plainText('Paid（in full）！ 100％')).to.equal('Paid(in full)! 100%');
    expect(plainText('合计：100元')).to.equal('合计：100元');
    expect(plainText('plain text, already.')).to.equal('plain text, already.');
  });

  it('reads a 0 or 1 inside a word of letters as the letter, and leaves numbers and codes alone', () => {
    expect(fixLetterDigits('0ctober 0slo sma1l H0USE c0st')).to.equal('October Oslo small HOUSE cost');
    expect(fixLetterDigits('10 1st 0x1F file1 A1 2024 B2B 101 v0')).to.equal('10 1st 0x1F file1 A1 2024 B2B 101 v0');
  });

  it('Otsu splits a two-level histogram between the levels', () => {
    const h = new Array<number>(256).fill(0);
    h[20] = 100;
    h[230] = 900;
    const t = otsuThreshold(h);
    expect(t).to.be.at.least(20).and.below(230);
  });

  it('finds the ink box of a dark line (light on dark too), ignoring specks and ink outside the band', () => {
    const W = 120;
    const H = 40;
    const image = (ink: number, paper: number): RgbImage => {
      const px = Buffer.alloc(W * H * 3, paper);
      const dot = (x: number, y: number) => px.fill(ink, (y * W + x) * 3, (y * W + x) * 3 + 3);
      for (let y = 15; y < 25; y++) for (let x = 20; x < 100; x++) if (x % 10 < 7) dot(x, y); // the "text"
      dot(3, 3); // a speck
      for (let x = 40; x < 60; x++) dot(x, 1); // a neighbour's descenders at the top
      return { width: W, height: H, pixels: px };
    };
    for (const [ink, paper] of [
      [0, 255],
      [250, 10],
    ]) {
      const banded = inkBox(image(ink!, paper!), { minShare: 0.002, maxAngle: 8, band: [12, 28] })!;
      expect(banded.angle).to.equal(0);
      // bars from x = 20 to 97, rows 15–24
      expect([banded.cx, banded.cy, banded.width, banded.height]).to.deep.equal([58.5, 20, 77, 10]);
      const all = inkBox(image(ink!, paper!))!;
      expect(all.height).to.be.greaterThan(20); // without the band the neighbour's ink counts
    }
    expect(inkBox({ width: 10, height: 10, pixels: Buffer.alloc(300, 255) })).to.equal(undefined);
  });

  it('keeps the character spans of CTC decoding (a space has none)', () => {
    const r = ctcDecode(
      steps(chars, [
        ['a', 0.9],
        ['a', 0.9],
        ['_', 0.9],
        [' ', 0.9],
        ['b', 0.9],
      ]),
      [1, 5, chars.length],
      0,
      chars,
    );
    expect(r.text).to.equal('a b');
    expect(r.spans).to.deep.equal([
      [0, 1],
      [-1, -1],
      [4, 4],
    ]);
  });

  it("sets c o s v w x z capital or small by their height against the line's x-height and capitals", () => {
    // one "letter" per 16 columns: a box 12 wide, as tall as the letter; CTC step 2i+1 reads letter i
    const line = (heights: number[]): RgbImage => {
      const W = 16 * heights.length + 8;
      const H = 30;
      const px = Buffer.alloc(W * H * 3, 255);
      heights.forEach((h, i) => {
        for (let y = 24 - h; y < 24; y++) px.fill(0, (y * W + 16 * i + 6) * 3, (y * W + 16 * i + 18) * 3);
      });
      return { width: W, height: H, pixels: px };
    };
    const spans = (n: number) => Array.from({ length: n }, (_, i): [number, number] => [2 * i + 1, 2 * i + 1]);
    const fix = (text: string, heights: number[]) => {
      const image = line(heights);
      return fixLetterCase(text, spans(text.length), image, image.width);
    };
    // T and the digits are 14 high, n and a 10: a 14-high o is a capital, a 10-high O a small one
    expect(fix('Tonao', [14, 14, 10, 10, 10])).to.equal('TOnao');
    expect(fix('nOnax7', [10, 10, 10, 10, 14, 14])).to.equal('nonaX7');
    // other letters stay as read; too little difference between the references changes nothing
    expect(fix('Tnan', [14, 10, 14, 10])).to.equal('Tnan');
    expect(fix('Tono', [11, 11, 10, 10])).to.equal('Tono');
    // a height between the two is left to the model
    expect(fix('Tnon', [14, 10, 12, 10])).to.equal('Tnon');
  });

  it("reads a long line in windows of the direction classifier's shape, a short one whole", () => {
    const image = (width: number, height: number): RgbImage => {
      const px = Buffer.alloc(width * height * 3);
      for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) px[(y * width + x) * 3] = x % 256;
      return { width, height, pixels: px };
    };
    expect(lineWindows(image(200, 48))).to.have.length(1);
    const windows = lineWindows(image(1000, 48));
    expect(windows.map((w) => [w.width, w.height])).to.deep.equal([
      [192, 48],
      [192, 48],
      [192, 48],
    ]);
    // evenly spread: the first starts at column 0, the last ends at column 999
    expect(windows[0]!.pixels[0]).to.equal(0);
    expect(windows[2]!.pixels[191 * 3]).to.equal(999 % 256);
    expect(windows[1]!.pixels[0]).to.equal(404 % 256);
  });
});
