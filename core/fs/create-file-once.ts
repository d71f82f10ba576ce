/**
 * Makes a file with `content` and mode 0600 unless it exists, atomically: the content is written
 * and fsynced under a temporary name and hard-linked into place, which fails when another process
 * got there first. So no reader ever sees the file half-written, and processes that start at
 * once all end up reading the one file that won. Used for the platform's credentials made at
 * first start (the node agent token, the secrets key).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** True when this call made the file; false when it already existed (its content is left as it is). */
export async function createFileOnce(path: string, content: string | Buffer): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(temp, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // whatever the umask
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}
