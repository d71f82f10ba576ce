/**
 * Greedy CTC decoding: the most likely class per time step, repeats collapsed, blanks (class 0)
 * dropped; the confidence is the mean probability of the kept characters.
 */
export interface Recognised {
  text: string;
  confidence: number;
}

/** Decodes item `index` of a [batch, steps, classes] probability tensor. */
export function ctcDecode(probs: Float32Array, dims: readonly number[], index: number, characters: readonly string[]): Recognised {
  const [, steps, classes] = dims;
  if (classes !== characters.length) throw new Error(`model has ${classes} classes but the dictionary gives ${characters.length}`);
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  const base = index * steps * classes;
  for (let t = 0; t < steps; t++) {
    const row = base + t * classes;
    let best = 0;
    let bestP = probs[row];
    for (let c = 1; c < classes; c++) {
      if (probs[row + c] > bestP) {
        bestP = probs[row + c];
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += characters[best];
      sum += bestP;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}
