/**
 * Just enough of the protobuf wire format to rewrite an ONNX model's graph (onnx-fold.ts): a
 * message is read as its list of fields, and written back from such a list, so that whatever is
 * not touched (attributes, value infos, metadata) goes back byte for byte. Field numbers are those
 * of onnx.proto (ModelProto.graph = 7, GraphProto.node = 1, NodeProto.input = 1, …).
 */

/** Wire types: 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit. */
export type WireType = 0 | 1 | 2 | 5;

export interface Field {
  no: number;
  type: WireType;
  /** The varint (type 0) or the payload bytes (types 1, 2, 5). */
  value: bigint | Uint8Array;
}

export function readFields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (p >= buf.length) throw new Error('truncated protobuf varint');
      const b = buf[p++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  const bytes = (n: number): Uint8Array => {
    if (p + n > buf.length) throw new Error('truncated protobuf field');
    const b = buf.subarray(p, p + n);
    p += n;
    return b;
  };
  while (p < buf.length) {
    const key = Number(varint());
    const no = Math.floor(key / 8);
    const type = key % 8;
    if (type === 0) out.push({ no, type, value: varint() });
    else if (type === 1) out.push({ no, type, value: bytes(8) });
    else if (type === 5) out.push({ no, type, value: bytes(4) });
    else if (type === 2) out.push({ no, type, value: bytes(Number(varint())) });
    else throw new Error(`unsupported protobuf wire type ${type}`);
  }
  return out;
}

function varintBytes(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export function writeFields(fields: readonly Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    length += b.length;
  };
  for (const f of fields) {
    push(Uint8Array.from(varintBytes(BigInt(f.no * 8 + f.type))));
    if (f.type === 0) push(Uint8Array.from(varintBytes(f.value as bigint)));
    else {
      const b = f.value as Uint8Array;
      if (f.type === 2) push(Uint8Array.from(varintBytes(BigInt(b.length))));
      push(b);
    }
  }
  const out = new Uint8Array(length);
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export const text = (f: Field): string => utf8.decode(f.value as Uint8Array);
export const stringField = (no: number, s: string): Field => ({ no, type: 2, value: encoder.encode(s) });
export const messageField = (no: number, fields: readonly Field[]): Field => ({
  no,
  type: 2,
  value: writeFields(fields),
});

/** A repeated integer field, packed or not. */
export function ints(fields: readonly Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.no !== no) continue;
    if (f.type === 0) out.push(Number(BigInt.asIntN(64, f.value as bigint)));
    else if (f.type === 2) for (const v of packedVarints(f.value as Uint8Array)) out.push(Number(BigInt.asIntN(64, v)));
  }
  return out;
}

function* packedVarints(buf: Uint8Array): Generator<bigint> {
  let p = 0;
  while (p < buf.length) {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[p++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    yield v;
  }
}

/** TensorProto.DataType FLOAT. */
export const FLOAT = 1;

/** A float tensor (TensorProto): its name, dims and values; undefined for any other element type. */
export interface FloatTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

export function readFloatTensor(buf: Uint8Array): FloatTensor | undefined {
  const fields = readFields(buf);
  const type = fields.find((f) => f.no === 2);
  if (!type || Number(type.value) !== FLOAT) return undefined;
  if (fields.some((f) => f.no === 13 || (f.no === 14 && Number(f.value) !== 0))) return undefined; // external data
  const dims = ints(fields, 1);
  const name = fields.find((f) => f.no === 8);
  const count = dims.reduce((a, d) => a * d, 1);
  const raw = fields.find((f) => f.no === 9);
  let data: Float32Array;
  if (raw) {
    const b = raw.value as Uint8Array;
    data = new Float32Array(b.length / 4);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(4 * i, true);
  } else {
    const values: number[] = [];
    for (const f of fields) {
      if (f.no !== 4) continue;
      const b = f.value as Uint8Array;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 4 <= b.length; i += 4) values.push(view.getFloat32(i, true));
    }
    data = Float32Array.from(values);
  }
  if (data.length !== count) return undefined;
  return { name: name ? text(name) : '', dims, data };
}

export function writeFloatTensor(t: FloatTensor): Field[] {
  const raw = new Uint8Array(t.data.length * 4);
  const view = new DataView(raw.buffer);
  t.data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return [
    ...t.dims.map((d): Field => ({ no: 1, type: 0, value: BigInt(d) })),
    { no: 2, type: 0, value: BigInt(FLOAT) },
    stringField(8, t.name),
    { no: 9, type: 2, value: raw },
  ];
}
