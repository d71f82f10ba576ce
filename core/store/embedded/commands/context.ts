/**
 * What a command handler gets: the database it runs against, the catalog, cursors, a way to
 * wait for durability, and facts about the server and the connection.
 */
import type { Document } from 'bson';
import type { Logger } from '../../../logger.ts';
import type { Catalog } from '../catalog.ts';
import type { CursorRegistry } from '../cursors.ts';

export interface ServerFacts {
  host: string;
  port: number;
  dataDir: string;
  startedAt: number;
  now(): number;
  /** Connections currently open and opened since start. */
  connections(): { current: number; totalCreated: number };
  opcounters: Record<'insert' | 'query' | 'update' | 'delete' | 'getmore' | 'command', number>;
}

export interface CommandContext {
  db: string;
  catalog: Catalog;
  cursors: CursorRegistry;
  /** Resolves once the named collection's current state is durable. */
  persist(db: string, name: string): Promise<void>;
  connectionId: number;
  server: ServerFacts;
  log: Logger;
}

export type CommandHandler = (cmd: Document, ctx: CommandContext) => Document | Promise<Document>;
export type CommandTable = Record<string, CommandHandler>;
