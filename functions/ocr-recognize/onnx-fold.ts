/**
 * The PP-OCRv4 models as exported by paddle2onnx spell out what onnxruntime cannot fuse on its
 * own, and on one CPU thread the recogniser spent more than half of its time in these element-wise
 * passes over every feature map (profiled at 48 × 480: Mul, Add, Clip and Div 55 %, the
 * convolutions 29 %, the layout reorders around them 10 %):
 * - PP-LCNetV3's learnable affine blocks: a scalar Mul and Add after each convolution and after
 *   each activation (`y = s·x + b`, the scalar first, which onnxruntime's Conv–Mul/Add fusions
 *   do not take);
 * - hard-swish as four operators: Add 3, Clip 0–6, Mul, Div 6.
 * This rewrite computes the same function with fewer passes:
 * 1. hard-swish → x · HardSigmoid(x; α = 1/6, β = 1/2), which onnxruntime fuses into the
 *    convolution before it;
 * 2. scalar Mul/Add after a convolution → into its weights and bias (W·s, B·s + b);
 * 3. scalar Mul/Add before a convolution → the scale into its weights; the offset into its bias
 *    (B + b·ΣW) when it pads nothing, else a 1×1 per-channel convolution adding b/s before it
 *    (zero padding stays zero; a convolution stays in onnxruntime's channel-blocked layout, where
 *    an Add of a scalar would not).
 * Recogniser 40 → 21 ms at 48 × 512, detector 80 → 50 ms at 640 × 480, direction classifier
 * 14 → 5 ms for 8 lines (one thread). Outputs agree with the original model's to float rounding
 * (test/functions/ocr-recognize.test.ts). The rewritten model is written once to a folder under
 * the system's temporary directory, named by the original's hash and REWRITE_VERSION; a graph
 * that does not look as expected is left as it is, and any failure falls back to the original.
 * The folder is this user's own (fastgshare-onnx-fold-<uid>, mode 0700, not a link): a cached
 * model is loaded as it is, so nobody else may be able to put one there (in the replica sandbox
 * /tmp is the replica's own; outside it, /tmp is shared with every user of the machine).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ints,
  messageField,
  readFields,
  readFloatTensor,
  stringField,
  text,
  writeFields,
  writeFloatTensor,
  type Field,
  type FloatTensor,
} from './onnx-proto.ts';

/** Bump when the rewrite changes: the cached file's name holds it. */
const REWRITE_VERSION = 2;

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Every field but inputs and outputs (name, op_type, attributes, domain), as read. */
  rest: Field[];
}

export interface FoldStats {
  hardSwish: number;
  foldedAfter: number;
  foldedBefore: number;
  nodesBefore: number;
  nodesAfter: number;
}

function readNode(buf: Uint8Array): Node {
  const fields = readFields(buf);
  return {
    op: text(fields.find((f) => f.no === 4) ?? { no: 4, type: 2, value: new Uint8Array() }),
    inputs: fields.filter((f) => f.no === 1).map(text),
    outputs: fields.filter((f) => f.no === 2).map(text),
    rest: fields.filter((f) => f.no !== 1 && f.no !== 2),
  };
}

function writeNode(n: Node): Field {
  return messageField(1, [
    ...n.inputs.map((s) => stringField(1, s)),
    ...n.outputs.map((s) => stringField(2, s)),
    ...n.rest,
  ]);
}

/** The node's attributes by name, each as its AttributeProto fields. */
function attributes(n: Node): Map<string, Field[]> {
  const out = new Map<string, Field[]>();
  for (const f of n.rest) {
    if (f.no !== 5) continue;
    const a = readFields(f.value as Uint8Array);
    const name = a.find((x) => x.no === 1);
    if (name) out.set(text(name), a);
  }
  return out;
}

function floatAttribute(a: Field[] | undefined): number | undefined {
  const f = a?.find((x) => x.no === 2);
  if (!f) return undefined;
  const b = f.value as Uint8Array;
  return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
}

type AttributeValue = number | number[];

/** A node; numbers become float attributes, arrays of numbers int lists, `int` names int attributes. */
function intAttribute(a: Field[] | undefined): number | undefined {
  const f = a?.find((x) => x.no === 3);
  return f ? Number(BigInt.asIntN(64, f.value as bigint)) : undefined;
}

