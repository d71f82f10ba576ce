/**
 * All databases and collections held by the server, with MongoDB's naming rules.
 */
import type { Document } from 'bson';
import { CommandError } from './command-error.ts';
import { Collection } from './collection.ts';

export function checkDbName(db: unknown): string {
  if (typeof db !== 'string' || !db || db.length > 63 || /[/\\. "$\0*<>:|?]/.test(db)) {
    throw new CommandError(
      'InvalidNamespace',
      `Invalid database name: '${String(db)}' (1-63 characters, none of /\\. "$*<>:|?)`,
    );
  }
  return db;
}

export function checkCollectionName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    !name ||
    name.includes('$') ||
    name.includes('\0') ||
    name.startsWith('.') ||
    name.endsWith('.')
  ) {
    throw new CommandError(
      'InvalidNamespace',
      `Invalid collection name: '${String(name)}' (non-empty, no '$' or NUL, not starting or ending with '.')`,
    );
  }
  if (name.startsWith('system.'))
    throw new CommandError('InvalidNamespace', `Invalid collection name: '${name}' (system collections are reserved)`);
  return name;
}

export class Catalog {
  private readonly dbs = new Map<string, Map<string, Collection>>();

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created (implicitly, as MongoDB does on first write) when missing. */
  ensure(db: string, name: string, options: Document = {}): { coll: Collection; created: boolean } {
    const existing = this.get(checkDbName(db), name);
    if (existing) return { coll: existing, created: false };
    const coll = new Collection(db, checkCollectionName(name), options);
    this.add(coll);
    return { coll, created: true };
  }

  add(coll: Collection): void {
    let colls = this.dbs.get(coll.db);
    if (!colls) this.dbs.set(coll.db, (colls = new Map()));
    colls.set(coll.name, coll);
  }

  drop(db: string, name: string): boolean {
    const colls = this.dbs.get(db);
    if (!colls?.delete(name)) return false;
    if (colls.size === 0) this.dbs.delete(db);
    return true;
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  databases(): string[] {
    return [...this.dbs.keys()];
  }
}
