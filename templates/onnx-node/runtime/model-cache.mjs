// @ts-check
// Model sharing: replicas of one model on one node keep one copy of its weights in memory.
//
// The first replica that opens a model asks onnxruntime to optimise it and save the optimised graph
// as an ONNX file whose initialisers (the weights) live in a separate, page-aligned data file in the
// node's model cache (FASTGSHARE_MODEL_CACHE). Every replica then opens that file with prepacking
// off: onnxruntime memory-maps each external initialiser read-only straight from the data file and
// computes on the mapping, so the weights are page-cache pages that every replica's process maps,
// counted once however many replicas run. Later replicas skip both parsing the original protobuf
// into owned buffers and the graph optimisation, so they start faster.
//
// The cache entry is keyed by what the optimised graph depends on: the model's bytes, the
// onnxruntime version, the optimisation level and the CPU (the `all` level writes layouts for this
// CPU's instruction set). It is built in a private folder and renamed into place, so concurrent
// first replicas never see half a file; a loser of that race discards its copy. An entry that does
// not load (damaged, or written by another version) is removed and the model opened unshared.
//
// Plain JavaScript on purpose: it runs in the inference worker thread, which does not load tsx.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

/** @typedef {typeof import('onnxruntime-node')} Ort */
/** @typedef {import('onnxruntime-node').InferenceSession.SessionOptions} SessionOptions */

export const SHARED_MODEL_FILE = 'model.onnx';
export const SHARED_DATA_FILE = 'model.onnx.data';
/** Initialisers smaller than this stay inside the graph file (not worth a mapping of their own). */
const EXTERNAL_MIN_BYTES = 1024;

/**
 * The cache key of `modelBytes` optimised at `level` by onnxruntime `ortVersion` on this CPU.
 * @param {Uint8Array} modelBytes @param {string} ortVersion @param {string} level @param {string} [cpuModel]
 */
export function sharedModelKey(modelBytes, ortVersion, level, cpuModel = cpus()[0]?.model ?? 'unknown-cpu') {
  const h = createHash('sha256');
  h.update(modelBytes);
  h.update(`\0ort=${ortVersion}\0level=${level}\0cpu=${cpuModel}\0arch=${process.arch}`);
  return h.digest('hex').slice(0, 32);
}

/**
 * Opens `modelPath` from the node's shared copy in `cacheDir`, building the copy first when it is
 * not there. Resolves { session, info } where info says where the weights are mapped from, whether
 * this call built the copy and how long building took; falls back to an unshared session (info.error
 * says why) when the copy cannot be built or loaded.
 * @param {Ort} ort @param {string} modelPath @param {string} cacheDir @param {SessionOptions} sessionOptions
 */
export async function openSharedModel(ort, modelPath, cacheDir, sessionOptions) {
  const level = sessionOptions.graphOptimizationLevel ?? 'all';
  const bytes = readFileSync(modelPath);
  const key = sharedModelKey(bytes, ort.env?.versions?.common ?? 'unknown', level);
  const dir = join(cacheDir, key);
  const file = join(dir, SHARED_MODEL_FILE);
  let built = false;
  let buildMs = 0;
  try {
    if (!existsSync(file)) {
      const t0 = performance.now();
      built = await buildSharedCopy(ort, bytes, cacheDir, dir, sessionOptions, level);
      buildMs = performance.now() - t0;
    }
    const session = await ort.InferenceSession.create(file, sharedSessionOptions(sessionOptions));
    return { session, info: { path: file, dataPath: join(dir, SHARED_DATA_FILE), key, built, buildMs } };
  } catch (err) {
    // a damaged or foreign entry: remove it so the next replica rebuilds it, and run unshared now
    rmSync(dir, { recursive: true, force: true });
    const session = await ort.InferenceSession.create(modelPath, sessionOptions);
    return {
      session,
      info: { path: modelPath, key, built: false, buildMs: 0, error: err instanceof Error ? err.message : String(err) },
    };
  }
}

/**
 * Options of a session over the shared copy: already optimised, weights used where they are mapped.
 * @param {SessionOptions} sessionOptions @returns {SessionOptions}
 */
export function sharedSessionOptions(sessionOptions) {
  const extra = { ...(sessionOptions.extra ?? {}) };
  extra.session = { ...(extra.session ?? {}), disable_prepacking: '1' };
  return { ...sessionOptions, graphOptimizationLevel: 'disabled', extra };
}

/**
 * Builds the shared copy into a private folder and renames it to `dir`; false when another replica won.
 * @param {Ort} ort @param {Uint8Array} bytes @param {string} cacheDir @param {string} dir @param {SessionOptions}
 * sessionOptions
 * @param {NonNullable<SessionOptions['graphOptimizationLevel']>} level
 */
async function buildSharedCopy(ort, bytes, cacheDir, dir, sessionOptions, level) {
  mkdirSync(cacheDir, { recursive: true });
  const tmp = mkdtempSync(join(cacheDir, '.build-'));
  try {
    const extra = { ...(sessionOptions.extra ?? {}) };
    extra.session = {
      ...(extra.session ?? {}),
      optimized_model_external_initializers_file_name: SHARED_DATA_FILE,
      optimized_model_external_initializers_min_size_in_bytes: String(EXTERNAL_MIN_BYTES),
    };
    // logSeverityLevel 3: onnxruntime warns that an `all`-level graph is CPU-specific; the key holds the CPU
    const s = await ort.InferenceSession.create(bytes, {
      ...sessionOptions,
      logSeverityLevel: 3,
      graphOptimizationLevel: level,
      optimizedModelFilePath: join(tmp, SHARED_MODEL_FILE),
      extra,
    });
    await s.release();
    if (!existsSync(join(tmp, SHARED_MODEL_FILE)) || !existsSync(join(tmp, SHARED_DATA_FILE))) {
      throw new Error(`onnxruntime did not write the optimised model with external weights into ${tmp}`);
    }
    // mkdtemp makes it 0700: the namespace's other replicas (other uids, one group) read it too
    chmodSync(tmp, 0o750);
    try {
      renameSync(tmp, dir);
      return true;
    } catch (err) {
      const code = /** @type {NodeJS.ErrnoException | undefined} */ (err)?.code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false; // another replica was first
      throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