function newNode(
  op: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue>,
  int: readonly string[] = [],
): Node {
  const attrs = Object.entries(attributes).map(([k, v]) => {
    if (Array.isArray(v))
      return messageField(5, [
        stringField(1, k),
        ...v.map((x): Field => ({ no: 8, type: 0, value: BigInt(x) })),
        { no: 20, type: 0, value: 7n }, // INTS
      ]);
    if (int.includes(k))
      return messageField(5, [stringField(1, k), { no: 3, type: 0, value: BigInt(v) }, { no: 20, type: 0, value: 2n }]);
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, v, true);
    return messageField(5, [stringField(1, k), { no: 2, type: 5, value: f }, { no: 20, type: 0, value: 1n }]); // FLOAT
  });
  return { op, inputs, outputs, rest: [stringField(3, name), stringField(4, op), ...attrs] };
}

/** Rewrites a serialised ModelProto; returns it unchanged (and zero stats) when there is nothing to do. */
export function foldModel(model: Uint8Array): { model: Uint8Array; stats: FoldStats } {
  const modelFields = readFields(model);
  const graphField = modelFields.find((f) => f.no === 7);
  if (!graphField) throw new Error('the model has no graph');
  const graph = readFields(graphField.value as Uint8Array);
  const nodes: (Node | undefined)[] = graph.filter((f) => f.no === 1).map((f) => readNode(f.value as Uint8Array));
  const stats: FoldStats = { hardSwish: 0, foldedAfter: 0, foldedBefore: 0, nodesBefore: nodes.length, nodesAfter: 0 };

  const consts = new Map<string, FloatTensor>();
  for (const f of graph.filter((x) => x.no === 5)) {
    const t = readFloatTensor(f.value as Uint8Array);
    if (t) consts.set(t.name, t);
  }
  for (const n of nodes) {
    if (n?.op !== 'Constant' || n.outputs.length !== 1) continue;
    const value = attributes(n)
      .get('value')
      ?.find((x) => x.no === 5);
    const t = value && readFloatTensor(value.value as Uint8Array);
    if (t) consts.set(n.outputs[0]!, { ...t, name: n.outputs[0]! });
  }
  const graphOutputs = new Set(
    graph.filter((f) => f.no === 12).map((f) => text(readFields(f.value as Uint8Array).find((x) => x.no === 1)!)),
  );
  const added: FloatTensor[] = [];
  let serial = 0;
  const addConst = (base: string, dims: number[], data: Float32Array): string => {
    let name = `${base}.folded${serial++}`;
    while (consts.has(name)) name = `${base}.folded${serial++}`;
    const t = { name, dims, data };
    consts.set(name, t);
    added.push(t);
    return name;
  };

  const consumers = () => {
    const m = new Map<string, number[]>();
    nodes.forEach((n, i) => n?.inputs.forEach((x) => m.set(x, [...(m.get(x) ?? []), i])));
    return m;
  };
  const producers = () => {
    const m = new Map<string, number>();
    nodes.forEach((n, i) => n?.outputs.forEach((x) => m.set(x, i)));
    return m;
  };
  const scalar = (name: string): number | undefined => {
    const t = consts.get(name);
    // one value, of a rank that broadcasting onto a feature map leaves as it is
    return t && t.data.length === 1 && t.dims.length <= 4 ? t.data[0] : undefined;
  };
  /** The single node reading `name` (undefined when none, several, or it is a graph output). */
  const onlyReader = (uses: Map<string, number[]>, name: string): number | undefined => {
    const r = uses.get(name);
    return r?.length === 1 && !graphOutputs.has(name) ? r[0] : undefined;
  };
  /** A scalar Mul/Add of `name` by a constant: the operation and the constant. */
  const scalarOp = (n: Node | undefined, name: string): { op: 'Mul' | 'Add'; k: number } | undefined => {
    if (!n || (n.op !== 'Mul' && n.op !== 'Add') || n.inputs.length !== 2 || n.rest.some(isForeignDomain))
      return undefined;
    const other = n.inputs[0] === name ? n.inputs[1]! : n.inputs[1] === name ? n.inputs[0]! : undefined;
    const k = other === undefined || other === name ? undefined : scalar(other);
    return k === undefined ? undefined : { op: n.op, k };
  };

  // 1. hard-swish: Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6) → Mul(x, HardSigmoid(x))
  {
    const uses = consumers();
    const from = producers();
    nodes.forEach((div, d) => {
      if (div?.op !== 'Div' || scalar(div.inputs[1] ?? '') !== 6) return;
      const m = from.get(div.inputs[0]!);
      const mul = m === undefined ? undefined : nodes[m];
      if (m === undefined || mul?.op !== 'Mul' || mul.inputs.length !== 2 || onlyReader(uses, mul.outputs[0]!) !== d)
        return;
      for (const [x, c] of [mul.inputs, [...mul.inputs].reverse()] as [string, string][]) {
        const k = from.get(c);
        const clip = k === undefined ? undefined : nodes[k];
        if (k === undefined || clip?.op !== 'Clip' || onlyReader(uses, c) !== m) continue;
        // opset < 11: bounds as attributes; from 11: as inputs
        const attrs = attributes(clip);
        const [lo, hi] =
          clip.inputs.length === 1
            ? [floatAttribute(attrs.get('min')), floatAttribute(attrs.get('max'))]
            : [scalar(clip.inputs[1] ?? ''), scalar(clip.inputs[2] ?? '')];
        if (lo !== 0 || hi !== 6) continue;
        const a = from.get(clip.inputs[0]!);
        const add = a === undefined ? undefined : nodes[a];
        const op = scalarOp(add, x);
        if (a === undefined || op?.op !== 'Add' || op.k !== 3 || onlyReader(uses, clip.inputs[0]!) !== k) continue;
        const gate = `${div.outputs[0]}.gate`;
        nodes[a] = newNode('HardSigmoid', gate, [x], [gate], { alpha: 1 / 6, beta: 0.5 });
        nodes[k] = undefined;
        nodes[m] = { ...mul, inputs: [x, gate], outputs: div.outputs };
        nodes[d] = undefined;
        stats.hardSwish++;
        return;
      }
    });
  }

  const convWeights = (conv: Node): { w: FloatTensor; b: FloatTensor | undefined } | undefined => {
    if (conv.op !== 'Conv' || conv.rest.some(isForeignDomain)) return undefined;
    const w = consts.get(conv.inputs[1] ?? '');
    const b = conv.inputs[2] ? consts.get(conv.inputs[2]) : undefined;
    if (!w || w.dims.length !== 4 || (conv.inputs[2] && !b)) return undefined;
    return { w, b };
  };

  // 2. scalar Mul/Add after a convolution → its weights and bias
  {
    const uses = consumers();
    nodes.forEach((conv, c) => {
      if (!conv) return;
      const wb = convWeights(conv);
      if (!wb) return;
      let scale = 1;
      let shift = 0;
      let out = conv.outputs[0]!;
      const gone: number[] = [];
      for (;;) {
        const r = onlyReader(uses, out);
        const op = r === undefined ? undefined : scalarOp(nodes[r], out);
        if (!op) break;
        if (op.op === 'Mul') {
          scale *= op.k;
          shift *= op.k;
        } else shift += op.k;
        gone.push(r!);
        out = nodes[r!]!.outputs[0]!;
      }
      if (gone.length === 0) return;
      const outChannels = wb.w.dims[0]!;
      const w = wb.w.data.map((v) => v * scale);
      const b = new Float32Array(outChannels);
      for (let o = 0; o < outChannels; o++) b[o] = (wb.b ? wb.b.data[o]! : 0) * scale + shift;
      nodes[c] = {
        ...conv,
        inputs: [conv.inputs[0]!, addConst(wb.w.name, wb.w.dims, w), addConst(`${wb.w.name}.bias`, [outChannels], b)],
        outputs: [out],
      };
      for (const g of gone) nodes[g] = undefined;
      stats.foldedAfter += gone.length;
    });
  }

  // 3. scalar Mul/Add before a convolution → its weights (and bias, or one Add)
  {
    const uses = consumers();
    const from = producers();
    nodes.forEach((conv, c) => {
      if (!conv) return;
      const wb = convWeights(conv);
      if (!wb) return;
      // walk back over the chain of scalar ops feeding the convolution alone
      let scale = 1;
      let shift = 0;
      let input = conv.inputs[0]!;
      const gone: number[] = [];
      for (;;) {
        const p = from.get(input);
        const n = p === undefined ? undefined : nodes[p];
        if (!n || onlyReader(uses, input) !== (gone.length ? gone[gone.length - 1] : c)) break;
        const source = n.inputs.find((x) => scalarOp(n, x) !== undefined && x !== undefined);
        const op = source === undefined ? undefined : scalarOp(n, source);
        if (!op || source === undefined) break;
        // u = op(v): the chain so far maps u to scale·u + shift
        if (op.op === 'Mul') scale *= op.k;
        else shift += scale * op.k;
        gone.push(p!);
        input = source;
      }
      if (gone.length === 0 || scale === 0) return;
      const attrs = attributes(conv);
      const pads = attrs.get('pads');
      const autoPad = attrs.get('auto_pad')?.find((x) => x.no === 4);
      const padded =
        (pads !== undefined && ints(pads, 8).some((v) => v !== 0)) ||
        (autoPad !== undefined && !['NOTSET', 'VALID'].includes(text(autoPad)));
      const outChannels = wb.w.dims[0]!;
      const perOut = wb.w.data.length / outChannels;
      const w = wb.w.data.map((v) => v * scale);
      const b = new Float32Array(outChannels);
      for (let o = 0; o < outChannels; o++) {
        let sum = 0;
        if (!padded) for (let i = 0; i < perOut; i++) sum += wb.w.data[o * perOut + i]!;
        b[o] = (wb.b ? wb.b.data[o]! : 0) + shift * sum;
      }
      let convInput = input;
      if (padded && shift !== 0) {
        // conv(s·h + b) with zero padding = conv_{W·s}(h + b/s) with zero padding; the + b/s as a
        // 1×1 convolution per channel rather than an Add of a scalar, which onnxruntime's channels-
        // blocked layout does not take (an Add there costs a reorder out of that layout and back)
        const channels = wb.w.dims[1]! * (intAttribute(attrs.get('group')) ?? 1);
        convInput = `${conv.outputs[0]}.shifted`;
        nodes[gone[gone.length - 1]!] = newNode(
          'Conv',
          convInput,
          [
            input,
            addConst(`${convInput}.w`, [channels, 1, 1, 1], new Float32Array(channels).fill(1)),
            addConst(`${convInput}.b`, [channels], new Float32Array(channels).fill(shift / scale)),
          ],
          [convInput],
          { group: channels, kernel_shape: [1, 1] },
          ['group'],
        );
        gone.pop();
      }
      const hasBias = wb.b !== undefined || (!padded && shift !== 0);
      nodes[c] = {
        ...conv,
        inputs: [
          convInput,
          addConst(wb.w.name, wb.w.dims, w),
          ...(hasBias ? [addConst(`${wb.w.name}.bias`, [outChannels], b)] : []),
        ],
      };
      for (const g of gone) nodes[g] = undefined;
      stats.foldedBefore += gone.length;
    });
  }

  if (stats.hardSwish + stats.foldedAfter + stats.foldedBefore === 0) return { model, stats };

  // drop what nothing reads any more (the original weights' Constant nodes)
  for (;;) {
    const uses = consumers();
    let dropped = false;
    nodes.forEach((n, i) => {
      if (n?.op === 'Constant' && n.outputs.every((o) => !uses.has(o) && !graphOutputs.has(o))) {
        nodes[i] = undefined;
        dropped = true;
      }
    });
    if (!dropped) break;
  }
  const live = nodes.filter((n): n is Node => n !== undefined);
  stats.nodesAfter = live.length;
  const names = new Set(live.flatMap((n) => [...n.inputs, ...n.outputs]));
  const used = consumers();
  const rest = graph.filter((f) => {
    if (f.no === 1) return false;
    if (f.no === 5) {
      const t = readFloatTensor(f.value as Uint8Array);
      return !t || used.has(t.name);
    }
    if (f.no === 13) return names.has(text(readFields(f.value as Uint8Array).find((x) => x.no === 1)!));
    return true;
  });
  const newGraph = [
    ...live.map(writeNode),
    ...added.filter((t) => used.has(t.name)).map((t) => messageField(5, writeFloatTensor(t))),
    ...rest,
  ];
  const out = modelFields.map((f) => (f.no === 7 ? messageField(7, newGraph) : f));
  return { model: writeFields(out), stats };
}

