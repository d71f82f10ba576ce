/**
 * npm run bench:ocr — our OCR functions and Tesseract side by side on the same seeded images.
 *
 * Set-up: bin/install-bench-deps (ImageMagick, tesseract-ocr + English, DejaVu and Liberation
 * fonts; installs only what is missing) runs first. bench/lib/ocr-set.ts then renders the set:
 * text lines and pages of 4–8 lines, clean, degraded (blur, noise, JPEG q30–45, skew 0.8–2°),
 * skewed (±0.5–3°) and rotated (90/180/270°).
 *
 * Engines, both on one thread with their models loaded once:
 * - ours (bench/lib/ocr-ours.ts): the handlers' own open(ctx) in this process, requests one after
 *   another (c = 1): `ocr-recognize` for upright lines, `ocr` for pages and rotated lines;
 * - Tesseract (bench/lib/ocr-tesseract.ts): batch mode, one process per set reading a list file
 *   (OMP_THREAD_LIMIT=1): `--psm 7` for upright lines, `--psm 3` for upright pages, `--psm 1`
 *   (with its orientation detection) for rotated lines and pages. Its start-up (≈ model load) is
 *   measured apart and is inside its lines/s, once per set.
 * Per set: exact lines, CER in reading order (bench/lib/ocr-score.ts), lines/s (truth lines over
 * the set's wall time). The machine is shared, so every set runs BENCH_OCR_ROUNDS times (default
 * 2) with the engines alternating which goes first, and each engine's fastest round counts.
 *
 * Then the effect of each preprocessing choice (bench/lib/ocr-ablation.ts): ocr-recognize with one
 * choice changed at a time on the upright lines, and the pipeline with and without cutting lines
 * to their ink on the degraded and skewed pages.
 *
 * Writes bench/results/ocr.md and ends with `RESULT {json}`.
 *   BENCH_SEED      seed of the set (default 17)
 *   BENCH_OCR_SCALE multiplies every set's size (default 1: 140 lines, 27 pages)
 *   BENCH_OCR_ONLY  comma-separated sets to run, e.g. "lines-degraded,pages-skewed" (default all)
 *   BENCH_OCR_KEEP  a folder to render into and keep (default: a temporary folder, removed)
 *   BENCH_OCR_ROUNDS  timing rounds per set (default 2)
 *   BENCH_OCR_ABLATION=0  skips the preprocessing comparison
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { PLATFORM_ROOT } from '../core/version.ts';
import { DEFAULT_SIZES, generateSets, type SampleSet, type SetSizes } from './lib/ocr-set.ts';
import { openOcr, openRecognize, type OursService } from './lib/ocr-ours.ts';
import { addScores, normaliseLines, scoreSample, type Score } from './lib/ocr-score.ts';
import { runTesseract, tesseractVersion, type Psm } from './lib/ocr-tesseract.ts';
import { pipelineAblation, recognizerAblation, type AblationRow } from './lib/ocr-ablation.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';

const SEED = Number(process.env.BENCH_SEED ?? 17);
const SCALE = Number(process.env.BENCH_OCR_SCALE ?? 1);
if (!Number.isInteger(SEED)) throw new Error(`BENCH_SEED must be a whole number, got "${process.env.BENCH_SEED}"`);
if (!(SCALE > 0)) throw new Error(`BENCH_OCR_SCALE must be a number above 0, got "${process.env.BENCH_OCR_SCALE}"`);
const ONLY = process.env.BENCH_OCR_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const ABLATION = process.env.BENCH_OCR_ABLATION !== '0';
const ROUNDS = Number(process.env.BENCH_OCR_ROUNDS ?? 2);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new Error(`BENCH_OCR_ROUNDS must be a whole number from 1, got "${process.env.BENCH_OCR_ROUNDS}"`);

interface EngineResult {
  engine: string;
  score: Score;
  ms: number;
  /** Wrong lines (output vs truth), a few per set, for the results file. */
  misses: { want: string; got: string }[];
}

interface SetResult {
  set: string;
  key: string;
  images: number;
  ours: EngineResult;
  tesseract: EngineResult;
}

const key = (s: SampleSet) => `${s.kind}s-${s.condition}`;

