/**
 * Tesseract (Debian's tesseract-ocr 5, English model) as the baseline of `npm run bench:ocr`, in
 * batch mode: one process reads a whole set from a list file and writes every image's text to
 * stdout, a form feed between images, so the model is loaded once per set (as ours is), not once
 * per image. One thread (OMP_THREAD_LIMIT=1), like our single intra-op thread. Its start-up (load
 * the model, read a one-pixel-high image) is measured on its own so that it can be set apart.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TesseractRun {
  /** Raw text per image, in the list's order. */
  texts: string[];
  ms: number;
}

/**
 * Page segmentation modes used: 7 = one text line, 3 = automatic page (no orientation), 1 = automatic with orientation
 * and script detection.
 */
export type Psm = 1 | 3 | 7;

export async function tesseractVersion(): Promise<string> {
  const { stdout, stderr } = await run('tesseract', ['--version']);
  return (stdout || stderr).split('\n')[0]!.trim();
}

export async function runTesseract(
  files: readonly string[],
  psm: Psm,
  workDir: string,
  tag: string,
): Promise<TesseractRun> {
  const list = join(workDir, `tesseract-${tag}.txt`);
  await writeFile(list, files.join('\n') + '\n');
  const start = performance.now();
  const { stdout } = await run('tesseract', [list, 'stdout', '-l', 'eng', '--psm', String(psm)], {
    env: { ...process.env, OMP_THREAD_LIMIT: '1' },
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - start;
  const texts = stdout.split('\f');
  // the separator follows every image but the last; an empty last part means a trailing one
  if (texts.length === files.length + 1 && texts[files.length]!.trim() === '') texts.pop();
  if (texts.length !== files.length)
    throw new Error(`tesseract gave ${texts.length} texts for ${files.length} images (psm ${psm})`);
  return { texts, ms };
}
