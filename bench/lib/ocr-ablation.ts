/**
 * The effect of each preprocessing choice (issue 17, item 3), for `npm run bench:ocr`: ocr-recognize
 * as shipped and with one choice changed at a time, on the upright line sets; and the ocr
 * pipeline with and without cutting each line to its ink, on the degraded and skewed pages. Same
 * code path as ocr-ours.ts (the handlers' open(ctx)), one thread, c = 1.
 */
import { readFile } from 'node:fs/promises';
import { defineModelFunction } from '../../templates/onnx-node/runtime/service.ts';
import { sampleImage } from '../../templates/onnx-node/runtime/samples.ts';
import { createOcrRecognizeFunction, type RecognizerOptions } from '../../functions/ocr-recognize/index.ts';
import { createOcrFunction } from '../../functions/ocr/handler.ts';
import { openService, type OursService } from './ocr-ours.ts';
import { addScores, scoreSample, type Score } from './ocr-score.ts';
import type { SampleSet } from './ocr-set.ts';

export interface Variant {
  name: string;
  what: string;
  recognizer?: Partial<RecognizerOptions>;
  /** false: the model as exported, without onnx-fold.ts's rewrite. */
  foldModel?: boolean;
}

/** One change at a time from the shipped defaults (functions/ocr-recognize/index.ts). */
export const RECOGNIZER_VARIANTS: Variant[] = [
  {
    name: 'shipped',
    what: 'ink box + margins 0.4/0.5 × text height, width × 1.1, min width 320, grey padding, word gaps kept, ASCII punctuation, letter/digit fix, case by height; model with folded operators',
  },
  {
    name: 'model as exported',
    what: 'the ONNX file as shipped, hard-swish and affine blocks unfolded (onnx-fold.ts off): same text, slower',
    foldModel: false,
  },
  {
    name: 'no ink crop',
    what: 'the whole image resized to 48 px high (before this issue)',
    recognizer: { inkCrop: false },
  },
  {
    name: 'margins 0.25/0.4',
    what: 'tighter: text fills more of the 48 px',
    recognizer: { marginY: 0.25, marginX: 0.4 },
  },
  {
    name: 'margins 0.6/0.6',
    what: 'looser: text fills less of the 48 px (fewer columns)',
    recognizer: { marginY: 0.6, marginX: 0.6 },
  },
  { name: 'no stretch', what: 'width by the aspect ratio only (× 1.0)', recognizer: { stretch: 1 } },
  { name: 'no min width', what: 'short lines not padded to 320 columns', recognizer: { minWidth: 0 } },
  { name: 'white padding', what: 'padding 1 (white) instead of 0 (grey)', recognizer: { padValue: 1 } },
  { name: 'argmax spaces only', what: 'no word-gap recovery in CTC decoding', recognizer: { spaceThreshold: 1 } },
  {
    name: 'raw characters',
    what: 'no ASCII punctuation, no letter/digit fix, no case by height',
    recognizer: { asciiPunctuation: false, letterDigitFix: false, letterCase: false },
  },
  {
    name: 'no case by height',
    what: 'c o s v w x z as the model read them (letter-case.ts off)',
    recognizer: { letterCase: false },
  },
];

export interface AblationRow {
  variant: string;
  what: string;
  score: Score;
  ms: number;
}

async function runSets(service: OursService, sets: readonly SampleSet[]): Promise<{ score: Score; ms: number }> {
  const scores: Score[] = [];
  let ms = 0;
  for (const set of sets) {
    for (const s of set.samples) {
      const body = await readFile(s.file);
      const t = performance.now();
      const text = await service.read(body, s.file.endsWith('.jpg') ? 'image/jpeg' : 'image/png');
      ms += performance.now() - t;
      scores.push(scoreSample(text, s.lines));
    }
  }
  return { score: addScores(scores), ms };
}

export async function recognizerAblation(lineSets: readonly SampleSet[]): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  for (const v of RECOGNIZER_VARIANTS) {
    const fn = defineModelFunction(
      () => createOcrRecognizeFunction({ recognizer: v.recognizer, foldModel: v.foldModel }),
      {
        settings: { maxBatch: 8 },
        sample: () => sampleImage(320, 48),
      },
    );
    const service = await openService(fn, `ocr-recognize (${v.name})`);
    try {
      rows.push({ variant: v.name, what: v.what, ...(await runSets(service, lineSets)) });
    } finally {
      await service.close();
    }
  }
  return rows;
}

export async function pipelineAblation(pageSets: readonly SampleSet[]): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  for (const [name, what, inkCrop] of [
    ['shipped', 'each line cut to its ink box + margins, from the page', true],
    ['detector box only', "each line cut to the detector's box (DB unclip 1.5)", false],
  ] as const) {
    const service = await openService(createOcrFunction({ lineCrop: { inkCrop } }), `ocr (${name})`);
    try {
      rows.push({ variant: name, what, ...(await runSets(service, pageSets)) });
    } finally {
      await service.close();
    }
  }
  return rows;
}
