import { expect } from 'chai';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PlatformError } from '../../../core/errors.ts';
import { createImageBuilder, type ImageBuilder } from '../../../core/images/builder.ts';
import { ImageStore, MANIFEST_FILE } from '../../../core/images/image-store.ts';
import { parseStack } from '../../../core/images/stack-file.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { PLATFORM_ROOT } from '../../../core/version.ts';

/** Every file below `dir`, relative, sorted (symlinks listed, not followed). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

async function rejection(p: Promise<unknown>): Promise<PlatformError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the promise to reject').to.be.instanceOf(PlatformError);
  return err as PlatformError;
}

describe('core/images/builder', () => {
  let dir: string;
  let images: ImageStore;
  let builder: ImageBuilder;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-builder-'));
    images = new ImageStore({ root: join(dir, 'images') });
    builder = createImageBuilder({ images, log: createLogger({ sink: new CaptureSink() }) });
    // a project with its own template/ (as faas-cli lays it out) and a function folder
    await mkdir(join(dir, 'template', 'tiny', 'function'), { recursive: true });
    await writeFile(
      join(dir, 'template', 'tiny', 'template.yml'),
      'language: tiny\nfprocess: node main.mjs\nhandler_folder: function\n',
    );
    await writeFile(join(dir, 'template', 'tiny', 'main.mjs'), 'import "./function/handler.mjs";\n');
    await writeFile(join(dir, 'template', 'tiny', 'function', 'handler.mjs'), '// skeleton\n');
    await writeFile(join(dir, 'template', 'tiny', 'function', 'package.json'), '{"name":"skeleton"}\n');
    await mkdir(join(dir, 'hello', 'lib'), { recursive: true });
    await mkdir(join(dir, 'hello', 'build'), { recursive: true });
    await mkdir(join(dir, 'hello', 'template'), { recursive: true });
    await writeFile(join(dir, 'hello', 'handler.mjs'), 'export default () => "hi";\n');
    await writeFile(join(dir, 'hello', 'lib', 'util.mjs'), 'export const x = 1;\n');
    await writeFile(join(dir, 'hello', 'build', 'junk'), 'x');
    await writeFile(join(dir, 'hello', 'template', 'junk'), 'x');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const stackOf = (yaml: string) => parseStack(yaml, { dir });

  it('writes build/<fn>/ as faas-cli build --shrinkwrap does and stores a bundle that resolves', async () => {
    const progress: string[] = [];
    const [built] = await builder.buildStack(
      stackOf('functions:\n  hello:\n    lang: tiny\n    handler: ./hello\n    image: team/hello:0.1\n'),
      {
        onProgress: (p) => progress.push(`${p.function}:${p.step}`),
      },
    );
    expect(built!.buildDir).to.equal(join(dir, 'build', 'hello'));
    // template copied whole, handler entries overlaid on function/, "build" and "template" skipped
    expect(await tree(built!.buildDir)).to.deep.equal([
      'function/handler.mjs',
      'function/lib/util.mjs',
      'function/package.json',
      'main.mjs',
      'template.yml',
    ]);
    expect(await readFile(join(built!.buildDir, 'function', 'handler.mjs'), 'utf8')).to.contain('"hi"');
    expect(progress).to.deep.equal(['hello:shrinkwrap', 'hello:stored']);

    const bundle = await images.resolve('team/hello:0.1');
    expect(bundle.dir).to.equal(join(dir, 'images', 'team', 'hello', '0.1'));
    expect(bundle.manifest).to.deep.include({
      image: 'team/hello:0.1',
      fprocess: 'node main.mjs',
      language: 'tiny',
      function: 'hello',
      source: join(dir, 'hello'),
    });
    expect(await readFile(join(bundle.dir, 'function', 'lib', 'util.mjs'), 'utf8')).to.contain('x = 1');
    // node_modules: every platform package linked, plus `fastgshare` → the platform root
    expect((await lstat(join(bundle.dir, 'node_modules'))).isDirectory()).to.equal(true);
    expect(await readlink(join(bundle.dir, 'node_modules', 'tsx'))).to.equal(
      join(PLATFORM_ROOT, 'node_modules', 'tsx'),
    );
    expect(await readlink(join(bundle.dir, 'node_modules', 'fastgshare'))).to.equal(PLATFORM_ROOT);
  });

  it('falls back to the platform templates and builds the example echo function', async () => {
    await cp(join(PLATFORM_ROOT, 'functions', 'echo'), join(dir, 'echo'), { recursive: true });
    const [built] = await builder.buildStack(
      stackOf('functions:\n  echo:\n    lang: node-http\n    handler: ./echo\n    image: echo:latest\n'),
    );
    const files = await tree(built!.bundle!.dir);
    expect(files).to.include.members([
      'index.ts',
      'template.yml',
      'function/handler.ts',
      'runtime/server.ts',
      MANIFEST_FILE,
    ]);
    expect(await readFile(join(built!.bundle!.dir, 'function', 'handler.ts'), 'utf8')).to.equal(
      await readFile(join(PLATFORM_ROOT, 'functions', 'echo', 'handler.ts'), 'utf8'),
    );
    expect(built!.fprocess).to.equal('node --import tsx index.ts');
  });

  it("prefers the stack function's fprocess over the template's", async () => {
    const [built] = await builder.buildStack(
      stackOf(
        'functions:\n  hello:\n    lang: tiny\n    handler: ./hello\n    image: hello\n    fprocess: node --max-old-space-size=64 main.mjs\n',
      ),
    );
    expect(built!.fprocess).to.equal('node --max-old-space-size=64 main.mjs');
    expect((await images.resolve('hello:latest')).manifest.fprocess).to.equal('node --max-old-space-size=64 main.mjs');
  });

  it('with shrinkwrapOnly writes build/<fn>/ and stores nothing', async () => {
    const [built] = await builder.buildStack(
      stackOf('functions:\n  hello:\n    lang: tiny\n    handler: ./hello\n    image: hello\n'),
      { shrinkwrapOnly: true },
    );
    expect(built!.bundle).to.equal(undefined);
    expect((await stat(join(dir, 'build', 'hello', 'function', 'handler.mjs'))).isFile()).to.equal(true);
    expect(await images.exists('hello')).to.equal(false);
  });

  it('names the unknown template and lists the available ones', async () => {
    const err = await rejection(
      builder.buildStack(stackOf('functions:\n  hello:\n    lang: cobol\n    handler: ./hello\n    image: hello\n')),
    );
    expect(err.code).to.equal('not_found');
    expect(err.message).to.match(/unknown template "cobol"/);
    expect(err.message).to.match(/available: .*node-http/);
    expect(err.message).to.contain('tiny');
  });

  it('reports a missing handler folder, a missing lang and a bad image before writing anything', async () => {
    const missing = await rejection(
      builder.buildStack(stackOf('functions:\n  hello:\n    lang: tiny\n    handler: ./nope\n    image: hello\n')),
    );
    expect(missing.message).to.match(/function "hello": handler folder "\.\/nope" does not exist/);
    const noLang = await rejection(
      builder.buildStack(stackOf('functions:\n  hello:\n    handler: ./hello\n    image: hello\n')),
    );
    expect(noLang.message).to.match(/function "hello": "lang:" is required/);
    // a bad second function stops the whole build before the first one is written
    const bad = await rejection(
      builder.buildStack(
        stackOf(
          'functions:\n  hello:\n    lang: tiny\n    handler: ./hello\n    image: hello\n  other:\n    lang: tiny\n    handler: ./hello\n    image: "../../etc:x"\n',
        ),
      ),
    );
    expect(bad.code).to.equal('invalid_name');
    expect(bad.message).to.match(/function "other": image "\.\.\/\.\.\/etc:x" is not a valid image reference/);
    expect(
      await stat(join(dir, 'build')).then(
        () => true,
        () => false,
      ),
    ).to.equal(false);
    expect(await images.list()).to.deep.equal([]);
  });

  it('needs an fprocess from the stack or the template', async () => {
    await writeFile(join(dir, 'template', 'tiny', 'template.yml'), 'language: tiny\n');
    const err = await rejection(
      builder.buildStack(stackOf('functions:\n  hello:\n    lang: tiny\n    handler: ./hello\n    image: hello\n')),
    );
    expect(err.message).to.match(/function "hello": no fprocess/);
  });

  it('imports a build/<fn>/ folder written by faas-cli, with the fprocess of its template.yml', async () => {
    await builder.buildStack(
      stackOf('functions:\n  hello:\n    lang: tiny\n    handler: ./hello\n    image: hello\n'),
      { shrinkwrapOnly: true },
    );
    const bundle = await builder.importShrinkwrap(join(dir, 'build', 'hello'), 'imported/hello:2');
    expect(bundle.ref).to.equal('imported/hello:2');
    expect(bundle.manifest).to.deep.include({ fprocess: 'node main.mjs', language: 'tiny', function: 'hello' });
    expect(await readFile(join(bundle.dir, 'function', 'handler.mjs'), 'utf8')).to.contain('"hi"');
    expect((await images.resolve('imported/hello:2')).dir).to.equal(bundle.dir);
  });

  it('refuses to import a folder that is not a shrinkwrap build context', async () => {
    const notDir = await rejection(builder.importShrinkwrap(join(dir, 'absent'), 'x:1'));
    expect(notDir.message).to.contain('is not a folder');
    const noTemplate = await rejection(builder.importShrinkwrap(join(dir, 'hello'), 'x:1'));
    expect(noTemplate.message).to.match(/has no template\.yml: it is not a shrinkwrap build context/);
    const badRef = await rejection(builder.importShrinkwrap(join(dir, 'template', 'tiny'), 'Bad Name'));
    expect(badRef.code).to.equal('invalid_name');
  });
});
