/**
 * Cutting a text line out as the recogniser was trained to see it: level (perspective transform),
 * cut to the text's ink box (ink-box.ts) plus a margin that is a share of the text's height, so
 * that the text fills the same part of the model's 48 px input height whatever the margins and
 * skew of what was sent.
 * - A text-line image (ocr-recognize): the ink box of the whole image.
 * - A line on a page (ocr): the detector's box, grown so that clipped ascenders and descenders
 *   are back in, gives the search area; only ink reaching into the box's middle rows counts (not
 *   the neighbouring lines); the final crop is taken from the page, so its margins hold what is
 *   really around the line.
 */
import { resizeRgb, type RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import { growQuad, rectQuad, type Quad } from 'fastgshare/functions/ocr-detect/min-area-rect.ts';
import { DEFAULT_INK_OPTIONS, inkBox } from './ink-box.ts';
import { applyHomography, homography, perspectiveCrop, quadSize } from './perspective-crop.ts';

export interface LineCropOptions {
  /** Cut to the ink box at all (off: the image, or the detector's box, as it is). */
  inkCrop: boolean;
  /** Margin around the ink box above and below, and left and right, as shares of its height. */
  marginY: number;
  marginX: number;
}

/** A page line's box is searched this share of its height beyond each side. */
const SEARCH_GROWTH = 0.35;
/** Ink must reach into this middle share of the detector box's height. */
const CORE_SHARE = 0.5;
/** Images are searched for ink at most this high and wide (larger ones are scaled down first). */
const INK_MAX_HEIGHT = 256;
const INK_MAX_WIDTH = 8192;

/**
 * The line in `image` inside `quad` ([top-left, top-right, bottom-right, bottom-left] as it reads),
 * or the whole image as one line when no quad is given.
 */
export async function cutLine(image: RgbImage, quad: Quad | undefined, o: LineCropOptions): Promise<RgbImage> {
  if (!quad) {
    if (!o.inkCrop) return image;
    const scale = Math.min(1, INK_MAX_HEIGHT / image.height, INK_MAX_WIDTH / image.width);
    const small = scale < 1 ? await scaleRgb(image, scale) : image;
    const found = inkQuad(small, undefined, o);
    return found ? perspectiveCrop(small, found) : image;
  }
  if (!o.inkCrop) return perspectiveCrop(image, quad);
  const { height } = quadSize(quad);
  const g = SEARCH_GROWTH * height;
  const area = growQuad(quad, g, g);
  const searched = perspectiveCrop(image, area);
  const s = searched.height / (height + 2 * g); // searched pixels per page pixel, across
  const core: [number, number] = [
    Math.floor((g + (height * (1 - CORE_SHARE)) / 2) * s),
    Math.ceil((g + (height * (1 + CORE_SHARE)) / 2) * s),
  ];
  const found = inkQuad(searched, core, o);
  if (!found) return perspectiveCrop(image, quad);
  // back to page pixels: the searched crop's homography maps its corners onto `area`
  const h = homography(
    [
      [0, 0],
      [searched.width, 0],
      [searched.width, searched.height],
      [0, searched.height],
    ],
    area,
  );
  return perspectiveCrop(image, found.map(([x, y]) => applyHomography(h, x, y)) as Quad);
}

/** The ink box of a level image, grown by the margins, as a quad; undefined when there is no ink. */
function inkQuad(image: RgbImage, band: [number, number] | undefined, o: LineCropOptions): Quad | undefined {
  const box = inkBox(image, { ...DEFAULT_INK_OPTIONS, band });
  if (!box || box.height < 2) return undefined;
  const grown = { ...box, width: box.width + 2 * o.marginX * box.height, height: box.height * (1 + 2 * o.marginY) };
  return rectQuad(grown, 0);
}

async function scaleRgb(image: RgbImage, scale: number): Promise<RgbImage> {
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return { width, height, pixels: await resizeRgb(image, width, height) };
}
