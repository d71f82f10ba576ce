/**
 * Test fixture: an embedded store on a loopback port in a fresh temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureSink, createLogger, type Logger } from '../../../core/logger.ts';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../../core/store/embedded/server.ts';

export interface EmbeddedFixture {
  server: EmbeddedMongo;
  dir: string;
  sink: CaptureSink;
  log: Logger;
  /** Starts a new server on the same directory (the current one must be closed first). */
  restart(): Promise<EmbeddedMongo>;
  cleanup(): Promise<void>;
}

export async function startEmbeddedFixture(): Promise<EmbeddedFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'fastgshare-embedded-'));
  const sink = new CaptureSink();
  const log = createLogger({ level: 'debug', sink });
  const fixture: EmbeddedFixture = {
    server: await startEmbeddedMongo({ dataDir: dir, log }),
    dir,
    sink,
    log,
    async restart() {
      fixture.server = await startEmbeddedMongo({ dataDir: dir, log });
      return fixture.server;
    },
    async cleanup() {
      await fixture.server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
