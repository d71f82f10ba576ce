/**
 * Runs one command document: finds its handler, rejects what a standalone server refuses,
 * and turns every failure into MongoDB's error reply.
 */
import type { Document } from 'bson';
import type { Logger } from '../../logger.ts';
import { CommandError } from './command-error.ts';
import type { CommandContext, CommandTable, ServerFacts } from './commands/context.ts';
import type { Catalog } from './catalog.ts';
import type { CursorRegistry } from './cursors.ts';

export interface Dispatcher {
  run(command: Document, connectionId: number): Promise<Document>;
}

export interface DispatcherDeps {
  commands: CommandTable;
  catalog: Catalog;
  cursors: CursorRegistry;
  persist(db: string, name: string): Promise<void>;
  server: ServerFacts;
  log: Logger;
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  return {
    async run(command, connectionId) {
      const name = Object.keys(command)[0];
      const started = deps.server.now();
      try {
        const handler =
          name === undefined ? undefined : Object.hasOwn(deps.commands, name) ? deps.commands[name] : undefined;
        if (!handler) throw new CommandError('CommandNotFound', `no such command: '${name ?? ''}'`);
        if (typeof command.$db !== 'string')
          throw new CommandError('InvalidNamespace', `command ${name} names no database ($db)`);
        if (command.txnNumber !== undefined || command.startTransaction) {
          throw new CommandError(
            'IllegalOperation',
            'Transaction numbers are only allowed on a replica set member or mongos',
          );
        }
        deps.server.opcounters[name === 'getMore' ? 'getmore' : name === 'find' ? 'query' : 'command']++;
        const ctx: CommandContext = {
          db: command.$db,
          catalog: deps.catalog,
          cursors: deps.cursors,
          persist: deps.persist,
          connectionId,
          server: deps.server,
          log: deps.log,
        };
        const reply = await handler(command, ctx);
        deps.log.debug('command', {
          command: name,
          db: command.$db,
          connection: connectionId,
          ms: deps.server.now() - started,
        });
        return reply;
      } catch (err) {
        const ce =
          err instanceof CommandError ? err : new CommandError('InternalError', (err as Error)?.message ?? String(err));
        deps.log.debug('command failed', {
          command: name,
          db: command.$db,
          connection: connectionId,
          code: ce.code,
          error: ce.message,
        });
        if (!(err instanceof CommandError)) deps.log.warn('command failed unexpectedly', { command: name, err });
        return ce.toResponse();
      }
    },
  };
}
