/**
 * Write commands: insert, update, delete and findAndModify. Each is answered only after the
 * collection's snapshot holding the change is durable.
 */
import type { Document } from 'bson';
import { CommandError, toWriteError } from '../command-error.ts';
import type { Collection } from '../collection.ts';
import { valueKey } from '../documents.ts';
import { applyUpdate, compileFilter, findDocuments, isOperatorUpdate, seedFromFilter } from '../query.ts';
import { collectionArg, optionalArray, optionalDoc, optionalInt, requiredArray } from './args.ts';
import type { CommandContext, CommandTable } from './context.ts';
import { queryEnv } from './read.ts';

interface BatchOutcome {
  writeErrors: Document[];
}

/** Runs each statement, collecting write errors; an ordered batch stops at the first one. */
function runBatch<T>(statements: T[], ordered: boolean, run: (stmt: T, index: number) => void): BatchOutcome {
  const writeErrors: Document[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      run(statements[i], i);
    } catch (err) {
      const ce =
        err instanceof CommandError ? err : new CommandError('InternalError', (err as Error)?.message ?? String(err));
      writeErrors.push(toWriteError(i, ce));
      if (ordered) break;
    }
  }
  return { writeErrors };
}

function withErrors(result: Document, outcome: BatchOutcome): Document {
  return outcome.writeErrors.length ? { ...result, writeErrors: outcome.writeErrors } : result;
}

async function insert(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'insert');
  const documents = requiredArray(cmd, 'documents');
  const { coll, created } = ctx.catalog.ensure(ctx.db, name);
  let n = 0;
  const outcome = runBatch(documents, cmd.ordered !== false, (doc) => {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      throw new CommandError('TypeMismatch', 'each inserted document must be an object');
    coll.insert(doc);
    n++;
  });
  ctx.server.opcounters.insert += documents.length;
  if (n || created) await ctx.persist(ctx.db, name);
  return withErrors({ n, ok: 1 }, outcome);
}

function isReplacement(u: unknown): boolean {
  return !Array.isArray(u) && !isOperatorUpdate(u as Document);
}

async function update(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'update');
  const statements = requiredArray(cmd, 'updates');
  let target: Collection | undefined = ctx.catalog.get(ctx.db, name);
  let created = false;
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const outcome = runBatch(statements, cmd.ordered !== false, (stmt, index) => {
    const q = optionalDoc(stmt, 'q') ?? {};
    const u = stmt.u;
    if (u === null || typeof u !== 'object')
      throw new CommandError('FailedToParse', `BSON field 'u' must be an update document or pipeline`);
    const replacement = isReplacement(u);
    if (stmt.multi && replacement)
      throw new CommandError('FailedToParse', 'multi update is not supported for replacement-style update');
    const env = queryEnv(stmt, ctx);
    const spec = {
      update: u as Document,
      filter: q,
      arrayFilters: optionalArray(stmt, 'arrayFilters'),
      inserting: false,
    };
    const match = compileFilter(q, env);
    let matched = target ? target.candidates(q).filter(match) : [];
    if (!stmt.multi) matched = matched.slice(0, 1);
    if (matched.length === 0 && stmt.upsert) {
      const seed = seedFromFilter(q);
      const base = replacement ? (seed._id !== undefined ? { _id: seed._id } : {}) : seed;
      const doc = applyUpdate(base, { ...spec, inserting: true }, env);
      if (!target) ({ coll: target, created } = ctx.catalog.ensure(ctx.db, name));
      const stored = target.insert(doc);
      upserted.push({ index, _id: stored._id });
      n++;
      return;
    }
    for (const doc of matched) {
      const next = applyUpdate(doc, spec, env);
      n++;
      if (valueKey(next) !== valueKey(doc)) {
        target!.replace(doc, next);
        nModified++;
      }
    }
  });
  ctx.server.opcounters.update += statements.length;
  if (nModified || upserted.length || created) await ctx.persist(ctx.db, name);
  return withErrors({ n, nModified, ...(upserted.length ? { upserted } : {}), ok: 1 }, outcome);
}

async function remove(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'delete');
  const statements = requiredArray(cmd, 'deletes');
  const coll = ctx.catalog.get(ctx.db, name);
  let n = 0;
  const outcome = runBatch(statements, cmd.ordered !== false, (stmt) => {
    const q = optionalDoc(stmt, 'q') ?? {};
    const limit = optionalInt(stmt, 'limit');
    if (limit !== 0 && limit !== 1)
      throw new CommandError(
        'FailedToParse',
        `BSON field 'limit' must be 0 (all matching) or 1 (one), got ${String(stmt.limit)}`,
      );
    if (!coll) return;
    const match = compileFilter(q, queryEnv(stmt, ctx));
    let matched = coll.candidates(q).filter(match);
    if (limit === 1) matched = matched.slice(0, 1);
    for (const doc of matched) coll.remove(doc);
    n += matched.length;
  });
  ctx.server.opcounters.delete += statements.length;
  if (n) await ctx.persist(ctx.db, name);
  return withErrors({ n, ok: 1 }, outcome);
}

async function findAndModify(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = collectionArg(cmd, 'findAndModify');
  const query = optionalDoc(cmd, 'query') ?? {};
  const fields = optionalDoc(cmd, 'fields');
  const u = cmd.update;
  if (cmd.remove && u !== undefined)
    throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true');
  if (!cmd.remove && (u === undefined || u === null || typeof u !== 'object'))
    throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified');
  if (cmd.remove && cmd.upsert)
    throw new CommandError('FailedToParse', 'Cannot specify both upsert=true and remove=true');
  const env = queryEnv(cmd, ctx);
  const project = (doc: Document | undefined | null) =>
    (doc && fields && Object.keys(fields).length ? findDocuments([doc], { projection: fields }, env)[0] : doc) ?? null;
  let coll = ctx.catalog.get(ctx.db, name);
  const found = coll
    ? findDocuments(coll.candidates(query), { filter: query, sort: optionalDoc(cmd, 'sort'), limit: 1 }, env)[0]
    : undefined;
  const result = await (async (): Promise<Document> => {
    if (cmd.remove) {
      if (!found || !coll) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      coll.remove(found);
      await ctx.persist(ctx.db, name);
      return { lastErrorObject: { n: 1 }, value: project(found), ok: 1 };
    }
    const spec = {
      update: u as Document,
      filter: query,
      arrayFilters: optionalArray(cmd, 'arrayFilters'),
      inserting: false,
    };
    if (found && coll) {
      const next = applyUpdate(found, spec, env);
      if (valueKey(next) !== valueKey(found)) {
        coll.replace(found, next);
        await ctx.persist(ctx.db, name);
      }
      return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(cmd.new ? next : found), ok: 1 };
    }
    if (!cmd.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const seed = seedFromFilter(query);
    const base = isReplacement(u) ? (seed._id !== undefined ? { _id: seed._id } : {}) : seed;
    const doc = applyUpdate(base, { ...spec, inserting: true }, env);
    coll = ctx.catalog.ensure(ctx.db, name).coll;
    const stored = coll.insert(doc);
    await ctx.persist(ctx.db, name);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: stored._id },
      value: cmd.new ? project(stored) : null,
      ok: 1,
    };
  })();
  ctx.server.opcounters.update++;
  return result;
}

export const writeCommands: CommandTable = {
  insert,
  update,
  delete: remove,
  findAndModify,
  findandmodify: findAndModify,
};
