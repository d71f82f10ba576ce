/**
 * Index definitions of a collection. Unique indexes are enforced (including compound, sparse
 * and partial ones); other indexes are kept as metadata, since every query scans in memory.
 */
import type { Document } from 'bson';
import { CommandError } from './command-error.ts';
import { getPath, shellValue, valueKey } from './documents.ts';
import { compileFilter, type Matcher } from './query.ts';

export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
}

export const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/** MongoDB's default name for a key pattern: field_direction pairs joined by underscores. */
export function defaultIndexName(key: Document): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}_${v}`)
    .join('_');
}

export function validateIndexSpec(raw: Document): IndexSpec {
  const key = raw.key;
  if (!key || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length === 0) {
    throw new CommandError('BadValue', `index specification needs a non-empty 'key' document: ${JSON.stringify(raw)}`);
  }
  for (const [field, dir] of Object.entries(key)) {
    const ok =
      dir === 1 ||
      dir === -1 ||
      (typeof dir === 'number' && dir !== 0) ||
      ['text', 'hashed', '2d', '2dsphere'].includes(dir as string);
    if (!field || !ok)
      throw new CommandError(
        'BadValue',
        `bad index key pattern ${JSON.stringify(key)}: field ${field} has value ${String(dir)}`,
      );
  }
  const name = raw.name ?? defaultIndexName(key);
  if (typeof name !== 'string' || !name) throw new CommandError('BadValue', `index name must be a non-empty string`);
  const spec: IndexSpec = { ...raw, v: 2, key: { ...key }, name };
  delete spec.ns;
  if (name === '_id_' && (Object.keys(key).length !== 1 || !('_id' in key))) {
    throw new CommandError('BadValue', `the index name _id_ is reserved for the _id index`);
  }
  return spec;
}

/** Index options that make two definitions with the same key different indexes. */
export function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  const pick = (s: IndexSpec) =>
    valueKey({ unique: !!s.unique, sparse: !!s.sparse, partial: s.partialFilterExpression ?? null });
  return pick(a) === pick(b);
}

export interface IndexKeys {
  keys: string[];
  /** The indexed values of the document, for error messages ({ field: value }). */
  keyValue: Document;
}

/** Enforces one unique index: indexed key → the _id key of the document holding it. */
export class UniqueIndex {
  private readonly owners = new Map<string, string>();
  private readonly partial: Matcher | undefined;
  private readonly fields: string[];

  constructor(
    readonly spec: IndexSpec,
    private readonly ns: string,
  ) {
    this.fields = Object.keys(spec.key);
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : undefined;
  }

  /** The keys a document contributes; null when the index leaves it out (sparse/partial). */
  keysOf(doc: Document): IndexKeys | null {
    if (this.partial && !this.partial(doc)) return null;
    const perField: unknown[][] = [];
    const keyValue: Document = {};
    let present = 0;
    for (const field of this.fields) {
      const v = getPath(doc, field);
      if (v !== undefined) present++;
      keyValue[field] = v === undefined ? null : v;
      perField.push(Array.isArray(v) && v.length ? dedupe(v) : [v]);
    }
    if (this.spec.sparse && present === 0) return null;
    let combos: string[] = [''];
    for (const values of perField) {
      const next: string[] = [];
      for (const prefix of combos) for (const v of values) next.push(`${prefix}|${valueKey(v)}`);
      combos = next;
    }
    return { keys: combos, keyValue };
  }

  /** Throws the duplicate-key error when a key of `doc` is held by another document. */
  check(doc: Document, idKey: string, keys: IndexKeys | null): void {
    if (!keys) return;
    for (const k of keys.keys) {
      const owner = this.owners.get(k);
      if (owner !== undefined && owner !== idKey) throw duplicateKeyError(this.ns, this.spec, keys.keyValue);
    }
  }

  add(idKey: string, keys: IndexKeys | null): void {
    if (keys) for (const k of keys.keys) this.owners.set(k, idKey);
  }

  remove(idKey: string, keys: IndexKeys | null): void {
    if (keys) for (const k of keys.keys) if (this.owners.get(k) === idKey) this.owners.delete(k);
  }
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Map<string, unknown>();
  for (const v of values) seen.set(valueKey(v), v);
  return [...seen.values()];
}

export function duplicateKeyError(ns: string, spec: IndexSpec, keyValue: Document): CommandError {
  const rendered = Object.entries(keyValue)
    .map(([k, v]) => `${k}: ${shellValue(v)}`)
    .join(', ');
  return new CommandError(
    'DuplicateKey',
    `E11000 duplicate key error collection: ${ns} index: ${spec.name} dup key: { ${rendered} }`,
    {
      keyPattern: spec.key,
      keyValue,
    },
  );
}