function psmFor(s: SampleSet): Psm {
  if (s.condition === 'rotated') return 1;
  return s.kind === 'line' ? 7 : 3;
}

function misses(out: string, truth: readonly string[], into: { want: string; got: string }[], max = 6): void {
  if (into.length >= max) return;
  const got = normaliseLines(out);
  const want = truth.map((t) => t.replace(/\s+/g, ' ').trim());
  if (got.join('\n') === want.join('\n')) return;
  into.push({ want: want.join(' / '), got: got.join(' / ') });
}

async function runOurs(service: OursService, set: SampleSet): Promise<EngineResult> {
  const bodies = await Promise.all(set.samples.map((s) => readFile(s.file)));
  const outs: string[] = [];
  const start = performance.now();
  for (const [i, body] of bodies.entries())
    outs.push(await service.read(body, set.samples[i]!.file.endsWith('.jpg') ? 'image/jpeg' : 'image/png'));
  const ms = performance.now() - start;
  const found: EngineResult['misses'] = [];
  const scores = set.samples.map((s, i) => {
    misses(outs[i]!, s.lines, found);
    return scoreSample(outs[i]!, s.lines);
  });
  return { engine: service.name, score: addScores(scores), ms, misses: found };
}

async function runTess(set: SampleSet, dir: string): Promise<EngineResult> {
  const psm = psmFor(set);
  const r = await runTesseract(
    set.samples.map((s) => s.file),
    psm,
    dir,
    key(set),
  );
  const found: EngineResult['misses'] = [];
  const scores = set.samples.map((s, i) => {
    misses(r.texts[i]!, s.lines, found);
    return scoreSample(r.texts[i]!, s.lines);
  });
  return { engine: `tesseract --psm ${psm}`, score: addScores(scores), ms: r.ms, misses: found };
}

const pct = (n: number, d: number) => (d === 0 ? 0 : (100 * n) / d);
const exactPct = (r: EngineResult) => pct(r.score.exact, r.score.lines);
const cerPct = (r: EngineResult) => pct(r.score.errors, r.score.chars);
const linesPerS = (r: EngineResult) => r.score.lines / (r.ms / 1000);

async function main(): Promise<void> {
  await promisify(execFile)(join(PLATFORM_ROOT, 'bin', 'install-bench-deps'), [], { maxBuffer: 1 << 20 }).catch(
    (err: Error & { stderr?: string }) => {
      throw new Error(`bin/install-bench-deps failed (run it as root): ${err.stderr ?? err.message}`);
    },
  );
  sharp.concurrency(1); // one thread for our image work too, like Tesseract
  const dir = process.env.BENCH_OCR_KEEP ?? (await mkdtemp(join(tmpdir(), 'bench-ocr-')));
  await mkdir(dir, { recursive: true });
  const sizes: SetSizes = {
    lines: Object.fromEntries(
      Object.entries(DEFAULT_SIZES.lines).map(([k, v]) => [k, Math.max(1, Math.round(v * SCALE))]),
    ) as SetSizes['lines'],
    pages: Object.fromEntries(
      Object.entries(DEFAULT_SIZES.pages).map(([k, v]) => [k, Math.max(1, Math.round(v * SCALE))]),
    ) as SetSizes['pages'],
  };
  try {
    const genStart = performance.now();
    const sets = (await generateSets(dir, SEED, sizes)).filter((s) => !ONLY || ONLY.includes(key(s)));
    const genMs = performance.now() - genStart;
    const version = await tesseractVersion();
    // Tesseract's start-up: the model loaded for an image with nothing on it
    const blank = join(dir, 'blank.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ffffff' } })
      .png()
      .toFile(blank);
    await runTesseract([blank], 7, dir, 'warm');
    const startupMs = (await runTesseract([blank], 7, dir, 'startup')).ms;
    const openStart = performance.now();
    const recognize = await openRecognize();
    const ocr = await openOcr();
    const openMs = performance.now() - openStart;
    const results: SetResult[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, set] of sets.entries()) {
          const service = set.kind === 'line' && set.condition !== 'rotated' ? recognize : ocr;
          const oursFirst = (i + round) % 2 === 0;
          const tesseract = oursFirst ? undefined : await runTess(set, dir);
          const ours = await runOurs(service, set);
          const tess = tesseract ?? (await runTess(set, dir));
          const r = results[i];
          if (!r) {
            results.push({ set: set.name, key: key(set), images: set.samples.length, ours, tesseract: tess });
            process.stderr.write(
              `${set.name}: ours ${exactPct(ours).toFixed(1)} % exact, tesseract ${exactPct(tess).toFixed(1)} %\n`,
            );
            continue;
          }
          // the same answers every round (both engines are deterministic); the fastest round counts
          r.ours.ms = Math.min(r.ours.ms, ours.ms);
          r.tesseract.ms = Math.min(r.tesseract.ms, tess.ms);
        }
      }
    } finally {
      await recognize.close();
      await ocr.close();
    }
    let ablation: { lines: AblationRow[]; pages: AblationRow[] } | undefined;
    if (ABLATION) {
      const upright = sets.filter((s) => s.kind === 'line' && s.condition !== 'rotated');
      const pages = sets.filter((s) => s.kind === 'page' && (s.condition === 'degraded' || s.condition === 'skewed'));
      ablation = {
        lines: upright.length ? await recognizerAblation(upright) : [],
        pages: pages.length ? await pipelineAblation(pages) : [],
      };
    }
    await report(results, ablation, { version, startupMs, openMs, genMs, sizes });
  } finally {
    if (!process.env.BENCH_OCR_KEEP) await rm(dir, { recursive: true, force: true });
  }
}

