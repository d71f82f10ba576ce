/**
 * The embedded MongoDB-wire-compatible server: loads the snapshots under `dataDir`, then
 * listens and answers the MongoDB wire protocol, so mongoose and the mongodb driver use it
 * exactly as they use mongod. Writes are acknowledged once durable on disk.
 *
 * It has no authentication of its own, so by default it listens only on a unix socket,
 * `<dataDir>/mongod.sock`, mode 0600 inside the data dir made 0700 before the socket exists:
 * only the platform's own user can connect (mongodb://%2F...%2Fmongod.sock). A TCP port
 * (`port`, FASTGSHARE_STORE_PORT) is an explicit opt-in that any local process can reach.
 */
import net from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import { join } from 'node:path';
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
  /** TCP only: default 127.0.0.1. */
  host?: string;
  /** Listen on TCP at this port (0 = any free port) instead of the unix socket. Unauthenticated. */
  port?: number;
  /** The unix socket (default `<dataDir>/mongod.sock`); ignored with `port`. */
  socketPath?: string;
  log: Logger;
  /** Clock for cursor expiry and reported times (tests inject one). */
  now?: () => number;
}

export interface EmbeddedMongo {
  /** mongodb://%2F...%2Fmongod.sock, or mongodb://127.0.0.1:<port> on TCP (no trailing database). */
  uri: string;
  /** The TCP port; 0 on the unix socket. */
  port: number;
  /** The unix socket it listens on, when not on TCP. */
  socketPath?: string;
  close(): Promise<void>;
}

const CURSOR_SWEEP_MS = 60_000;
export const STORE_SOCKET_NAME = 'mongod.sock';
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;

export async function startEmbeddedMongo(opts: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const host = opts.host ?? '127.0.0.1';
  const tcp = opts.port !== undefined;
  const socketPath = tcp ? undefined : (opts.socketPath ?? join(opts.dataDir, STORE_SOCKET_NAME));
  if (socketPath && Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new PlatformError(
      'bad_request',
      `the embedded store's socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes (a unix socket limit): use a shorter FASTGSHARE_DATA_DIR`,
    );
  }
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
  const dispatcher = createDispatcher({
    commands: COMMANDS,
    catalog,
    cursors,
    persist: (db, name) => persister.persist(db, name),
    server: facts,
    log,
  });

  const server = net.createServer((socket) => {
    const connectionId = ++totalCreated;
    sockets.add(socket);
    log.debug('connection accepted', {
      connection: connectionId,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    });
    const { done } = serveConnection(socket, {
      dispatcher,
      log,
      connectionId,
      nextRequestId: () => (requestId = (requestId + 1) | 0),
    });
    inFlight.add(done);
    void done.then(() => {
      sockets.delete(socket);
      inFlight.delete(done);
    });
  });

  const where = socketPath ?? `${host}:${opts.port}`;
  try {
    if (socketPath) {
      // only this user may enter the directory, before the socket exists: no window in which another could connect
      await chmod(opts.dataDir, 0o700);
      await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      }); // left by a previous server of this (locked) directory
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const ready = () => {
        server.off('error', reject);
        resolve();
      };
      if (socketPath) server.listen(socketPath, ready);
      else server.listen(opts.port, host, ready);
    });
    if (socketPath) await chmod(socketPath, 0o600);
  } catch (err) {
    server.close();
    await lock.release();
    throw new PlatformError('unavailable', `the embedded store cannot listen on ${where}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  server.on('error', (err) => log.error('embedded store server error', { err }));
  const port = socketPath ? 0 : (server.address() as net.AddressInfo).port;
  facts.port = port;
  if (socketPath) facts.host = socketPath;
  const sweep = setInterval(() => {
    const n = cursors.expire();
    if (n) log.debug('expired idle cursors', { count: n });
  }, CURSOR_SWEEP_MS);
  sweep.unref();

  const collections = catalog.databases().reduce((n, db) => n + catalog.collections(db).length, 0);
  if (socketPath)
    log.info('embedded MongoDB-wire store listening', { socket: socketPath, dir: opts.dataDir, collections });
  else
    log.warn(
      'embedded MongoDB-wire store listening on TCP: any local process can read and change every record (it has no authentication); unset FASTGSHARE_STORE_PORT to use its private unix socket',
      { host, port, dir: opts.dataDir, collections },
    );

  let closing: Promise<void> | undefined;
  return {
    uri: socketPath
      ? `mongodb://${encodeURIComponent(socketPath)}`
      : `mongodb://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    ...(socketPath ? { socketPath } : {}),
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
        await Promise.all(inFlight);
        await persister.settled();
        if (socketPath) await unlink(socketPath).catch(() => undefined);
        await lock.release();
        log.info('embedded store closed', { where });
      })();
      return closing;
    },
  };
}
