/**
 * The local image store: a deployment's `image` names a function bundle kept under
 * `<dataDir>/images/<path segments>/<tag>/`. A bundle is a directory holding the template's
 * runtime with the handler in its handler folder (the layout `faas-cli build --shrinkwrap`
 * writes) plus a manifest, `fastgshare-image.json`. Only references that pass `parseImageRef`
 * are ever turned into paths, so nothing resolves outside the store.
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile, cp, symlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { PlatformError } from '../errors.ts';
import { parseImageRef } from '../names.ts';

export const MANIFEST_FILE = 'fastgshare-image.json';

export interface ImageManifest {
  /** Normalised reference, `path:tag`. */
  image: string;
  /** The process a replica runs, with the bundle as its working directory. */
  fprocess: string;
  /** Template language the bundle was built from (e.g. "node-http", "onnx-node"). */
  language: string;
  /** Function name in the stack it was built for, when known. */
  function?: string;
  builtAt: string;
  /** Where it was built from, for `describe` and debugging. */
  source?: string;
}

export interface ImageBundle {
  ref: string;
  /** Absolute path of the bundle directory. */
  dir: string;
  manifest: ImageManifest;
}

export class ImageStore {
  readonly root: string;

  constructor(opts: { root: string }) {
    this.root = resolve(opts.root);
  }

  /** Directory for a reference (validated); the bundle may not exist yet. */
  pathFor(image: string): { ref: string; dir: string } {
    const { segments, tag, ref } = parseImageRef(image);
    const dir = resolve(this.root, ...segments, tag);
    if (!dir.startsWith(this.root + sep)) {
      throw new PlatformError('invalid_name', `image "${image}" resolves outside the image store`);
    }
    return { ref, dir };
  }

  /** The bundle for `image`; a 400 `image_not_found` saying how to build it when absent. */
  async resolve(image: string): Promise<ImageBundle> {
    const { ref, dir } = this.pathFor(image);
    let raw: string;
    try {
      raw = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    } catch {
      throw new PlatformError(
        'image_not_found',
        `image "${ref}" is not in the image store (${this.root}); build it with \`fastgshare build -f stack.yml\` (or \`faas-cli build --shrinkwrap\` then \`fastgshare build --from build/<fn>\`) and deploy again`,
        { details: { image: ref } },
      );
    }
    let manifest: ImageManifest;
    try {
      manifest = JSON.parse(raw) as ImageManifest;
    } catch (err) {
      throw new PlatformError(
        'image_not_found',
        `image "${ref}" has a corrupt manifest; rebuild it with \`fastgshare build\``,
        { cause: err },
      );
    }
    if (typeof manifest.fprocess !== 'string' || manifest.fprocess.trim() === '') {
      throw new PlatformError(
        'image_not_found',
        `image "${ref}" has no fprocess in its manifest; rebuild it with \`fastgshare build\``,
      );
    }
    return { ref, dir, manifest };
  }

  async exists(image: string): Promise<boolean> {
    try {
      await this.resolve(image);
      return true;
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'image_not_found') return false;
      throw err;
    }
  }

  /**
   * Stores a bundle atomically: copies `sourceDir` to a temporary directory beside the target,
   * writes the manifest, gives it a `node_modules` (see `linkNodeModules`), then renames it
   * into place, replacing any previous bundle of that tag.
   */
  async put(
    image: string,
    sourceDir: string,
    manifest: Omit<ImageManifest, 'image' | 'builtAt'>,
    opts: { nodeModules?: string } = {},
  ): Promise<ImageBundle> {
    const { ref, dir } = this.pathFor(image);
    const parent = resolve(dir, '..');
    await mkdir(parent, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await cp(sourceDir, tmp, {
      recursive: true,
      filter: (src) => !src.split(sep).includes('node_modules'),
    });
    const full: ImageManifest = { ...manifest, image: ref, builtAt: new Date().toISOString() };
    await writeFile(join(tmp, MANIFEST_FILE), JSON.stringify(full, null, 2));
    if (opts.nodeModules) await linkNodeModules(tmp, opts.nodeModules, resolve(opts.nodeModules, '..'));
    const old = `${dir}.old-${process.pid}-${Date.now()}`;
    const hadOld = await stat(dir).then(
      () => true,
      () => false,
    );
    if (hadOld) await rename(dir, old);
    await rename(tmp, dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
    return { ref, dir, manifest: full };
  }

  /** Every bundle in the store. */
  async list(): Promise<ImageBundle[]> {
    const out: ImageBundle[] = [];
    const walk = async (d: string, depth: number): Promise<void> => {
      if (depth > 10) return;
      let entries;
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch {
        return;
      }
      if (entries.some((e) => e.isFile() && e.name === MANIFEST_FILE)) {
        try {
          const manifest = JSON.parse(await readFile(join(d, MANIFEST_FILE), 'utf8')) as ImageManifest;
          out.push({ ref: manifest.image, dir: d, manifest });
        } catch {
          /* a corrupt bundle is skipped here; resolve() reports it */
        }
        return;
      }
      for (const e of entries)
        if (e.isDirectory() && !e.name.includes('.tmp-') && !e.name.includes('.old-'))
          await walk(join(d, e.name), depth + 1);
    };
    await walk(this.root, 0);
    return out.sort((a, b) => a.ref.localeCompare(b.ref));
  }
}

/** The package name under which bundles import the platform's runtime code. */
export const PLATFORM_PACKAGE = 'fastgshare';

/**
 * A bundle's runtime dependencies, as a container image would carry them: `node_modules` holds
 * a link to each package of the platform's `node_modules`, plus `fastgshare` → the platform
 * root, so template runtimes and handlers import shared code as `fastgshare/core/...` or
 * `fastgshare/templates/...` (the same specifiers resolve inside this repository through the
 * package's self-reference in package.json "exports").
 */
export async function linkNodeModules(
  bundleDir: string,
  platformNodeModules: string,
  platformRoot: string,
): Promise<void> {
  const target = join(bundleDir, 'node_modules');
  await mkdir(target, { recursive: true });
  for (const entry of await readdir(platformNodeModules, { withFileTypes: true })) {
    if (entry.name === PLATFORM_PACKAGE || entry.name === '.package-lock.json') continue;
    await symlink(join(platformNodeModules, entry.name), join(target, entry.name), 'dir');
  }
  await symlink(platformRoot, join(target, PLATFORM_PACKAGE), 'dir');
}
