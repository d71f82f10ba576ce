/**
 * Commands on databases, collections and indexes.
 */
import type { Document } from 'bson';
import { CommandError } from '../command-error.ts';
import { checkDbName } from '../catalog.ts';
import { compileFilter } from '../query.ts';
import { collectionArg, ns, optionalDoc, optionalInt, requiredArray } from './args.ts';
import type { CommandContext, CommandTable } from './context.ts';

const ID_INDEX_INFO = { v: 2, key: { _id: 1 }, name: '_id_' };
const CREATE_OPTIONS = new Set([
  'capped',
  'size',
  'max',
  'validator',
  'validationLevel',
  'validationAction',
  'collation',
  'timeseries',
  'expireAfterSeconds',
  'clusteredIndex',
  'changeStreamPreAndPostImages',
  'storageEngine',
  'indexOptionDefaults',
  'viewOn',
  'pipeline',
]);
const UNSUPPORTED_CREATE = ['viewOn', 'timeseries', 'capped', 'clusteredIndex'];

async function create(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'create');
  for (const opt of UNSUPPORTED_CREATE) {
    if (cmd[opt])
      throw new CommandError(
        'CommandNotSupported',
        `the embedded store does not support '${opt}' collections; create a plain collection`,
      );
  }
  if (ctx.catalog.get(ctx.db, name))
    throw new CommandError('NamespaceExists', `Collection ${ns(ctx.db, name)} already exists.`);
  const options: Document = {};
  for (const [k, v] of Object.entries(cmd)) if (CREATE_OPTIONS.has(k)) options[k] = v;
  ctx.catalog.ensure(ctx.db, name, options);
  await ctx.persist(ctx.db, name);
  return { ok: 1 };
}

async function drop(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'drop');
  const coll = ctx.catalog.get(ctx.db, name);
  if (!coll) throw new CommandError('NamespaceNotFound', 'ns not found');
  const nIndexesWas = coll.indexes().length;
  ctx.catalog.drop(ctx.db, name);
  await ctx.persist(ctx.db, name);
  return { nIndexesWas, ns: coll.ns, ok: 1 };
}

async function dropDatabase(_cmd: Document, ctx: CommandContext): Promise<Document> {
  const names = ctx.catalog.collections(ctx.db).map((c) => c.name);
  for (const name of names) ctx.catalog.drop(ctx.db, name);
  await Promise.all(names.map((name) => ctx.persist(ctx.db, name)));
  return { dropped: ctx.db, ok: 1 };
}

function listCollections(cmd: Document, ctx: CommandContext): Document {
  checkDbName(ctx.db);
  const filter = compileFilter(optionalDoc(cmd, 'filter'));
  const nameOnly = cmd.nameOnly === true;
  const infos = ctx.catalog
    .collections(ctx.db)
    .map((c) => ({
      name: c.name,
      type: 'collection',
      options: { ...c.options },
      info: { readOnly: false },
      idIndex: ID_INDEX_INFO,
    }))
    .filter((info) => filter(info))
    .map((info) => (nameOnly ? { name: info.name, type: info.type } : info));
  const cursorOpts = optionalDoc(cmd, 'cursor');
  const batch = ctx.cursors.open(
    `${ctx.db}.$cmd.listCollections`,
    infos,
    optionalInt(cursorOpts ?? {}, 'batchSize', { min: 0 }),
  );
  return { cursor: { id: batch.id, ns: `${ctx.db}.$cmd.listCollections`, firstBatch: batch.docs }, ok: 1 };
}

async function createIndexes(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'createIndexes');
  const specs = requiredArray(cmd, 'indexes');
  if (specs.length === 0) throw new CommandError('BadValue', 'Must specify at least one index to create');
  const { coll, created } = ctx.catalog.ensure(ctx.db, name);
  const before = coll.indexes().length;
  let added = 0;
  try {
    for (const spec of specs) if (coll.createIndex(spec)) added++;
  } finally {
    if (created || added) await ctx.persist(ctx.db, name);
  }
  const after = coll.indexes().length;
  return {
    createdCollectionAutomatically: created,
    numIndexesBefore: before,
    numIndexesAfter: after,
    ...(added < specs.length ? { note: added ? 'some indexes already exist' : 'all indexes already exist' } : {}),
    ok: 1,
  };
}

function listIndexes(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'listIndexes');
  const coll = ctx.catalog.get(ctx.db, name);
  if (!coll) throw new CommandError('NamespaceNotFound', `ns does not exist: ${ns(ctx.db, name)}`);
  const cursorOpts = optionalDoc(cmd, 'cursor');
  const batch = ctx.cursors.open(coll.ns, coll.indexes(), optionalInt(cursorOpts ?? {}, 'batchSize', { min: 0 }));
  return { cursor: { id: batch.id, ns: coll.ns, firstBatch: batch.docs }, ok: 1 };
}

async function dropIndexes(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'dropIndexes');
  const coll = ctx.catalog.get(ctx.db, name);
  if (!coll) throw new CommandError('NamespaceNotFound', `ns not found ${ns(ctx.db, name)}`);
  const nIndexesWas = coll.indexes().length;
  const which = cmd.index;
  if (Array.isArray(which)) for (const n of which) coll.dropIndex(String(n));
  else if (typeof which === 'string' || (which && typeof which === 'object'))
    coll.dropIndex(which as string | Document);
  else
    throw new CommandError(
      'FailedToParse',
      `BSON field 'index' must name an index, a key pattern, a list of names or '*'`,
    );
  await ctx.persist(ctx.db, name);
  return { nIndexesWas, ok: 1 };
}

export const ddlCommands: CommandTable = {
  create,
  drop,
  dropDatabase,
  listCollections,
  createIndexes,
  listIndexes,
  dropIndexes,
};
