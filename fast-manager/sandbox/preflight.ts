/**
 * The start-up check of the sandbox: runs `/bin/sh -c 'exit 0'` through the sandbox launcher,
 * exactly as a replica runs (its own uid, namespaces, cgroup, a workspace), and tells what went
 * wrong when it does not exit 0 within a few seconds.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ReplicaLauncher } from '../replicas/launcher.ts';

export async function runPreflight(o: {
  launcher: ReplicaLauncher;
  dataDir: string;
  platformRoot: string;
  timeoutMs?: number;
}): Promise<string | undefined> {
  const id = `sandbox-check-${randomBytes(4).toString('hex')}`;
  const dir = join(o.dataDir, 'replicas', id);
  const ws = { dir, secretsDir: join(dir, 'secrets'), tmpDir: join(dir, 'tmp') };
  try {
    mkdirSync(ws.secretsDir, { recursive: true, mode: 0o700 });
    const proc = o.launcher.launch({
      replicaId: id,
      namespace: 'sandbox-check',
      name: 'sandbox-check',
      argv: ['/bin/sh', '-c', 'test -d /proc/self && exit 0'],
      cwd: o.platformRoot,
      env: { PATH: '/usr/bin:/bin' },
      port: 0,
      workspace: ws,
    });
    let output = '';
    proc.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), o.timeoutMs ?? 10_000)));
    const res = await Promise.race([proc.exited, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') {
      proc.signal?.('SIGKILL');
      await proc.exited;
      return 'it did not finish within 10 s';
    }
    if (res.error) return res.error.message;
    if (res.code !== 0)
      return `exit ${res.code ?? res.signal}${output.trim() ? `: ${output.trim().slice(0, 500)}` : ''}`;
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
