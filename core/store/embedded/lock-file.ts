/**
 * Keeps two servers from using one data directory at once (they would overwrite each other's
 * snapshots). The lock names the holder's pid; a lock left by a process that is gone is taken over.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../errors.ts';
import { isProcessAlive } from '../../process-alive.ts';

export interface DirLock {
  release(): Promise<void>;
}

export const LOCK_NAME = 'LOCK';

export async function lockDataDir(dir: string): Promise<DirLock> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return { release: () => unlink(file).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && isProcessAlive(holder)) {
        throw new PlatformError(
          'conflict',
          `the store directory ${dir} is in use by process ${holder}${holder === process.pid ? ' (this process: close the other embedded store first)' : ''}; stop it or use another data directory`,
        );
      }
      await unlink(file).catch(() => undefined); // stale: its process is gone
    }
  }
  throw new PlatformError('conflict', `could not lock the store directory ${dir}`);
}
