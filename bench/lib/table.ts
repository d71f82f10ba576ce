/**
 * What every benchmark ends with: its table (core/text/markdown-table.ts, re-exported so that a
 * benchmark imports its output helpers from one place), the file in bench/results/ and the
 * `RESULT {json}` line.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PLATFORM_ROOT } from '../../core/version.ts';

export { formatNumber, markdownTable } from '../../core/text/markdown-table.ts';

/** Writes `bench/results/<name>.md` and prints the same text. */
export async function writeResult(name: string, text: string): Promise<string> {
  const file = join(PLATFORM_ROOT, 'bench', 'results', `${name}.md`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text.endsWith('\n') ? text : text + '\n');
  process.stdout.write(text + '\n');
  return file;
}

export function printResultLine(result: Record<string, unknown>): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
