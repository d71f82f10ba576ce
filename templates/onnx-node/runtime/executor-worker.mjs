// @ts-check
// The inference thread behind `createWorkerExecutor` (executor.ts): one onnxruntime-node session;
// runs one batch at a time in the order received and transfers output buffers back.
// Plain JavaScript on purpose: a worker thread does not inherit the TypeScript loader of its parent
// (tsx registers its hooks for the main thread only), so this file must load under bare Node.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { openSharedModel } from './model-cache.mjs';

/** @typedef {Exclude<ort.Tensor.DataType, string[]>} NumericData the platform's tensors are numeric (tensor.ts) */
/** @typedef {{ type: ort.Tensor.Type, dims: readonly number[], data: NumericData }} WireTensor */

// always started by executor.ts as a worker thread, so parentPort is set
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
/** @type {{ modelPath: string, sessionOptions: ort.InferenceSession.SessionOptions, share?: { cacheDir: string } }} */
const { modelPath, sessionOptions, share } = workerData;

/** @param {ort.InferenceSession.ValueMetadata} m */
function meta(m) {
  return m.isTensor
    ? { name: m.name, type: m.type, shape: [...m.shape] }
    : { name: m.name, type: 'non-tensor', shape: [] };
}

/**
 * Buffers that can be moved, not copied (a view into a larger buffer is left to be copied).
 * @param {Record<string, WireTensor>} tensors
 */
function transferables(tensors) {
  const seen = new Set();
  for (const t of Object.values(tensors)) {
    const buf = t.data.buffer;
    if (buf instanceof ArrayBuffer && t.data.byteOffset === 0 && t.data.byteLength === buf.byteLength) seen.add(buf);
  }
  return [...seen];
}

/** @param {ort.Tensor} t @returns {WireTensor} */
function fromOrt(t) {
  const data = /** @type {NumericData} */ (t.data);
  const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
  return { type: t.type, dims: [...t.dims], data: owned };
}

/** @type {ort.InferenceSession} */
let session;
try {
  let shared;
  if (share) {
    const opened = await openSharedModel(ort, modelPath, share.cacheDir, sessionOptions);
    session = opened.session;
    shared = opened.info;
  } else {
    session = await ort.InferenceSession.create(modelPath, sessionOptions);
  }
  port.postMessage({
    type: 'ready',
    inputs: session.inputMetadata.map(meta),
    outputs: session.outputMetadata.map(meta),
    shared,
  });
} catch (err) {
  port.postMessage({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

let queue = Promise.resolve();
port.on('message', (msg) => {
  queue = queue.then(async () => {
    if (msg.type === 'close') {
      await session.release();
      port.postMessage({ type: 'closed' });
      port.close();
      return;
    }
    try {
      /** @type {Record<string, ort.Tensor>} */
      const feeds = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const result = await session.run(feeds);
      /** @type {Record<string, WireTensor>} */
      const outputs = {};
      for (const [name, t] of Object.entries(result)) outputs[name] = fromOrt(t);
      port.postMessage({ type: 'result', id: msg.id, outputs }, transferables(outputs));
    } catch (err) {
      port.postMessage({ type: 'run-error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
});
