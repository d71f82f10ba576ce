/**
 * The seeded OCR test set of `npm run bench:ocr`: text lines and pages rendered by ImageMagick in
 * DejaVu Sans, DejaVu Serif and Liberation Mono at 20–40 px, clean, degraded (blur, Gaussian noise,
 * JPEG q30–45, skew 0.8–2°), skewed (±0.5–3°) and rotated (90/180/270°). The same seed gives the
 * same texts and the same ImageMagick commands; the files go to a folder the caller owns.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRng, type Rng } from '../../scheduler/sim/rng.ts';

const run = promisify(execFile);

export type SetKind = 'line' | 'page';
export type Condition = 'clean' | 'degraded' | 'skewed' | 'rotated';

export interface Sample {
  file: string;
  /** The text lines, top to bottom as a reader sees them upright. */
  lines: string[];
  /** How far the rendering was turned, degrees clockwise (skew or rotation; 0 when upright). */
  angle: number;
  font: string;
  px: number;
}

export interface SampleSet {
  name: string;
  kind: SetKind;
  condition: Condition;
  samples: Sample[];
}

export interface SetSizes {
  lines: Record<Condition, number>;
  pages: Record<Condition, number>;
}

/** Small enough for a few minutes on two busy cores with both engines. */
export const DEFAULT_SIZES: SetSizes = {
  lines: { clean: 40, degraded: 40, skewed: 30, rotated: 30 },
  pages: { clean: 6, degraded: 6, skewed: 6, rotated: 9 },
};

/** Font families (Debian: fonts-dejavu-core, fonts-liberation), resolved to files with fc-match. */
export const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'Liberation Mono'] as const;

/** Plain English words, names, units and numbers; lines are drawn from these. */
const WORDS = (
  'the of and to in is for on with as by at from this that be are was will can not or all new more one two ' +
  'time year day week month report order account invoice total amount paid due date number page section table ' +
  'figure line text model device share token replica function request answer service system node cluster memory ' +
  'window batch queue price cost plan tenant policy result value error status update review draft final copy ' +
  'street road house office bank transfer payment customer address phone email note please thank you sincerely ' +
  'meeting agenda minutes project budget quarter sales revenue growth market product item quantity unit weight ' +
  'north south east west city river station train ticket morning evening summer winter green black white blue ' +
  'quick brown fox jumps over lazy dog light heavy small large first second third last next open closed ' +
  'London Paris Berlin Munich Vienna Madrid Oslo Tokyo Sydney Monday Friday March April October December ' +
  'Alice Bob Carol David Emma Frank Grace Henry Ines Jonas Karl Laura Mike Nina Oscar Paula'
).split(' ');

const PUNCT_AFTER = [',', '.', ':', ';', '?', '!'];

export function makeLine(rng: Rng, minWords = 2, maxWords = 7): string {
  const n = minWords + Math.floor(rng.next() * (maxWords - minWords + 1));
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    let w: string;
    if (r < 0.12) w = String(Math.floor(rng.between(1, 10000)));
    else if (r < 0.17)
      w = `${Math.floor(rng.between(1, 999))}.${String(Math.floor(rng.between(0, 100))).padStart(2, '0')}`;
    else if (r < 0.2)
      w = `${String(Math.floor(rng.between(1, 29))).padStart(2, '0')}/${String(Math.floor(rng.between(1, 13))).padStart(2, '0')}/20${Math.floor(rng.between(10, 30))}`;
    else if (r < 0.22) w = `(${pick(rng, WORDS)})`;
    else if (r < 0.24) w = `${Math.floor(rng.between(1, 100))}%`;
    else if (r < 0.26) w = `$${Math.floor(rng.between(1, 500))}`;
    else w = pick(rng, WORDS);
    if (i === 0 && rng.next() < 0.5) w = w[0].toUpperCase() + w.slice(1);
    if (i < n - 1 && rng.next() < 0.08) w += pick(rng, PUNCT_AFTER.slice(0, 3));
    words.push(w);
  }
  let line = words.join(' ');
  if (rng.next() < 0.25) line += pick(rng, PUNCT_AFTER);
  return line;
}

/** ImageMagick's label: text with its one escape (%% for %); no line starts with @ (a file name to it). */
function label(text: string): string {
  return `label:${text.replace(/%/g, '%%')}`;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)]!;
}

/** Resolves the font families to their files; throws when one is missing (run bin/install-bench-deps). */
export async function fontFiles(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const family of FONTS) {
    const { stdout } = await run('fc-match', ['-f', '%{family}\t%{file}', family]);
    const [found, file] = stdout.split('\t');
    if (!found?.split(',').includes(family) || !file)
      throw new Error(`font "${family}" is not installed (fc-match gives "${found}"): run bin/install-bench-deps`);
    out[family] = file;
  }
  return out;
}

