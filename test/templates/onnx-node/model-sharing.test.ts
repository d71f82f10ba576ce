/**
 * Model sharing (templates/onnx-node/runtime/model-cache.mjs): replicas open a model from the node's
 * shared, optimised copy whose weights are memory-mapped from one data file. Real onnxruntime-node
 * sessions in worker threads; the mapping is checked in /proc/self/maps (the workers are threads of
 * this process).
 */
import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../core/logger.ts';
import { createCpuBackend } from '../../../templates/onnx-node/runtime/backends/cpu.ts';
import { readBackendConfig } from '../../../templates/onnx-node/runtime/backends/config.ts';
import type { Executor } from '../../../templates/onnx-node/runtime/executor.ts';
import { createOcrRecognizeFunction } from '../../../functions/ocr-recognize/index.ts';

const line = await readFile(new URL('../../functions/fixtures/hello-world-2024.png', import.meta.url));

async function mappedFiles(): Promise<Set<string>> {
  const maps = await readFile('/proc/self/maps', 'utf8');
  return new Set(
    maps
      .split('\n')
      .map((l) => l.split(/\s+/).slice(5).join(' '))
      .filter((p) => p.startsWith('/')),
  );
}

describe('model sharing: one memory-mapped copy of the weights per node', function () {
  this.timeout(60_000);
  const fn = createOcrRecognizeFunction();
  let cacheDir: string;
  const open: Executor[] = [];
  const backend = (shared: boolean) =>
    createCpuBackend({
      cores: [0],
      partitionPercent: 50,
      logger: silentLogger,
      ...(shared ? { modelCacheDir: cacheDir } : {}),
    });

  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'fastgshare-model-cache-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('builds one shared copy when replicas start together, maps its weights and answers as the unshared model', async () => {
    const b = backend(true);
    const [a, c] = await Promise.all([b.open(fn), backend(true).open(fn)]);
    open.push(a, c);
    const entries = (await readdir(cacheDir)).filter((e) => !e.startsWith('.'));
    expect(entries, 'one cache entry, no build folders left').to.have.length(1);
    expect((await readdir(cacheDir)).filter((e) => e.startsWith('.build-'))).to.deep.equal([]);
    expect(await readdir(join(cacheDir, entries[0]!))).to.have.members(['model.onnx', 'model.onnx.data']);
    for (const e of [a, c]) {
      expect(e.info.sharedModel?.error).to.equal(undefined);
      expect(e.info.sharedModel?.path).to.equal(join(cacheDir, entries[0]!, 'model.onnx'));
    }
    expect([a, c].filter((e) => e.info.sharedModel!.built).length).to.be.at.least(1);
    // the weights are a file mapping, not private copies
    expect(await mappedFiles()).to.include(join(cacheDir, entries[0]!, 'model.onnx.data'));
    expect(b.describe()).to.include({ modelSharing: 'on' });
    expect((b.describe().sharedModels as { copy: string }[])[0]!.copy).to.equal(
      join(cacheDir, entries[0]!, 'model.onnx'),
    );

    const unshared = await backend(false).open(fn);
    open.push(unshared);
    expect(unshared.info.sharedModel).to.equal(undefined);
    const input = await fn.decode(line, 'image/png');
    const [s] = await fn.infer(a, [input]);
    const [u] = await fn.infer(unshared, [input]);
    expect(s!.text).to.equal('Hello World 2024');
    expect(s!.text).to.equal(u!.text);
    expect(s!.confidence).to.be.closeTo(u!.confidence, 1e-4);
  });

  it('a later replica maps the existing copy instead of building it', async () => {
    open.push(await backend(true).open(fn));
    const later = await backend(true).open(fn);
    open.push(later);
    expect(later.info.sharedModel).to.include({ built: false, buildMs: 0 });
  });

  it('replaces a damaged copy: the replica runs unshared, says why, and the next one rebuilds it', async () => {
    open.push(await backend(true).open(fn));
    const [entry] = (await readdir(cacheDir)).filter((e) => !e.startsWith('.'));
    await writeFile(join(cacheDir, entry!, 'model.onnx'), 'not a model');
    const damaged = await backend(true).open(fn);
    open.push(damaged);
    expect(damaged.info.sharedModel?.error).to.be.a('string').and.not.equal('');
    const [r] = await fn.infer(damaged, [await fn.decode(line, 'image/png')]);
    expect(r!.text).to.equal('Hello World 2024');
    const next = await backend(true).open(fn);
    open.push(next);
    expect(next.info.sharedModel).to.include({ built: true });
    expect(next.info.sharedModel?.error).to.equal(undefined);
  });

  it('is on by default when the node gives a cache folder, off when asked, and rejects other values', () => {
    expect(readBackendConfig({ FASTGSHARE_MODEL_CACHE: '/c' }, 2).modelCacheDir).to.equal('/c');
    expect(
      readBackendConfig({ FASTGSHARE_MODEL_CACHE: '/c', FASTGSHARE_MODEL_SHARING: 'off' }, 2).modelCacheDir,
    ).to.equal(undefined);
    expect(readBackendConfig({}, 2).modelCacheDir).to.equal(undefined);
    expect(() => readBackendConfig({ FASTGSHARE_MODEL_CACHE: '/c', FASTGSHARE_MODEL_SHARING: 'maybe' }, 2)).to.throw(
      /FASTGSHARE_MODEL_SHARING.*neither on nor off/,
    );
  });
});
