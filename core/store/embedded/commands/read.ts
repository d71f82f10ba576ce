/**
 * Read commands: find with cursors, getMore, killCursors, count, distinct, aggregate.
 */
import { Long, type Document } from 'bson';
import { CommandError } from '../command-error.ts';
import { getPath, valueKey } from '../documents.ts';
import { aggregateDocuments, compileFilter, findDocuments, type QueryEnv } from '../query.ts';
import { collectionArg, ns, optionalDoc, optionalInt, requiredArray } from './args.ts';
import type { CommandContext, CommandTable } from './context.ts';

export function queryEnv(cmd: Document, ctx: CommandContext): QueryEnv {
  return {
    resolveCollection: (name) => ctx.catalog.get(ctx.db, name)?.documents() ?? [],
    collation: optionalDoc(cmd, 'collation'),
  };
}

function find(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'find');
  const filter = optionalDoc(cmd, 'filter') ?? {};
  const rawLimit = optionalInt(cmd, 'limit') ?? 0;
  const coll = ctx.catalog.get(ctx.db, name);
  const docs = coll
    ? findDocuments(
        coll.candidates(filter),
        {
          filter,
          sort: optionalDoc(cmd, 'sort'),
          projection: optionalDoc(cmd, 'projection'),
          skip: optionalInt(cmd, 'skip', { min: 0 }),
          limit: Math.abs(rawLimit),
        },
        queryEnv(cmd, ctx),
      )
    : [];
  const singleBatch = cmd.singleBatch === true || rawLimit < 0;
  const batch = ctx.cursors.open(ns(ctx.db, name), docs, optionalInt(cmd, 'batchSize', { min: 0 }), singleBatch);
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns: ns(ctx.db, name) }, ok: 1 };
}

function getMore(cmd: Document, ctx: CommandContext): Document {
  const id = cmd.getMore;
  if (typeof id !== 'number' && !(id instanceof Long))
    throw new CommandError('TypeMismatch', `BSON field 'getMore' must be a cursor id (long)`);
  if (typeof cmd.collection !== 'string' || !cmd.collection)
    throw new CommandError('TypeMismatch', `BSON field 'collection' must be a string`);
  const namespace = ns(ctx.db, cmd.collection);
  const batch = ctx.cursors.next(id, namespace, optionalInt(cmd, 'batchSize', { min: 0 }));
  return { cursor: { nextBatch: batch.docs, id: batch.id, ns: namespace }, ok: 1 };
}

function killCursors(cmd: Document, ctx: CommandContext): Document {
  const ids = requiredArray(cmd, 'cursors') as unknown[];
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const id of ids) (ctx.cursors.kill(id) ? killed : notFound).push(Long.fromString(String(id)));
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function count(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'count');
  const coll = ctx.catalog.get(ctx.db, name);
  if (!coll) return { n: 0, ok: 1 };
  const query = optionalDoc(cmd, 'query') ?? {};
  const skip = optionalInt(cmd, 'skip', { min: 0 }) ?? 0;
  const limit = Math.abs(optionalInt(cmd, 'limit') ?? 0);
  let n: number;
  if (Object.keys(query).length === 0) n = coll.count;
  else {
    const match = compileFilter(query, queryEnv(cmd, ctx));
    n = coll.candidates(query).filter(match).length;
  }
  n = Math.max(0, n - skip);
  if (limit) n = Math.min(n, limit);
  return { n, ok: 1 };
}

function distinct(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'distinct');
  if (typeof cmd.key !== 'string' || !cmd.key)
    throw new CommandError('TypeMismatch', `BSON field 'key' must be a non-empty string`);
  const coll = ctx.catalog.get(ctx.db, name);
  if (!coll) return { values: [], ok: 1 };
  const query = optionalDoc(cmd, 'query') ?? {};
  const match = compileFilter(query, queryEnv(cmd, ctx));
  const seen = new Map<string, unknown>();
  for (const doc of coll.candidates(query)) {
    if (!match(doc)) continue;
    const v = getPath(doc, cmd.key);
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) {
      const k = valueKey(item);
      if (!seen.has(k)) seen.set(k, item);
    }
  }
  return { values: [...seen.values()], ok: 1 };
}

function aggregate(cmd: Document, ctx: CommandContext): Document {
  const target = cmd.aggregate;
  const pipeline = requiredArray(cmd, 'pipeline');
  let source: Document[];
  let namespace: string;
  if (target === 1) {
    source = [];
    namespace = `${ctx.db}.$cmd.aggregate`;
  } else {
    const name = collectionArg(cmd, 'aggregate');
    source = ctx.catalog.get(ctx.db, name)?.documents() ?? [];
    namespace = ns(ctx.db, name);
  }
  if (cmd.explain) throw new CommandError('CommandNotSupported', 'explain is not supported by the embedded store');
  const cursorOpts = optionalDoc(cmd, 'cursor');
  if (!cursorOpts)
    throw new CommandError(
      'FailedToParse',
      `The 'cursor' option is required, except for aggregate with the explain argument`,
    );
  const docs = aggregateDocuments(source, pipeline, queryEnv(cmd, ctx));
  const batch = ctx.cursors.open(namespace, docs, optionalInt(cursorOpts, 'batchSize', { min: 0 }));
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns: namespace }, ok: 1 };
}

export const readCommands: CommandTable = { find, getMore, killCursors, count, distinct, aggregate };