async function report(
  results: SetResult[],
  ablation: { lines: AblationRow[]; pages: AblationRow[] } | undefined,
  info: { version: string; startupMs: number; openMs: number; genMs: number; sizes: SetSizes },
): Promise<void> {
  const lineRows = results.filter((r) => r.key.startsWith('lines-') && r.key !== 'lines-rotated');
  const total = (pick: (r: SetResult) => EngineResult) => ({
    lines: lineRows.reduce((a, r) => a + pick(r).score.lines, 0),
    ms: lineRows.reduce((a, r) => a + pick(r).ms, 0),
  });
  const oursLines = total((r) => r.ours);
  const tessLines = total((r) => r.tesseract);
  const oursLps = oursLines.lines / (oursLines.ms / 1000);
  const tessLps = tessLines.lines / (tessLines.ms / 1000);
  const rowMet = (r: SetResult) => exactPct(r.ours) >= exactPct(r.tesseract) && cerPct(r.ours) <= cerPct(r.tesseract);
  const rows = results.map((r) => [
    r.set,
    `${r.images} / ${r.ours.score.lines}`,
    `${r.ours.engine} · ${r.tesseract.engine.replace('tesseract ', '')}`,
    `${exactPct(r.ours).toFixed(1)} %`,
    `${exactPct(r.tesseract).toFixed(1)} %`,
    `${cerPct(r.ours).toFixed(2)} %`,
    `${cerPct(r.tesseract).toFixed(2)} %`,
    linesPerS(r.ours).toFixed(1),
    linesPerS(r.tesseract).toFixed(1),
    rowMet(r) ? 'yes' : 'no',
  ]);
  const allMet = results.every(rowMet) && oursLps >= tessLps;
  const missText = results
    .filter((r) => r.ours.misses.length + r.tesseract.misses.length > 0)
    .map((r) =>
      [
        `**${r.set}**`,
        ...r.ours.misses.map((m) => `- ours: \`${m.got}\` (want \`${m.want}\`)`),
        ...r.tesseract.misses.map((m) => `- tesseract: \`${m.got}\` (want \`${m.want}\`)`),
      ].join('\n'),
    )
    .join('\n\n');
  const text = [
    `# OCR: ours vs Tesseract (npm run bench:ocr)`,
    ``,
    `Seed ${SEED}, ${results.reduce((a, r) => a + r.images, 0)} images rendered by ImageMagick (DejaVu Sans, DejaVu Serif, Liberation Mono, 20–40 px) in ${(info.genMs / 1000).toFixed(1)} s. ` +
      `Ours: the functions' own code in-process, onnxruntime-node on 1 intra-op thread, c = 1, models loaded once (${(info.openMs / 1000).toFixed(1)} s with warm-up). ` +
      `${info.version}, English model, 1 thread (OMP_THREAD_LIMIT=1), batch mode: one process per set; its start-up (${info.startupMs.toFixed(0)} ms) is included once per set. ` +
      `lines/s: the faster of ${ROUNDS} rounds per engine and set, engines alternating which goes first.`,
    ``,
    markdownTable(
      [
        'set',
        'images / lines',
        'ours · Tesseract',
        'exact ours',
        'exact Tess.',
        'CER ours',
        'CER Tess.',
        'lines/s ours',
        'lines/s Tess.',
        'ours ≥ Tess.',
      ],
      rows,
    ),
    ``,
    `Upright lines (clean, degraded, skewed together): ours ${oursLps.toFixed(1)} lines/s, Tesseract ${tessLps.toFixed(1)} lines/s. ` +
      `Whitespace faults in ours' raw output (leading/trailing or doubled spaces): ${results.reduce((a, r) => a + r.ours.score.whitespaceFaults, 0)} lines.`,
    ``,
    `Target (issue 17): ours ≥ Tesseract on every row (exact lines and CER) and on upright-line throughput: **${allMet ? 'met' : 'not met'}**.`,
    ``,
    `Exact lines: truth lines matched in order by an identical output line (spaces collapsed, ends trimmed). CER: edit distance of the whole output against the truth, lines in reading order.`,
    ``,
    ...(ablation ? ablationText(ablation) : []),
    `## Misses (up to 6 per engine and set)`,
    ``,
    missText || 'none',
  ].join('\n');
  await writeResult('ocr', text);
  printResultLine({
    bench: 'ocr',
    seed: SEED,
    rounds: ROUNDS,
    sizes: info.sizes,
    tesseract: { version: info.version, startupMs: Math.round(info.startupMs) },
    sets: results.map((r) => ({
      set: r.key,
      images: r.images,
      lines: r.ours.score.lines,
      ours: {
        engine: r.ours.engine,
        exactPct: round(exactPct(r.ours)),
        cerPct: round(cerPct(r.ours)),
        linesPerS: round(linesPerS(r.ours)),
        whitespaceFaults: r.ours.score.whitespaceFaults,
      },
      tesseract: {
        engine: r.tesseract.engine,
        exactPct: round(exactPct(r.tesseract)),
        cerPct: round(cerPct(r.tesseract)),
        linesPerS: round(linesPerS(r.tesseract)),
      },
    })),
    uprightLinesPerS: { ours: round(oursLps), tesseract: round(tessLps) },
    ...(ablation
      ? {
          ablation: Object.fromEntries(
            Object.entries(ablation).map(([k, rows]) => [
              k,
              rows.map((r) => ({
                variant: r.variant,
                exactPct: round(pct(r.score.exact, r.score.lines)),
                cerPct: round(pct(r.score.errors, r.score.chars)),
                linesPerS: round(r.score.lines / (r.ms / 1000)),
              })),
            ]),
          ),
        }
      : {}),
    targetMet: allMet,
  });
}

const round = (n: number) => Math.round(n * 100) / 100;

function ablationText(a: { lines: AblationRow[]; pages: AblationRow[] }): string[] {
  const table = (rows: AblationRow[]) =>
    markdownTable(
      ['variant', 'what changes', 'exact', 'CER', 'lines/s'],
      rows.map((r) => [
        r.variant,
        r.what,
        `${pct(r.score.exact, r.score.lines).toFixed(1)} %`,
        `${pct(r.score.errors, r.score.chars).toFixed(2)} %`,
        (r.score.lines / (r.ms / 1000)).toFixed(1),
      ]),
    );
  return [
    `## Preprocessing, one choice at a time`,
    ``,
    `ocr-recognize on the upright lines (clean, degraded, skewed; ${a.lines[0]?.score.lines ?? 0} lines; lines/s counts the calls only):`,
    ``,
    table(a.lines),
    ``,
    `ocr on the degraded and skewed pages (${a.pages[0]?.score.lines ?? 0} lines):`,
    ``,
    table(a.pages),
    ``,
  ];
}

await main();
