/**
 * The recogniser's dictionary (Chinese and Latin) holds both ASCII and full-width punctuation,
 * and on Latin text it sometimes picks the full-width form ("！", "）", "，"). A line with no
 * CJK character gets the ASCII forms (U+FF01–U+FF5E → U+0021–U+007E, the ideographic full stop
 * and space as "." and " "); a line with CJK text stays as read.
 */
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/;
const FULL_WIDTH = /[\uff01-\uff5e\u3000\u3002]/;

export function plainText(text: string): string {
  if (CJK.test(text) || !FULL_WIDTH.test(text)) return text;
  const ascii = text.replace(new RegExp(FULL_WIDTH.source, 'g'), (c) =>
    c === '\u3000' ? ' ' : c === '\u3002' ? '.' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
  return ascii.replace(/ {2,}/g, ' ').trim();
}
