/**
 * Opens the platform's durable store: MongoDB at MONGODB_URI when configured, otherwise the
 * embedded MongoDB-wire-compatible server (core/store/embedded) started in this process and
 * reached over a real socket (its private unix socket, or TCP when a port is asked for), so the
 * mongoose code path is the production one either way.
 */
import mongoose, { type Connection } from 'mongoose';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import { PlatformError } from '../errors.ts';
import { createModels, type Models } from './models.ts';
import { startEmbeddedMongo, type EmbeddedMongo } from './embedded/server.ts';
import { migrateStore } from './migrations.ts';

export interface Store {
  kind: 'mongodb' | 'embedded';
  /**
   * Connection string (embedded: mongodb://%2F<data>%2Fstore%2Fmongod.sock/fastgshare, or
   * mongodb://127.0.0.1:<port>/fastgshare).
   */
  uri: string;
  connection: Connection;
  models: Models;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  mongoUri?: string;
  dataDir: string;
  /** Serve the embedded store on this TCP port (0: any free port; unauthenticated) instead of its unix socket. */
  storePort?: number;
  log: Logger;
  /** Database name used with the embedded server and when the URI names none. */
  dbName?: string;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  let embedded: EmbeddedMongo | undefined;
  let uri = opts.mongoUri;
  if (!uri) {
    embedded = await startEmbeddedMongo({
      dataDir: join(opts.dataDir, 'store'),
      ...(opts.storePort !== undefined ? { port: opts.storePort } : {}),
      log: opts.log.child('store'),
    });
    uri = `${embedded.uri.replace(/\/$/, '')}/${opts.dbName ?? 'fastgshare'}`;
    opts.log.info('using the embedded MongoDB-wire store (set MONGODB_URI for a MongoDB server)', {
      uri,
      dir: join(opts.dataDir, 'store'),
    });
  } else {
    opts.log.info('using MongoDB', { uri: redact(uri) });
  }
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 5_000,
    ...(opts.mongoUri ? {} : { directConnection: true }),
  });
  try {
    await connection.asPromise();
  } catch (err) {
    await embedded?.close();
    throw new PlatformError('unavailable', `cannot connect to the store at ${redact(uri)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // migrations first: they change records an index built by init() could refuse
  let models: Models;
  try {
    await migrateStore(connection, opts.log.child('store'));
    models = createModels(connection);
    await Promise.all(Object.values(models).map((m) => m.init()));
  } catch (err) {
    await connection.close();
    await embedded?.close();
    throw new PlatformError('unavailable', `cannot prepare the store at ${redact(uri)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    kind: embedded ? 'embedded' : 'mongodb',
    uri,
    connection,
    models,
    async close() {
      await connection.close();
      await embedded?.close();
    },
  };
}

function redact(uri: string): string {
  return uri.replace(/\/\/([^@/]*)@/, '//***@');
}