/** ImageMagick's convert: the degradations of a "degraded" sample, after rendering. */
function degradeArgs(rng: Rng, seed: number): { args: string[]; angle: number; ext: string } {
  const angle = sign(rng) * rng.between(0.8, 2);
  const sigma = rng.between(0.5, 1.1);
  const noise = rng.between(0.4, 1.0);
  const quality = Math.round(rng.between(30, 45));
  return {
    args: [
      '-background',
      'white',
      '-rotate',
      angle.toFixed(2),
      '+repage',
      '-blur',
      `0x${sigma.toFixed(2)}`,
      '-seed',
      String(seed),
      '-attenuate',
      noise.toFixed(2),
      '+noise',
      'Gaussian',
      '-quality',
      String(quality),
    ],
    angle,
    ext: 'jpg',
  };
}

function sign(rng: Rng): number {
  return rng.next() < 0.5 ? -1 : 1;
}

function conditionArgs(
  condition: Condition,
  rng: Rng,
  seed: number,
  index: number,
): { args: string[]; angle: number; ext: string } {
  switch (condition) {
    case 'clean':
      return { args: [], angle: 0, ext: 'png' };
    case 'degraded':
      return degradeArgs(rng, seed);
    case 'skewed': {
      const angle = sign(rng) * rng.between(0.5, 3);
      return { args: ['-background', 'white', '-rotate', angle.toFixed(2), '+repage'], angle, ext: 'png' };
    }
    case 'rotated': {
      const angle = [90, 180, 270][index % 3]!;
      return { args: ['-rotate', String(angle), '+repage'], angle, ext: 'png' };
    }
  }
}

async function convert(args: string[]): Promise<void> {
  await run('convert', args, { maxBuffer: 1 << 20 });
}

/** Renders every set into `dir`. Deterministic for a seed (texts, sizes, fonts, angles, noise). */
export async function generateSets(dir: string, seed: number, sizes: SetSizes = DEFAULT_SIZES): Promise<SampleSet[]> {
  const fonts = await fontFiles();
  const sets: SampleSet[] = [];
  const conditions: Condition[] = ['clean', 'degraded', 'skewed', 'rotated'];
  for (const kind of ['line', 'page'] as const) {
    for (const [ci, condition] of conditions.entries()) {
      const rng = createRng(seed * 131 + (kind === 'line' ? 0 : 50) + ci);
      const n = (kind === 'line' ? sizes.lines : sizes.pages)[condition];
      const jobs: Promise<Sample>[] = [];
      for (let i = 0; i < n; i++) {
        const family = FONTS[i % FONTS.length]!;
        const px = Math.round(rng.between(20, 40));
        const texts =
          kind === 'line'
            ? [makeLine(rng)]
            : Array.from({ length: 4 + Math.floor(rng.next() * 5) }, () => makeLine(rng, 2, 8));
        const layout = kind === 'line' ? lineLayout(rng) : pageLayout(rng, texts.length, px);
        const cond = conditionArgs(condition, rng, seed * 1000 + ci * 100 + i, i);
        const file = join(dir, `${kind}-${condition}-${String(i).padStart(3, '0')}.${cond.ext}`);
        const render =
          kind === 'line'
            ? renderLineArgs(fonts[family]!, px, texts[0]!, layout)
            : renderPageArgs(fonts[family]!, px, texts, layout);
        jobs.push(
          convert([...render, ...cond.args, '-depth', '8', file]).then(() => ({
            file,
            lines: texts,
            angle: cond.angle,
            font: family,
            px,
          })),
        );
        // two convert processes at a time: the machine is shared
        if (jobs.length % 2 === 0) await Promise.all(jobs.slice(-2));
      }
      sets.push({ name: `${kind}s, ${condition}`, kind, condition, samples: await Promise.all(jobs) });
    }
  }
  await writeFile(join(dir, 'truth.json'), JSON.stringify(sets, null, 1));
  return sets;
}

interface Layout {
  margin: [number, number];
  /** Per line: left indent and the gap above it (pages). */
  lines: { indent: number; gap: number }[];
}

function lineLayout(rng: Rng): Layout {
  return { margin: [Math.round(rng.between(4, 16)), Math.round(rng.between(3, 12))], lines: [{ indent: 0, gap: 0 }] };
}

function pageLayout(rng: Rng, count: number, px: number): Layout {
  const margin = Math.round(rng.between(20, 50));
  return {
    margin: [margin, margin],
    lines: Array.from({ length: count }, (_, i) => ({
      indent: rng.next() < 0.3 ? Math.round(rng.between(10, 60)) : 0,
      gap: i === 0 ? 0 : Math.round(px * rng.between(0.3, 0.9)),
    })),
  };
}

function renderLineArgs(font: string, px: number, text: string, layout: Layout): string[] {
  return [
    '-background',
    'white',
    '-fill',
    'black',
    '-font',
    font,
    '-pointsize',
    String(px),
    label(text),
    '-bordercolor',
    'white',
    '-border',
    `${layout.margin[0]}x${layout.margin[1]}`,
    '+repage',
  ];
}

function renderPageArgs(font: string, px: number, texts: string[], layout: Layout): string[] {
  const args = ['-background', 'white', '-fill', 'black', '-font', font, '-pointsize', String(px)];
  texts.forEach((t, i) =>
    args.push('(', label(t), '-splice', `${layout.lines[i]!.indent}x${layout.lines[i]!.gap}`, ')'),
  );
  return [...args, '-append', '-bordercolor', 'white', '-border', `${layout.margin[0]}x${layout.margin[1]}`, '+repage'];
}
