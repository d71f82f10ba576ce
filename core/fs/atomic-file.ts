/**
 * Atomic replacement of a small file with node's fs: the content goes to a temporary file in the
 * same folder (created 0600, `<file>.tmp-<pid>-<n>`), is fsynced, renamed over the file, and the
 * folder is fsynced so the rename itself survives a crash. A reader sees the old content or the
 * new one, never a mix; a crash leaves at worst a temporary file, which readers never take for
 * the file (`isTempOf`) and `removeTempFiles` clears. Used by the node agent's replica records; the
 * embedded store's persister shares `fsyncDir`.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const TEMP_MARK = '.tmp-';
let counter = 0;

/** True when `name` (a file name in the same folder) is a temporary file of `file`. */
export function isTempOf(file: string, name: string): boolean {
  return name.startsWith(`${basename(file)}${TEMP_MARK}`);
}

export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}${TEMP_MARK}${process.pid}-${++counter}`;
  const fh = await open(temp, 'wx', mode);
  try {
    try {
      await fh.chmod(mode); // whatever the umask
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/**
 * Removes the temporary files an interrupted write of `file` left (those of other processes: a
 * write of this one may be in progress); returns their names.
 */
export async function removeTempFiles(file: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dirname(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const mine = `${basename(file)}${TEMP_MARK}${process.pid}-`;
  const temps = names.filter((n) => isTempOf(file, n) && !n.startsWith(mine)).sort();
  await Promise.all(temps.map((n) => rm(join(dirname(file), n), { force: true })));
  return temps;
}

/** Fsyncs a folder, so that a rename or a new entry in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
