/**
 * Test helper: a real embedded MongoDB-wire store in a fresh temporary directory, reached by
 * mongoose over a loopback socket. Call `cleanup()` in `after`/`afterEach`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../core/store/open-store.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';

export interface TestStore {
  store: Store;
  dataDir: string;
  cleanup(): Promise<void>;
}

export async function startTestStore(opts: { log?: Logger; dataDir?: string } = {}): Promise<TestStore> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'fastgshare-test-')));
  const store = await openStore({ dataDir, log: opts.log ?? silentLogger });
  return {
    store,
    dataDir,
    async cleanup() {
      await store.close();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function tempDir(prefix = 'fastgshare-test-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
