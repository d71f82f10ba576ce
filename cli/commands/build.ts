/**
 * `build [-f stack.yml] [--filter fn] [--shrinkwrap]`: writes build/<fn>/ like
 * `faas-cli build --shrinkwrap` and (without --shrinkwrap) stores each as an image bundle.
 * `build --from build/<fn> --image name:tag`: imports a folder faas-cli wrote.
 */
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { readCommonConfig } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';
import type { BuiltFunction, BuildProgress } from '../../core/images/builder.ts';
import type { ImageStore } from '../../core/images/image-store.ts';
import type { LoadedStack } from '../../core/images/stack-file.ts';
import type { Logger } from '../../core/logger.ts';
import { loadStack, type CommandContext } from '../context.ts';

// the builder (stack schema, templates) is loaded when a build runs, not for `--help`
const builderModule = () => import('../../core/images/builder.ts');

export async function imageStoreFor(ctx: CommandContext): Promise<ImageStore> {
  const { ImageStore: Store } = await import('../../core/images/image-store.ts');
  return new Store({ root: join(readCommonConfig(ctx.cli.env, ctx.cli.cwd).dataDir, 'images') });
}

/** Builds a stack's images, printing one line per step. Used by `build` and `up --build`. */
export async function buildStackImages(
  ctx: CommandContext,
  stack: LoadedStack,
  images: ImageStore,
  log: Logger,
  opts: { filter?: string; shrinkwrap?: boolean } = {},
): Promise<BuiltFunction[]> {
  const out = ctx.io.stdout;
  const onProgress = (p: BuildProgress) => {
    const dir = p.dir ? relative(ctx.cli.cwd, p.dir) || '.' : '';
    if (p.step === 'shrinkwrap') out.write(`[${p.function}] build context written to ${dir}\n`);
    else if (p.step === 'stored') out.write(`[${p.function}] image ${p.image} stored in ${p.dir}\n`);
    else out.write(`[${p.function}] skipped (skip_build: true)\n`);
  };
  const builder = (await builderModule()).createImageBuilder({ images, log });
  const built = await builder.buildStack(stack, { filter: opts.filter, shrinkwrapOnly: opts.shrinkwrap, onProgress });
  if (built.length === 0) out.write(`no functions in ${stack.file}\n`);
  return built;
}

export function registerBuild(program: Command, ctx: CommandContext): void {
  program
    .command('build')
    .description('build function images from a stack file, without Docker')
    .option('-f, --yaml <file>', 'stack file (default: ./stack.yml)')
    .option('--filter <function>', 'build only this function')
    .option('--shrinkwrap', 'only write build/<fn>/ (as faas-cli build --shrinkwrap); store no image')
    .option('--from <dir>', 'import a build/<fn>/ folder written by faas-cli build --shrinkwrap')
    .option('--image <name:tag>', 'image name for --from')
    .action(async (o: { yaml?: string; filter?: string; shrinkwrap?: boolean; from?: string; image?: string }) => {
      const log = ctx.makeLogger('warn');
      const images = await imageStoreFor(ctx);
      if (o.from) {
        if (!o.image)
          throw new PlatformError('bad_request', '--from needs --image name:tag: the name to deploy the bundle under');
        const bundle = await (
          await builderModule()
        )
          .createImageBuilder({ images, log })
          .importShrinkwrap(join(ctx.cli.cwd, o.from), o.image);
        ctx.io.stdout.write(
          `image ${bundle.ref} stored in ${bundle.dir} (from ${o.from}, fprocess: ${bundle.manifest.fprocess})\n`,
        );
        return;
      }
      if (o.image)
        throw new PlatformError(
          'bad_request',
          "--image is only used with --from; the stack file names each function's image",
        );
      const stack = (await loadStack(ctx, o.yaml, true))!;
      const built = await buildStackImages(ctx, stack, images, log, { filter: o.filter, shrinkwrap: o.shrinkwrap });
      const stored = built.filter((b) => b.bundle).length;
      if (!o.shrinkwrap) ctx.io.stdout.write(`${stored} image(s) built\n`);
    });
}