function isForeignDomain(f: Field): boolean {
  return f.no === 7 && (f.value as Uint8Array).length > 0;
}

const cache = new Map<string, string>();

/**
 * The path of `path`'s model with the rewrite applied (written once under the temporary
 * directory `tmp`), or `path` itself when the rewrite finds nothing to do, fails, or the cache
 * folder is not this user's alone.
 */
export function foldedModelPath(path: string, tmp = tmpdir()): string {
  const key = `${tmp}\u0000${path}`;
  const known = cache.get(key);
  if (known) return known;
  let result = path;
  try {
    const dir = ownPrivateDir(join(tmp, `fastgshare-onnx-fold-${process.getuid?.() ?? 'user'}`));
    if (dir) {
      const original = readFileSync(path);
      const hash = createHash('sha256').update(original).digest('hex').slice(0, 16);
      const target = join(dir, `${basename(path, '.onnx')}-${hash}-v${REWRITE_VERSION}.onnx`);
      if (existsSync(target)) result = target;
      else {
        const { model, stats } = foldModel(original);
        if (stats.nodesAfter > 0) {
          const partial = `${target}.${process.pid}.${Date.now()}.tmp`;
          writeFileSync(partial, model);
          renameSync(partial, target);
          result = target;
        }
      }
    }
  } catch {
    result = path;
  }
  cache.set(key, result);
  return result;
}

/**
 * `dir`, created 0700 if missing, when it is a real directory owned by this user that no one else may write to;
 * undefined otherwise (then nothing is cached, and the original model is used).
 */
function ownPrivateDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) return undefined;
  return dir;
}
