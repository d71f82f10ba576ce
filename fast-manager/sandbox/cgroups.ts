/**
 * Kernel-enforced limits of one replica: a cgroup `fastgshare/<replicaId>` under each controller
 * (cgroup v1: memory, pids, cpuset mounted one per folder under /sys/fs/cgroup; cgroup v2: one
 * tree, /sys/fs/cgroup/cgroup.controllers present). The replica's first process writes its pid
 * into every `cgroup.procs` of `procsFiles` before it execs the sandbox, so everything it starts
 * is counted: memory (limits.memory, no swap), processes and threads (pids.max) and, for cpu
 * replicas, the cores (cpuset.cpus). `oomKills()` tells an out-of-memory kill by the kernel from
 * any other death; `remove()` kills what is left and deletes the folders.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupLimits {
  memoryBytes?: number;
  pidsMax: number;
  /** Cores the replica may run on (default: all of the parent's). */
  cpus?: readonly number[];
}

export interface ReplicaCgroup {
  /** The `cgroup.procs` files the replica's first process joins. */
  readonly procsFiles: string[];
  /** Pids of every process in it (none once it is empty or removed). */
  pids(): number[];
  /** How many processes the kernel's OOM killer ended in it. */
  oomKills(): number;
  /** The most memory it held (bytes), when the kernel reports it. */
  peakMemoryBytes(): number | undefined;
  /**
   * Kills what is left (SIGKILL) and deletes its folders; resolves when they are gone (or after ~2 s, logged by the
   * caller).
   */
  remove(): Promise<void>;
}

export interface Cgroups {
  readonly version: 1 | 2;
  /** Where the agent's folders are (for messages). */
  readonly roots: string[];
  create(name: string, limits: CgroupLimits): ReplicaCgroup;
  /** Removes empty leftover folders older than `olderThanMs` (a previous agent's); returns their names. */
  sweep(olderThanMs: number): string[];
}

export const CGROUP_PARENT = 'fastgshare';
const V1_CONTROLLERS = ['memory', 'pids', 'cpuset'] as const;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Finds the cgroup hierarchy under `mount` and prepares the agent's parent folder; throws saying what is missing. */
export function openCgroups(mount = '/sys/fs/cgroup'): Cgroups {
  if (existsSync(join(mount, 'cgroup.controllers'))) return openV2(mount);
  const missing = V1_CONTROLLERS.filter((c) => !existsSync(join(mount, c, 'cgroup.procs')));
  if (missing.length === 0) return openV1(mount);
  throw new Error(
    `no usable cgroup hierarchy at ${mount}: neither cgroup v2 (cgroup.controllers) nor the v1 controllers ${missing.join(', ')} are mounted`,
  );
}

const read = (file: string) => readFileSync(file, 'utf8').trim();
const write = (file: string, value: string) => writeFileSync(file, value);

function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** The pids listed in a cgroup.procs file; none when the cgroup is gone. */
function pidsIn(procs: string): number[] {
  try {
    return parsePids(read(procs));
  } catch {
    return [];
  }
}

function counter(file: string, key: string): number {
  try {
    const line = read(file)
      .split('\n')
      .find((l) => l.startsWith(`${key} `));
    return line ? Number(line.split(' ')[1]) || 0 : 0;
  } catch {
    return 0;
  }
}

function number(file: string): number | undefined {
  try {
    const v = Number(read(file));
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function killAll(procsFile: string): boolean {
  let any = false;
  try {
    for (const pid of parsePids(read(procsFile))) {
      try {
        process.kill(pid, 'SIGKILL');
        any = true;
      } catch {
        /* gone already */
      }
    }
  } catch {
    /* folder gone */
  }
  return any;
}

/** rmdir of a cgroup fails (EBUSY) while dying tasks are still in it: retries for about 2 s. */
async function removeDirs(dirs: string[], procsFile: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    killAll(procsFile);
    let left = 0;
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left++;
      }
    }
    if (left === 0) return;
    await sleep(50);
  }
  throw new Error(`cannot remove cgroup ${dirs.join(', ')}: still busy`);
}

function sweepDir(parent: string, olderThanMs: number, also: (name: string) => string[]): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(parent, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return removed;
  }
  for (const name of names) {
    const dir = join(parent, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < olderThanMs) continue;
      if (parsePids(read(join(dir, 'cgroup.procs'))).length > 0) continue;
      for (const d of [dir, ...also(name)]) {
        try {
          rmdirSync(d);
        } catch {
          /* busy or gone: left for the next sweep */
        }
      }
      removed.push(name);
    } catch {
      /* raced with its owner */
    }
  }
  return removed;
}

