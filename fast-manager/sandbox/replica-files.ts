/**
 * The host files a sandboxed replica uses, given to its uid before it starts: its scratch space
 * (emptied on every start, as a container's writable layer is, then 0700 to its uid), its
 * secrets (folder 0500, files 0400, its uid), the sockets it connects to (0666: the folders
 * above them are the agent's, 0700, so only replicas that have them bound in can reach them)
 * and its namespace's shared folders (root:<namespace gid>, 2770, so files made there belong to
 * the namespace's group and the replicas of other tenants never get in).
 */
import { chmodSync, chownSync, lchownSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ReplicaBind } from '../replicas/launcher.ts';

export interface ReplicaFilesInput {
  scratchDir: string;
  secretsDir: string;
  binds: readonly ReplicaBind[];
  uid: number;
  gid: number;
}

/** Namespace folders whose group was set (recursively) by this agent already. */
const regrouped = new Map<string, number>();

export function prepareReplicaFiles(i: ReplicaFilesInput): void {
  rmSync(i.scratchDir, { recursive: true, force: true });
  mkdirSync(i.scratchDir, { recursive: true, mode: 0o700 });
  chownSync(i.scratchDir, i.uid, i.gid);
  chmodSync(i.scratchDir, 0o700);

  chownSync(i.secretsDir, i.uid, i.gid);
  chmodSync(i.secretsDir, 0o500);
  for (const name of readdirSync(i.secretsDir)) {
    const f = join(i.secretsDir, name);
    lchownSync(f, i.uid, i.gid);
    chmodSync(f, 0o400);
  }

  for (const b of i.binds) {
    if (b.access === 'socket') {
      try {
        chmodSync(b.path, 0o666);
      } catch {
        /* not listening (yet): the replica cannot connect, as without a sandbox */
      }
    } else if (b.access === 'rw') {
      mkdirSync(b.path, { recursive: true });
      if (b.group === 'namespace') {
        if (regrouped.get(b.path) !== i.gid) {
          chgrpTree(b.path, i.gid);
          regrouped.set(b.path, i.gid);
        }
        chownSync(b.path, 0, i.gid);
        chmodSync(b.path, 0o2770);
      } else {
        chownSync(b.path, i.uid, i.gid);
        chmodSync(b.path, 0o700);
      }
    }
  }
}

/** Gives every file below `dir` the group `gid` (files left under an earlier gid stay readable to the namespace). */
function chgrpTree(dir: string, gid: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    lchownSync(p, -1, gid);
    if (e.isDirectory()) {
      chmodSync(p, 0o2770);
      chgrpTree(p, gid);
    }
  }
}
