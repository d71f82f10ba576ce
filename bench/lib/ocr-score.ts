/**
 * Scoring for `npm run bench:ocr`, the same for both engines. Text is compared after trimming each
 * line and collapsing runs of spaces to one (so a line's leading or trailing space, or a doubled
 * space, costs nothing here: `whitespaceFaults` counts those separately). Empty lines are dropped.
 * - exact lines: truth lines matched by an identical output line, in order (longest common
 *   subsequence of lines), so a lost or merged line costs that line, not the rest of the page;
 * - CER: edit distance between the output and the truth, lines joined with "\n" in reading order,
 *   divided by the truth's length (a page read backwards scores badly even if every line is right).
 */

export function normaliseLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '');
}

/** Lines of raw output with a leading or trailing space, or two spaces in a row. */
export function whitespaceFaults(rawLines: readonly string[]): number {
  return rawLines.filter((l) => l !== '' && (/^\s|\s$/.test(l) || / {2}/.test(l))).length;
}

/** Levenshtein distance by code point. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[y.length]!;
}

/** Number of truth lines matched, in order, by identical output lines. */
export function exactLines(output: readonly string[], truth: readonly string[]): number {
  let prev = new Array<number>(truth.length + 1).fill(0);
  for (let i = 1; i <= output.length; i++) {
    const row = [0];
    for (let j = 1; j <= truth.length; j++)
      row[j] = output[i - 1] === truth[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    prev = row;
  }
  return prev[truth.length]!;
}

export interface Score {
  lines: number;
  exact: number;
  /** Σ edit distance and Σ truth characters (CER = errors / chars). */
  errors: number;
  chars: number;
  whitespaceFaults: number;
}

export function scoreSample(rawOutput: string, truth: readonly string[]): Score {
  const out = normaliseLines(rawOutput);
  const want = truth.map((t) => t.replace(/\s+/g, ' ').trim());
  const joined = want.join('\n');
  return {
    lines: want.length,
    exact: exactLines(out, want),
    errors: editDistance(out.join('\n'), joined),
    chars: [...joined].length,
    whitespaceFaults: whitespaceFaults(rawOutput.split('\n')),
  };
}

export function addScores(scores: readonly Score[]): Score {
  return scores.reduce(
    (a, s) => ({
      lines: a.lines + s.lines,
      exact: a.exact + s.exact,
      errors: a.errors + s.errors,
      chars: a.chars + s.chars,
      whitespaceFaults: a.whitespaceFaults + s.whitespaceFaults,
    }),
    {
      lines: 0,
      exact: 0,
      errors: 0,
      chars: 0,
      whitespaceFaults: 0,
    },
  );
}