function openV1(mount: string): Cgroups {
  const parent = (c: string) => join(mount, c, CGROUP_PARENT);
  for (const c of V1_CONTROLLERS) mkdirSync(parent(c), { recursive: true });
  // a v1 cpuset folder starts with no cpus and no mems: a task cannot join it until both are set
  const cpusetRoot = join(mount, 'cpuset');
  for (const f of ['cpuset.cpus', 'cpuset.mems'])
    if (read(join(parent('cpuset'), f)) === '') write(join(parent('cpuset'), f), read(join(cpusetRoot, f)));
  const hasMemsw = existsSync(join(parent('memory'), 'memory.memsw.limit_in_bytes'));
  return {
    version: 1,
    roots: V1_CONTROLLERS.map(parent),
    create(name, limits) {
      const dirs = V1_CONTROLLERS.map((c) => join(parent(c), name));
      for (const d of dirs) mkdirSync(d, { recursive: true });
      const [mem, pids, cpuset] = dirs as [string, string, string];
      try {
        if (limits.memoryBytes !== undefined) {
          write(join(mem, 'memory.limit_in_bytes'), String(limits.memoryBytes));
          // memory + swap at the same limit: the replica cannot swap its way past it
          if (hasMemsw) write(join(mem, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
        }
        write(join(pids, 'pids.max'), String(limits.pidsMax));
        write(
          join(cpuset, 'cpuset.cpus'),
          limits.cpus?.length ? limits.cpus.join(',') : read(join(parent('cpuset'), 'cpuset.cpus')),
        );
        write(join(cpuset, 'cpuset.mems'), read(join(parent('cpuset'), 'cpuset.mems')));
      } catch (err) {
        for (const d of dirs) rmdirSync(d);
        throw err;
      }
      const procs = join(pids, 'cgroup.procs');
      return {
        procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
        pids: () => pidsIn(procs),
        oomKills: () => counter(join(mem, 'memory.oom_control'), 'oom_kill'),
        peakMemoryBytes: () => number(join(mem, 'memory.max_usage_in_bytes')),
        remove: () => removeDirs(dirs, procs),
      };
    },
    sweep(olderThanMs) {
      return sweepDir(parent('pids'), olderThanMs, (name) => ['memory', 'cpuset'].map((c) => join(parent(c), name)));
    },
  };
}

function openV2(mount: string): Cgroups {
  const parent = join(mount, CGROUP_PARENT);
  const available = read(join(mount, 'cgroup.controllers')).split(/\s+/);
  const missing = ['memory', 'pids', 'cpuset'].filter((c) => !available.includes(c));
  if (missing.length) throw new Error(`cgroup v2 at ${mount} lacks the controllers ${missing.join(', ')}`);
  mkdirSync(parent, { recursive: true });
  for (const dir of [mount, parent]) {
    const enabled = read(join(dir, 'cgroup.subtree_control')).split(/\s+/);
    for (const c of ['memory', 'pids', 'cpuset'])
      if (!enabled.includes(c)) write(join(dir, 'cgroup.subtree_control'), `+${c}`);
  }
  return {
    version: 2,
    roots: [parent],
    create(name, limits) {
      const dir = join(parent, name);
      mkdirSync(dir, { recursive: true });
      try {
        if (limits.memoryBytes !== undefined) {
          write(join(dir, 'memory.max'), String(limits.memoryBytes));
          if (existsSync(join(dir, 'memory.swap.max'))) write(join(dir, 'memory.swap.max'), '0');
        }
        write(join(dir, 'pids.max'), String(limits.pidsMax));
        if (limits.cpus?.length) write(join(dir, 'cpuset.cpus'), limits.cpus.join(','));
      } catch (err) {
        rmdirSync(dir);
        throw err;
      }
      const procs = join(dir, 'cgroup.procs');
      return {
        procsFiles: [procs],
        pids: () => pidsIn(procs),
        oomKills: () => counter(join(dir, 'memory.events'), 'oom_kill'),
        peakMemoryBytes: () => number(join(dir, 'memory.peak')),
        remove: async () => {
          try {
            if (existsSync(join(dir, 'cgroup.kill'))) write(join(dir, 'cgroup.kill'), '1');
          } catch {
            /* gone */
          }
          await removeDirs([dir], procs);
        },
      };
    },
    sweep(olderThanMs) {
      return sweepDir(parent, olderThanMs, () => []);
    },
  };
}
