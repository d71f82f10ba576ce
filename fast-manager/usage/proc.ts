/**
 * Reads the Linux process table from /proc: per process its group, CPU ticks and resident pages.
 * Summed per process group, this is what a replica (leader + children) uses.
 */
import { readdir, readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie: exited, not yet reaped), T, ... */
  state: string;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  rssPages: number;
  /**
   * When the process started, clock ticks after boot: with the pid, it names one process (a reused pid starts later).
   */
  startTicks: number;
}

export interface GroupUsage {
  cpuTicks: number;
  rssBytes: number;
  processes: number;
}

/** Parses one /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(line.slice(0, line.indexOf(' ')));
  // fields after the comm: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) ... starttime(22) ... rss(24)
  const rest = line.slice(close + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  const stat = { pid, pgrp: field(5), cpuTicks: field(14) + field(15), rssPages: field(24), startTicks: field(22) };
  return Object.values(stat).every(Number.isFinite) ? { ...stat, state: rest[0] ?? '?' } : null;
}

function sysconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

export interface ProcReader {
  readonly ticksPerSecond: number;
  /** Usage summed per process group, for the groups asked about. */
  groups(pgids: Iterable<number>): Promise<Map<number, GroupUsage>>;
  /** The process group of each of `pids` that is still running (gone pids are left out). */
  groupsOf(pids: Iterable<number>): Promise<Map<number, number>>;
  /** Process ids that belong to the group (zombies left out: they are already dead). */
  members(pgid: number): Promise<number[]>;
  /** The environment a process was started with ({} when unreadable). */
  environ(pid: number): Promise<Record<string, string>>;
}

export function createProcReader(root = '/proc'): ProcReader {
  const ticksPerSecond = sysconf('CLK_TCK', 100);
  const pageSize = sysconf('PAGESIZE', 4096);
  const scan = async (): Promise<ProcStat[]> => {
    let entries: string[];
    try {
      entries = await readdir(root);
    } catch {
      return [];
    }
    const stats = await Promise.all(
      entries
        .filter((e) => /^\d+$/.test(e))
        .map((e) => readFile(`${root}/${e}/stat`, 'utf8').then(parseProcStat, () => null)),
    );
    return stats.filter((s): s is ProcStat => s !== null);
  };
  return {
    ticksPerSecond,
    async groups(pgids) {
      const wanted = new Set(pgids);
      const out = new Map<number, GroupUsage>();
      if (wanted.size === 0) return out;
      for (const s of await scan()) {
        if (!wanted.has(s.pgrp)) continue;
        const g = out.get(s.pgrp) ?? { cpuTicks: 0, rssBytes: 0, processes: 0 };
        g.cpuTicks += s.cpuTicks;
        g.rssBytes += s.rssPages * pageSize;
        g.processes += 1;
        out.set(s.pgrp, g);
      }
      return out;
    },
    async groupsOf(pids) {
      const stats = await Promise.all(
        [...new Set(pids)].map((pid) => readFile(`${root}/${pid}/stat`, 'utf8').then(parseProcStat, () => null)),
      );
      return new Map(stats.filter((s): s is ProcStat => s !== null && s.state !== 'Z').map((s) => [s.pid, s.pgrp]));
    },
    async members(pgid) {
      return (await scan()).filter((s) => s.pgrp === pgid && s.state !== 'Z').map((s) => s.pid);
    },
    async environ(pid) {
      try {
        const raw = await readFile(`${root}/${pid}/environ`, 'utf8');
        const env: Record<string, string> = {};
        for (const kv of raw.split('\0')) {
          const eq = kv.indexOf('=');
          if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        return env;
      } catch {
        return {};
      }
    },
  };
}
