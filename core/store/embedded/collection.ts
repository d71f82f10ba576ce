/**
 * One collection in memory: documents in insertion order keyed by _id, plus its indexes.
 * Stored documents are never changed in place: an update stores a new object, so documents
 * already handed to a cursor keep the state they had when read.
 */
import type { Document } from 'bson';
import { CommandError } from './command-error.ts';
import { checkStorable, valueKey, withId } from './documents.ts';
import { duplicateKeyError, ID_INDEX, sameOptions, UniqueIndex, validateIndexSpec, type IndexSpec } from './indexes.ts';

export interface CollectionState {
  options: Document;
  indexes: IndexSpec[];
  documents: Document[];
}

export class Collection {
  private readonly docs = new Map<string, Document>();
  private specs: IndexSpec[] = [ID_INDEX];
  private uniques: UniqueIndex[] = [];

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document = {},
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get count(): number {
    return this.docs.size;
  }

  /** All documents in natural order. Callers must not modify them. */
  documents(): Document[] {
    return [...this.docs.values()];
  }

  /** Documents that may match `filter`: one lookup when it names an exact _id, else all. */
  candidates(filter: Document | undefined): Document[] {
    const id = filter?._id;
    if (id === undefined || !isExactValue(id)) return this.documents();
    const doc = this.docs.get(valueKey(id));
    return doc ? [doc] : [];
  }

  insert(raw: Document): Document {
    checkStorable(raw);
    const doc = withId(raw);
    const id = valueKey(doc._id);
    if (this.docs.has(id)) throw duplicateKeyError(this.ns, ID_INDEX, { _id: doc._id });
    const keys = this.uniques.map((ix) => ix.keysOf(doc));
    this.uniques.forEach((ix, i) => ix.check(doc, id, keys[i]));
    this.uniques.forEach((ix, i) => ix.add(id, keys[i]));
    this.docs.set(id, doc);
    return doc;
  }

  /** Stores `next` in place of `current` (same _id), enforcing unique indexes. */
  replace(current: Document, next: Document): void {
    const id = valueKey(current._id);
    if (valueKey(next._id) !== id) throw new CommandError('ImmutableField', `the _id of a document cannot change`);
    if (this.docs.get(id) !== current)
      throw new CommandError('InternalError', `document ${id} changed while it was being updated`);
    const before = this.uniques.map((ix) => ix.keysOf(current));
    const after = this.uniques.map((ix) => ix.keysOf(next));
    this.uniques.forEach((ix, i) => ix.check(next, id, after[i]));
    this.uniques.forEach((ix, i) => {
      ix.remove(id, before[i]);
      ix.add(id, after[i]);
    });
    this.docs.set(id, next);
  }

  remove(doc: Document): void {
    const id = valueKey(doc._id);
    if (!this.docs.delete(id)) return;
    for (const ix of this.uniques) ix.remove(id, ix.keysOf(doc));
  }

  indexes(): IndexSpec[] {
    return this.specs.map((s) => ({ ...s }));
  }

  /** Adds an index; false when an identical one already exists. */
  createIndex(raw: Document): boolean {
    const spec = validateIndexSpec(raw);
    const sameName = this.specs.find((s) => s.name === spec.name);
    const sameKey = this.specs.find((s) => valueKey(s.key) === valueKey(spec.key) && sameOptions(s, spec));
    if (sameName) {
      if (valueKey(sameName.key) === valueKey(spec.key) && sameOptions(sameName, spec)) return false;
      throw new CommandError(
        'IndexKeySpecsConflict',
        `An existing index has the same name (${spec.name}) as the requested index but a different key or options: existing ${JSON.stringify(sameName.key)}, requested ${JSON.stringify(spec.key)}`,
      );
    }
    if (sameKey) {
      throw new CommandError(
        'IndexOptionsConflict',
        `Index already exists with a different name: ${sameKey.name} (requested ${spec.name})`,
      );
    }
    if (spec.name === '_id_') return false;
    if (spec.unique) {
      const ix = new UniqueIndex(spec, this.ns);
      for (const [id, doc] of this.docs) {
        const keys = ix.keysOf(doc);
        ix.check(doc, id, keys);
        ix.add(id, keys);
      }
      this.uniques.push(ix);
    }
    this.specs.push(spec);
    return true;
  }

  /** Drops an index by name or key pattern ('*' drops all but _id_). */
  dropIndex(which: string | Document): void {
    if (which === '*') {
      this.specs = [ID_INDEX];
      this.uniques = [];
      return;
    }
    const spec =
      typeof which === 'string'
        ? this.specs.find((s) => s.name === which)
        : this.specs.find((s) => valueKey(s.key) === valueKey(which));
    if (!spec)
      throw new CommandError(
        'IndexNotFound',
        `index not found with ${typeof which === 'string' ? `name [${which}]` : `key pattern ${JSON.stringify(which)}`}`,
      );
    if (spec.name === '_id_') throw new CommandError('InvalidOptions', 'cannot drop _id index');
    this.specs = this.specs.filter((s) => s !== spec);
    this.uniques = this.uniques.filter((ix) => ix.spec !== spec);
  }

  state(): CollectionState {
    return { options: this.options, indexes: this.indexes(), documents: this.documents() };
  }

  /** Rebuilds a collection from a snapshot; duplicates there mean the snapshot is not usable. */
  static restore(db: string, name: string, state: CollectionState): Collection {
    const coll = new Collection(db, name, state.options);
    for (const spec of state.indexes) coll.createIndex(spec);
    for (const doc of state.documents) coll.insert(doc);
    return coll;
  }
}

function isExactValue(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v) || v instanceof RegExp) return false;
  if (Object.getPrototypeOf(v) === Object.prototype) return !Object.keys(v).some((k) => k.startsWith('$'));
  return true; // ObjectId, Date, Binary, ...
}
