/**
 * The embedded MongoDB-wire-compatible server: loads the snapshots under `dataDir`, then
 * listens on a TCP port and answers the MongoDB wire protocol, so mongoose and the mongodb
 * driver use it exactly as they use mongod. Writes are acknowledged once durable on disk.
 */
import net from 'node:net';
import type { Logger } from '../../logger.ts';
import { PlatformError } from '../../errors.ts';
import { Catalog } from './catalog.ts';
import { Collection } from './collection.ts';
import { COMMANDS } from './commands/registry.ts';
import type { ServerFacts } from './commands/context.ts';
import { serveConnection } from './connection.ts';
import { CursorRegistry } from './cursors.ts';
import { createDispatcher } from './dispatcher.ts';
import { lockDataDir } from './lock-file.ts';
import { corruptSnapshot, Persister } from './persister.ts';

export interface EmbeddedMongoOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  log: Logger;
  /** Clock for cursor expiry and reported times (tests inject one). */
  now?: () => number;
}

export interface EmbeddedMongo {
  /** mongodb://127.0.0.1:<port> (no trailing database). */
  uri: string;
  port: number;
  close(): Promise<void>;
}

const CURSOR_SWEEP_MS = 60_000;

export async function startEmbeddedMongo(opts: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  const log = opts.log;
  const lock = await lockDataDir(opts.dataDir);
  const catalog = new Catalog();
  const persister = new Persister(opts.dataDir, (db, name) => catalog.get(db, name)?.state(), log);
  try {
    for (const snap of await persister.loadAll()) {
      try {
        catalog.add(Collection.restore(snap.db, snap.name, snap.state));
      } catch (err) {
        throw corruptSnapshot(snap.file, err);
      }
    }
  } catch (err) {
    await lock.release();
    throw err;
  }

  const cursors = new CursorRegistry(now);
  const sockets = new Set<net.Socket>();
  const inFlight = new Set<Promise<void>>();
  let totalCreated = 0;
  let requestId = 0;
  const facts: ServerFacts = {
    host,
    port: 0,
    dataDir: opts.dataDir,
    startedAt: now(),
    now,
    connections: () => ({ current: sockets.size, totalCreated }),
    opcounters: { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 },
  };
  const dispatcher = createDispatcher({ commands: COMMANDS, catalog, cursors, persist: (db, name) => persister.persist(db, name), server: facts, log });

  const server = net.createServer((socket) => {
    const connectionId = ++totalCreated;
    sockets.add(socket);
    log.debug('connection accepted', { connection: connectionId, remote: `${socket.remoteAddress}:${socket.remotePort}` });
    const { done } = serveConnection(socket, { dispatcher, log, connectionId, nextRequestId: () => (requestId = (requestId + 1) | 0) });
    inFlight.add(done);
    void done.then(() => {
      sockets.delete(socket);
      inFlight.delete(done);
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await lock.release();
    throw new PlatformError('unavailable', `the embedded store cannot listen on ${host}:${opts.port ?? 0}: ${(err as Error).message}`, { cause: err });
  }
  server.on('error', (err) => log.error('embedded store server error', { err }));
  const port = (server.address() as net.AddressInfo).port;
  facts.port = port;
  const sweep = setInterval(() => {
    const n = cursors.expire();
    if (n) log.debug('expired idle cursors', { count: n });
  }, CURSOR_SWEEP_MS);
  sweep.unref();

  const collections = catalog.databases().reduce((n, db) => n + catalog.collections(db).length, 0);
  log.info('embedded MongoDB-wire store listening', { host, port, dir: opts.dataDir, collections });

  let closing: Promise<void> | undefined;
  return {
    uri: `mongodb://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
        await Promise.all(inFlight);
        await persister.settled();
        await lock.release();
        log.info('embedded store closed', { port });
      })();
      return closing;
    },
  };
}
