/**
 * Greedy CTC decoding: the most likely class per time step, repeats collapsed, blanks (class 0)
 * dropped; the confidence is the mean probability of the kept characters.
 *
 * Spaces: the PP-OCRv4 recogniser was trained mostly on Chinese text, where spaces are rare, and
 * under-predicts them between Latin words: across a word gap the space class often comes second
 * to the blank (p ≈ 0.05–0.4), while inside a word it stays near 0. So a gap between two
 * characters whose space probability peaks at `spaceThreshold` or more gets one space, as if the
 * space had won there, except before closing punctuation or after an opening bracket (where Latin
 * text has none). The text never starts or ends with a space and never holds two in a row.
 */
export interface Recognised {
  text: string;
  confidence: number;
}

/** Where each character of `text` was read: its first and last time step ([-1, -1] for a space). */
export interface Decoded extends Recognised {
  spans: [number, number][];
}

export interface CtcOptions {
  /** Peak space probability in a gap between characters that makes it a word gap (1 turns this off). */
  spaceThreshold: number;
}

export const DEFAULT_CTC_OPTIONS: CtcOptions = { spaceThreshold: 0.05 };

/** No recovered space before these, nor after OPENING. */
const CLOSING = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', '%']);
const OPENING = new Set(['(', '[', '{']);

/** Decodes item `index` of a [batch, steps, classes] probability tensor; the last class is the space. */
export function ctcDecode(
  probs: Float32Array,
  dims: readonly number[],
  index: number,
  characters: readonly string[],
  options: CtcOptions = DEFAULT_CTC_OPTIONS,
): Decoded {
  const [, steps, classes] = dims;
  if (classes !== characters.length)
    throw new Error(`model has ${classes} classes but the dictionary gives ${characters.length}`);
  const space = characters.lastIndexOf(' ');
  let text = '';
  const spans: [number, number][] = [];
  let sum = 0;
  let kept = 0;
  let previous = -1;
  /** Highest space probability since the last character that was not a space. */
  let gapSpace = 0;
  const base = index * steps * classes;
  for (let t = 0; t < steps; t++) {
    const row = base + t * classes;
    let best = 0;
    let bestP = probs[row]!;
    for (let c = 1; c < classes; c++) {
      if (probs[row + c]! > bestP) {
        bestP = probs[row + c]!;
        best = c;
      }
    }
    if (space >= 0 && gapSpace !== Infinity) gapSpace = Math.max(gapSpace, probs[row + space]!);
    if (best !== 0 && best === previous && best !== space && spans.length > 0) spans[spans.length - 1]![1] = t;
    if (best !== 0 && best !== previous) {
      if (best === space) {
        gapSpace = Infinity; // a space won: the gap has its space (written before the next character)
      } else {
        const c = characters[best]!;
        const recovered = gapSpace !== Infinity;
        if (
          text !== '' &&
          gapSpace >= options.spaceThreshold &&
          !(recovered && (CLOSING.has(c) || OPENING.has(text[text.length - 1]!)))
        ) {
          text += ' ';
          spans.push([-1, -1]);
        }
        text += c;
        spans.push([t, t]);
        gapSpace = 0;
      }
      sum += bestP;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept, spans };
}
