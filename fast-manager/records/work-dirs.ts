/**
 * Replica work dirs (`<dataDir>/replicas/<replicaId>/`, with the plaintext of the replica's
 * secrets) that no live replica owns: at agent start, after the previous agent's replicas are
 * reaped, every one of them is removed, so secrets never pile up in dead replicas' folders.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export async function removeOrphanWorkDirs(dataDir: string, live: ReadonlySet<string> = new Set()): Promise<string[]> {
  const root = join(dataDir, 'replicas');
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const orphans = names.filter((n) => !live.has(n));
  await Promise.all(orphans.map((n) => rm(join(root, n), { recursive: true, force: true })));
  return orphans;
}
