/**
 * Query, projection, aggregation and update semantics, delegated to mingo. Mingo's failures
 * become MongoDB-shaped command errors.
 */
import { Aggregator, Query } from 'mingo';
import { updateOne } from 'mingo/updater';
import type { Document } from 'bson';
import { CommandError } from './command-error.ts';
import { checkStorable, cloneValue, valueKey } from './documents.ts';

export interface QueryEnv {
  /** Documents of another collection of the same database ($lookup, $unionWith, ...). */
  resolveCollection(name: string): Document[];
  collation?: Document;
}

type MingoOptions = ConstructorParameters<typeof Query>[1];

function mingoOptions(env: QueryEnv | undefined): MingoOptions {
  return {
    scriptEnabled: false,
    useStrictMode: true,
    ...(env ? { collectionResolver: (name: string) => env.resolveCollection(name) } : {}),
    ...(env?.collation ? { collation: env.collation as never } : {}),
  };
}

function asCommandError(err: unknown): never {
  if (err instanceof CommandError) throw err;
  const message = (err as Error)?.message ?? String(err);
  throw new CommandError(/immutable field/i.test(message) ? 'ImmutableField' : 'BadValue', message);
}

export type Matcher = (doc: Document) => boolean;

export function compileFilter(filter: Document | undefined, env?: QueryEnv): Matcher {
  if (!filter || Object.keys(filter).length === 0) return () => true;
  try {
    const q = new Query(filter, mingoOptions(env));
    return (doc) => q.test(doc);
  } catch (err) {
    asCommandError(err);
  }
}

export interface FindSpec {
  filter?: Document;
  sort?: Document;
  projection?: Document;
  skip?: number;
  limit?: number;
}

export function findDocuments(source: Document[], spec: FindSpec, env?: QueryEnv): Document[] {
  try {
    const q = new Query(spec.filter ?? {}, mingoOptions(env));
    let cursor = q.find<Document>(
      source,
      spec.projection && Object.keys(spec.projection).length ? spec.projection : {},
    );
    if (spec.sort && Object.keys(spec.sort).length) cursor = cursor.sort(spec.sort as never);
    if (spec.skip) cursor = cursor.skip(spec.skip);
    if (spec.limit) cursor = cursor.limit(spec.limit);
    return cursor.all();
  } catch (err) {
    asCommandError(err);
  }
}

/** Refused stages: they would write through a path that bypasses indexes and persistence. */
const REFUSED_STAGES = new Set(['$out', '$merge']);

export function aggregateDocuments(source: Document[], pipeline: Document[], env?: QueryEnv): Document[] {
  for (const stage of pipeline) {
    const op = Object.keys(stage)[0];
    if (REFUSED_STAGES.has(op)) {
      throw new CommandError(
        'CommandNotSupported',
        `${op} is not supported by the embedded store; read the results and write them with insert/update instead`,
      );
    }
  }
  try {
    return new Aggregator(pipeline, mingoOptions(env)).run(source) as Document[];
  } catch (err) {
    asCommandError(err);
  }
}

export function isOperatorUpdate(update: Document): boolean {
  const keys = Object.keys(update);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length && ops.length !== keys.length) {
    throw new CommandError('FailedToParse', `update document mixes operators and fields: ${keys.join(', ')}`);
  }
  return ops.length > 0;
}

const SUPPORTED_OPERATORS = new Set([
  '$addToSet',
  '$bit',
  '$currentDate',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$rename',
  '$set',
  '$unset',
  '$setOnInsert',
]);

export interface UpdateSpec {
  update: Document | Document[];
  filter: Document;
  arrayFilters?: Document[];
  /** True when the document is being created by an upsert ($setOnInsert applies). */
  inserting: boolean;
}

/** Applies an update (operators, replacement or pipeline) to a copy of `doc`; returns the new document. */
export function applyUpdate(doc: Document, spec: UpdateSpec, env?: QueryEnv): Document {
  const { update } = spec;
  let result: Document;
  if (Array.isArray(update)) {
    result = runMingoUpdate(doc, update, spec, env);
  } else if (isOperatorUpdate(update)) {
    const modifier: Document = {};
    for (const [op, expr] of Object.entries(update)) {
      if (!SUPPORTED_OPERATORS.has(op))
        throw new CommandError(
          'FailedToParse',
          `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
        );
      if (op === '$setOnInsert') continue;
      modifier[op] = expr;
    }
    if (spec.inserting && update.$setOnInsert) modifier.$set = { ...(modifier.$set ?? {}), ...update.$setOnInsert };
    result = Object.keys(modifier).length ? runMingoUpdate(doc, modifier, spec, env) : cloneValue(doc);
  } else {
    if (update._id !== undefined && doc._id !== undefined && valueKey(update._id) !== valueKey(doc._id)) {
      throw new CommandError(
        'ImmutableField',
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${String(update._id)}`,
      );
    }
    const { _id: newId, ...rest } = cloneValue(update);
    const id = doc._id ?? newId;
    result = id === undefined ? rest : { _id: id, ...rest };
  }
  if (doc._id !== undefined && valueKey(result._id) !== valueKey(doc._id)) {
    throw new CommandError(
      'ImmutableField',
      `Performing an update on the path '_id' would modify the immutable field '_id'`,
    );
  }
  checkStorable(result);
  return result;
}

function usesPositional(modifier: Document): boolean {
  return Object.values(modifier).some(
    (expr) => expr && typeof expr === 'object' && Object.keys(expr).some((p) => /\.\$(\.|$)/.test(p)),
  );
}

function runMingoUpdate(doc: Document, modifier: Document | Document[], spec: UpdateSpec, env?: QueryEnv): Document {
  const docs = [cloneValue(doc)];
  const condition = !Array.isArray(modifier) && usesPositional(modifier) ? spec.filter : {};
  try {
    updateOne(
      docs,
      condition,
      modifier as never,
      { arrayFilters: spec.arrayFilters, cloneMode: 'deep' },
      mingoOptions(env),
    );
  } catch (err) {
    asCommandError(err);
  }
  return docs[0];
}

/** The document an upsert starts from: the equality fields of its filter. */
export function seedFromFilter(filter: Document): Document {
  const seed: Document = {};
  const visit = (f: Document) => {
    for (const [key, value] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(value)) {
        for (const clause of value) visit(clause as Document);
        continue;
      }
      if (key.startsWith('$')) continue;
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.getPrototypeOf(value) === Object.prototype
      ) {
        const keys = Object.keys(value);
        if (keys.length && keys.every((k) => k.startsWith('$'))) {
          if ('$eq' in value) setPath(seed, key, cloneValue((value as Document).$eq));
          continue;
        }
      }
      if (value instanceof RegExp) continue;
      setPath(seed, key, cloneValue(value));
    }
  };
  visit(filter);
  return seed;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = doc;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Document;
  }
  cur[parts[parts.length - 1]] = value;
}
