/**
 * Builds function images without Docker: for each function of a stack file, writes the
 * shrinkwrap build context (`build/<fn>/`, as faas-cli does) and stores it as a bundle in the
 * ImageStore. Also imports a `build/<fn>/` folder that faas-cli itself wrote.
 */
import { basename, join, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { PlatformError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { parseImageRef } from '../names.ts';
import { PLATFORM_ROOT } from '../version.ts';
import type { ImageBundle, ImageStore } from './image-store.ts';
import { assertHandlerDir, writeShrinkwrap } from './shrinkwrap.ts';
import { selectFunctions, type LoadedStack, type StackFunction } from './stack-file.ts';
import { findTemplate, readTemplateYaml, templateSearchPath, TEMPLATE_FILE, type TemplateInfo } from './templates.ts';

export type BuildStep = 'shrinkwrap' | 'stored' | 'skipped';

export interface BuildProgress {
  function: string;
  image: string;
  step: BuildStep;
  /** build/<fn>/ for 'shrinkwrap', the bundle directory for 'stored'. */
  dir?: string;
}

export interface BuildOptions {
  /** Only this function of the stack. */
  filter?: string;
  /** Only write build/<fn>/ (faas-cli build --shrinkwrap); store nothing. */
  shrinkwrapOnly?: boolean;
  /** Where build/<fn>/ go (default `<stack dir>/build`). */
  buildRoot?: string;
  onProgress?: (p: BuildProgress) => void;
}

export interface BuiltFunction {
  function: string;
  image: string;
  buildDir: string;
  fprocess: string;
  /** Absent with shrinkwrapOnly or skip_build. */
  bundle?: ImageBundle;
  skipped?: boolean;
}

export interface ImageBuilder {
  buildStack(stack: LoadedStack, opts?: BuildOptions): Promise<BuiltFunction[]>;
  importShrinkwrap(dir: string, image: string, opts?: { function?: string }): Promise<ImageBundle>;
}

export interface ImageBuilderDeps {
  images: ImageStore;
  log: Logger;
  /** Linked into each bundle as node_modules (default: the platform's). */
  nodeModules?: string;
}

interface PlannedFunction {
  name: string;
  fn: StackFunction;
  image: string;
  handlerDir?: string;
  template?: TemplateInfo;
  fprocess: string;
}

/** The process a replica runs: the stack function's `fprocess`, else the template's. */
export function resolveFprocess(name: string, fn: StackFunction, template?: TemplateInfo): string {
  const fprocess = fn.fprocess?.trim() || template?.fprocess?.trim();
  if (!fprocess) {
    throw new PlatformError(
      'bad_request',
      `function "${name}": no fprocess: set "fprocess:" in the stack file or in ${template ? join(template.dir, TEMPLATE_FILE) : `the "${fn.lang}" template`}`,
      { details: { function: name, field: 'fprocess' } },
    );
  }
  return fprocess;
}

function checkImage(name: string, image: string): string {
  try {
    return parseImageRef(image, `function "${name}": image`).ref;
  } catch (err) {
    if (err instanceof PlatformError)
      throw new PlatformError(err.code, err.message, { cause: err, details: { function: name, field: 'image' } });
    throw err;
  }
}

export function createImageBuilder(deps: ImageBuilderDeps): ImageBuilder {
  const log = deps.log.child('builder');
  const nodeModules = deps.nodeModules ?? join(PLATFORM_ROOT, 'node_modules');

  /** Checks every selected function before anything is written, so a bad stack changes nothing. */
  async function plan(stack: LoadedStack, filter?: string): Promise<PlannedFunction[]> {
    const searchPath = templateSearchPath(stack.dir);
    const out: PlannedFunction[] = [];
    for (const [name, fn] of selectFunctions(stack, filter)) {
      const image = checkImage(name, fn.image);
      if (fn.skip_build) {
        out.push({ name, fn, image, fprocess: fn.fprocess ?? '' });
        continue;
      }
      if (!fn.lang)
        throw new PlatformError(
          'bad_request',
          `function "${name}": "lang:" is required to build it (e.g. lang: node-http)`,
          { details: { function: name, field: 'lang' } },
        );
      if (!fn.handler)
        throw new PlatformError(
          'bad_request',
          `function "${name}": "handler:" is required to build it (the folder holding the handler, e.g. ./${name})`,
          { details: { function: name, field: 'handler' } },
        );
      const template = await findTemplate(fn.lang, searchPath);
      const handlerDir = resolve(stack.dir, fn.handler);
      await assertHandlerDir(name, handlerDir, fn.handler);
      out.push({ name, fn, image, handlerDir, template, fprocess: resolveFprocess(name, fn, template) });
    }
    return out;
  }

  return {
    async buildStack(stack, opts = {}) {
      const planned = await plan(stack, opts.filter);
      const buildRoot = resolve(stack.dir, opts.buildRoot ?? 'build');
      const results: BuiltFunction[] = [];
      for (const p of planned) {
        if (!p.template || !p.handlerDir) {
          log.info('skipping build (skip_build: true)', { function: p.name });
          opts.onProgress?.({ function: p.name, image: p.image, step: 'skipped' });
          results.push({ function: p.name, image: p.image, buildDir: '', fprocess: p.fprocess, skipped: true });
          continue;
        }
        const buildDir = await writeShrinkwrap({
          name: p.name,
          handlerDir: p.handlerDir,
          template: p.template,
          buildRoot,
        });
        opts.onProgress?.({ function: p.name, image: p.image, step: 'shrinkwrap', dir: buildDir });
        if (opts.shrinkwrapOnly) {
          results.push({ function: p.name, image: p.image, buildDir, fprocess: p.fprocess });
          continue;
        }
        const bundle = await deps.images.put(
          p.image,
          buildDir,
          { fprocess: p.fprocess, language: p.template.language, function: p.name, source: p.handlerDir },
          { nodeModules },
        );
        log.info('image stored', { function: p.name, image: bundle.ref, dir: bundle.dir });
        opts.onProgress?.({ function: p.name, image: bundle.ref, step: 'stored', dir: bundle.dir });
        results.push({ function: p.name, image: bundle.ref, buildDir, fprocess: p.fprocess, bundle });
      }
      return results;
    },

    async importShrinkwrap(dir, image, opts = {}) {
      const abs = resolve(dir);
      const s = await stat(abs).catch(() => undefined);
      if (!s?.isDirectory()) {
        throw new PlatformError(
          'not_found',
          `"${dir}" is not a folder: pass a build context written by \`faas-cli build --shrinkwrap\` (build/<fn>/)`,
        );
      }
      const ref = parseImageRef(image, '--image').ref;
      let template: TemplateInfo;
      try {
        template = await readTemplateYaml(abs);
      } catch (err) {
        if (err instanceof PlatformError && err.code === 'not_found') {
          throw new PlatformError(
            'bad_request',
            `"${dir}" has no ${TEMPLATE_FILE}: it is not a shrinkwrap build context (run \`faas-cli build --shrinkwrap\` and pass build/<fn>/)`,
            { cause: err },
          );
        }
        throw err;
      }
      const handler = await stat(join(abs, template.handlerFolder)).catch(() => undefined);
      if (!handler?.isDirectory()) {
        throw new PlatformError(
          'bad_request',
          `"${dir}" has no handler folder "${template.handlerFolder}/" (named by its ${TEMPLATE_FILE})`,
        );
      }
      if (!template.fprocess) {
        throw new PlatformError(
          'bad_request',
          `${join(dir, TEMPLATE_FILE)} has no fprocess: a replica would not know what to run`,
        );
      }
      const fn = opts.function ?? basename(abs);
      const bundle = await deps.images.put(
        ref,
        abs,
        { fprocess: template.fprocess, language: template.language || 'unknown', function: fn, source: abs },
        { nodeModules },
      );
      log.info('image imported', { function: fn, image: bundle.ref, from: abs });
      return bundle;
    },
  };
}
