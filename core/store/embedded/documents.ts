/**
 * Helpers on stored documents: copying without losing BSON types, _id handling, field-name
 * checks, and the shell-like rendering MongoDB uses in duplicate-key messages.
 */
import { ObjectId, type Document } from 'bson';
import { CommandError } from './command-error.ts';

/**
 * Deep copy of plain objects and arrays; Dates are copied, other BSON values (ObjectId,
 * Binary, Decimal128, Long, ...) are immutable in practice and kept by reference.
 */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneValue(v)) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Document = {};
    for (const [k, v] of Object.entries(value as Document)) out[k] = cloneValue(v);
    return out as T;
  }
  return value;
}

/** Returns the document with `_id` first, generating an ObjectId when absent. */
export function withId(doc: Document): Document {
  if (doc._id !== undefined) {
    if (Object.keys(doc)[0] === '_id') return doc;
    const { _id, ...rest } = doc;
    return { _id, ...rest };
  }
  return { _id: new ObjectId(), ...doc };
}

/** Rejects documents MongoDB would refuse to store. */
export function checkStorable(doc: Document): void {
  for (const key of Object.keys(doc)) {
    if (key.startsWith('$')) {
      throw new CommandError('DollarPrefixedFieldName', `Document can't have $ prefixed field names: ${key}`);
    }
  }
  if (Array.isArray(doc._id)) throw new CommandError('BadValue', `The '_id' value cannot be of type array`);
  if (doc._id instanceof RegExp) throw new CommandError('BadValue', `The '_id' value cannot be of type regex`);
}

/** A stable string for a value, used as a key in unique-index maps. */
export function valueKey(value: unknown): string {
  if (value === undefined || value === null) return 'n';
  if (typeof value === 'number') return Number.isNaN(value) ? 'N' : `d${value === 0 ? 0 : value}`;
  if (typeof value === 'string') return `s${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (value instanceof Date) return `D${value.getTime()}`;
  if (value instanceof RegExp) return `R${value.source}/${value.flags}`;
  if (Array.isArray(value)) return `[${value.map(valueKey).join(',')}]`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor;
    if (ctor === Object) {
      return `{${Object.entries(value as Document)
        .map(([k, v]) => `${JSON.stringify(k)}:${valueKey(v)}`)
        .join(',')}}`;
    }
    const bsontype = (value as { _bsontype?: string })._bsontype ?? ctor?.name ?? 'object';
    if (bsontype === 'Binary') {
      const b = value as { sub_type: number; buffer: Uint8Array };
      return `B${b.sub_type}:${Buffer.from(b.buffer).toString('base64')}`;
    }
    if (bsontype === 'Long' || bsontype === 'Int32' || bsontype === 'Double') return `d${Number(String(value))}`;
    return `${bsontype}(${String(value)})`;
  }
  return `${typeof value}:${String(value)}`;
}

/** Renders a value the way the mongo shell (and so MongoDB's error messages) do. */
export function shellValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return `[ ${value.map(shellValue).join(', ')} ]`;
  if (typeof value === 'object') {
    const bsontype = (value as { _bsontype?: string })._bsontype;
    if (bsontype === 'ObjectId') return `ObjectId('${String(value)}')`;
    if (bsontype === 'Decimal128') return `Decimal128('${String(value)}')`;
    if (bsontype === 'Long') return `${String(value)}`;
    if (bsontype === 'Binary') {
      const b = value as { sub_type: number; buffer: Uint8Array };
      return `BinData(${b.sub_type}, ${Buffer.from(b.buffer).toString('hex').toUpperCase()})`;
    }
    if (bsontype) return `${bsontype}(${String(value)})`;
    const entries = Object.entries(value as Document).map(([k, v]) => `${k}: ${shellValue(v)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return String(value);
}

/** Value at a dotted path (no array traversal); undefined when missing. */
export function getPath(doc: Document, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(part)) {
        // multikey traversal: collect the field from each element
        const vals = cur
          .map((el) => (el !== null && typeof el === 'object' ? (el as Document)[part] : undefined))
          .filter((v) => v !== undefined);
        cur = vals.length ? vals : undefined;
        continue;
      }
      cur = cur[Number(part)];
    } else {
      cur = (cur as Document)[part];
    }
  }
  return cur;
}
