/**
 * Plain tensors that cross the worker boundary: a type name, dimensions and a typed array whose
 * buffer can be transferred (not copied) with postMessage.
 */
export type TensorType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';

export type TensorArray = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface TensorData {
  type: TensorType;
  dims: number[];
  data: TensorArray;
}

export type Tensors = Record<string, TensorData>;

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/** A zero-filled tensor of the given type and shape. */
export function zeros(type: TensorType, dims: number[]): TensorData {
  const n = elementCount(dims);
  switch (type) {
    case 'float32':
      return { type, dims, data: new Float32Array(n) };
    case 'int64':
      return { type, dims, data: new BigInt64Array(n) };
    case 'int32':
      return { type, dims, data: new Int32Array(n) };
    case 'uint8':
    case 'bool':
      return { type, dims, data: new Uint8Array(n) };
  }
}

/** The buffers of these tensors, for a postMessage transfer list (views into larger buffers are left out). */
export function transferables(tensors: Tensors): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    const buf = t.data.buffer;
    if (buf instanceof ArrayBuffer && t.data.byteOffset === 0 && t.data.byteLength === buf.byteLength) seen.add(buf);
  }
  return [...seen];
}
