// Module resolution hook for the compiled build (registered by bin/fastgshare.mjs): maps the
// package's self-references `fastgshare/<path>.ts` (used by templates/, which also run inside
// function images) to their compiled `build/_js/<path>.js`, so that a module is loaded once
// whichever way it is imported (one PlatformError class for `instanceof`).
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

let outDir = '';
export function initialize(data) {
  outDir = data.outDir;
}

export async function resolve(specifier, context, next) {
  if (specifier.startsWith('fastgshare/') && specifier.endsWith('.ts')) {
    const compiled = `${outDir}/${specifier.slice('fastgshare/'.length, -'.ts'.length)}.js`;
    if (existsSync(compiled)) return { url: pathToFileURL(compiled).href, shortCircuit: true };
  }
  return next(specifier, context);
}
