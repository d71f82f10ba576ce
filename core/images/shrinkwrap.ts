/**
 * Writes a function's build context exactly as `faas-cli build --shrinkwrap` does:
 * `<buildRoot>/<fn>/` is cleared, the template folder is copied into it, then every entry of
 * the handler folder (except `build` and `template`) is copied over `<fn>/<handler_folder>/`.
 */
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { PlatformError } from '../errors.ts';
import type { TemplateInfo } from './templates.ts';

/** Entries of a handler folder that faas-cli never copies. */
const SKIPPED_HANDLER_ENTRIES = new Set(['build', 'template']);

export interface ShrinkwrapInput {
  /** Function name in the stack: the folder under buildRoot. */
  name: string;
  /** Absolute path of the function's handler folder. */
  handlerDir: string;
  template: TemplateInfo;
  /** Absolute path of the build folder (faas-cli: ./build). */
  buildRoot: string;
}

export async function assertHandlerDir(name: string, handlerDir: string, shown: string): Promise<void> {
  const s = await stat(handlerDir).catch(() => undefined);
  if (!s) {
    throw new PlatformError(
      'not_found',
      `function "${name}": handler folder "${shown}" does not exist (looked in ${handlerDir}); fix "handler:" in the stack file`,
      { details: { function: name, field: 'handler' } },
    );
  }
  if (!s.isDirectory()) {
    throw new PlatformError(
      'bad_request',
      `function "${name}": handler "${shown}" is a file; "handler:" must name a folder holding the handler`,
      { details: { function: name, field: 'handler' } },
    );
  }
}

export async function writeShrinkwrap(input: ShrinkwrapInput): Promise<string> {
  const { name, handlerDir, template, buildRoot } = input;
  const dest = join(buildRoot, name);
  const handlerDest = join(dest, template.handlerFolder);
  await rm(dest, { recursive: true, force: true });
  await mkdir(handlerDest, { recursive: true });
  await cp(template.dir, dest, {
    recursive: true,
    dereference: false,
    filter: (src) => !src.slice(template.dir.length).split(sep).includes('node_modules'),
  });
  const entries = await readdir(handlerDir);
  for (const entry of entries) {
    if (SKIPPED_HANDLER_ENTRIES.has(entry)) continue;
    await cp(join(handlerDir, entry), join(handlerDest, entry), { recursive: true, force: true });
  }
  return dest;
}
