/**
 * A replica's private directory under `<dataDir>/replicas/<replicaId>/`: `secrets/` (0700) with one
 * 0600 file per secret holding its decoded bytes, and `tmp/` for TMPDIR. Removed when the
 * replica is stopped for good.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReplicaWorkspace {
  dir: string;
  secretsDir: string;
  tmpDir: string;
  remove(): Promise<void>;
}

export async function createWorkspace(
  dataDir: string,
  replicaId: string,
  secrets: Record<string, string>,
): Promise<ReplicaWorkspace> {
  const dir = join(dataDir, 'replicas', replicaId);
  const secretsDir = join(dir, 'secrets');
  const tmpDir = join(dir, 'tmp');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir(secretsDir, { recursive: true, mode: 0o700 });
  await chmod(secretsDir, 0o700);
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  for (const [name, value] of Object.entries(secrets)) {
    const file = join(secretsDir, name);
    await writeFile(file, Buffer.from(value, 'base64'), { mode: 0o600 });
    await chmod(file, 0o600);
  }
  return { dir, secretsDir, tmpDir, remove: () => rm(dir, { recursive: true, force: true }) };
}
