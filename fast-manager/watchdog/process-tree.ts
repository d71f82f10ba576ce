/**
 * Kills a forked request's whole process tree (the process and everything it started), found
 * through the parent links in /proc. The forked processes stay in the replica's process group, so
 * the node agent's usage sampling, memory limit and stop signals cover them; a group of their own
 * would hide them from it. The tree is stopped top-down first (a stopped process cannot fork), so
 * nothing started during the walk escapes, then killed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** parent pid → its children, from /proc/<pid>/stat. */
function childrenByParent(): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const list = out.get(ppid);
    if (list) list.push(Number(name));
    else out.set(ppid, [Number(name)]);
  }
  return out;
}

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // gone already
  }
};

export function killTree(root: number): void {
  const stopped = new Set<number>();
  let frontier = [root];
  for (let round = 0; frontier.length > 0 && round < 64; round++) {
    for (const pid of frontier) if (signal(pid, 'SIGSTOP')) stopped.add(pid);
    const kids = childrenByParent();
    frontier = [...stopped].flatMap((p) => kids.get(p) ?? []).filter((p) => !stopped.has(p));
  }
  for (const pid of stopped) signal(pid, 'SIGKILL');
  signal(root, 'SIGKILL');
}
