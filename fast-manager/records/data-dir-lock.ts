/**
 * One node agent per data dir: `<dataDir>/agent.lock` (0600) names the agent process that holds
 * the dir (its pid and its start time in /proc, so a pid reused by another process after a crash
 * does not hold it). A second agent on a data dir in use would take the first one's replicas for
 * orphans (records/replica-records.ts) and remove their work dirs, so it refuses to start instead.
 * The embedded store's lock did this by the way while every agent opened a store; the agent now
 * needs none. A lock whose process is gone (an agent killed) is taken over (two agents taking
 * over the same stale lock in the same instant are not told apart).
 */
import { readFile, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlatformError } from '../../core/errors.ts';
import { createFileOnce } from '../../core/fs/create-file-once.ts';
import { parseProcStat } from '../usage/proc.ts';

export const AGENT_LOCK_FILE = 'agent.lock';

export interface DataDirLock {
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot); '' where /proc cannot tell. */
  start: string;
}

/** When the process started (ticks after boot), undefined when it is gone. */
export function processStart(pid: number | 'self', procRoot = '/proc'): string | undefined {
  try {
    const stat = parseProcStat(readFileSync(join(procRoot, String(pid), 'stat'), 'utf8'));
    if (!stat) return ''; // there, but /proc cannot tell when it started
    if (stat.state === 'Z') return undefined; // exited, not yet reaped
    return String(stat.startTicks);
  } catch {
    return undefined;
  }
}

export async function lockAgentDataDir(dataDir: string, procRoot = '/proc'): Promise<DataDirLock> {
  const file = join(dataDir, AGENT_LOCK_FILE);
  const me: Holder = { pid: process.pid, start: processStart('self', procRoot) ?? '' };
  for (let attempt = 0; attempt < 3; attempt++) {
    // written whole under a temporary name and linked into place: never seen half-written
    if (await createFileOnce(file, `${JSON.stringify(me)}\n`)) {
      return {
        async release() {
          // only our own lock (a later agent may have taken over one we left)
          const now = await readHolder(file);
          if (now?.pid === me.pid && now.start === me.start) await unlink(file).catch(() => undefined);
        },
      };
    }
    const holder = await readHolder(file);
    if (holder) {
      const start = processStart(holder.pid, procRoot);
      if (start !== undefined && (holder.start === '' || start === holder.start)) {
        throw new PlatformError(
          'conflict',
          `the data dir ${dataDir} is in use by the node agent in process ${holder.pid}${holder.pid === process.pid ? ' (this process: close that agent first)' : ''}; stop it or give this agent another FASTGSHARE_DATA_DIR`,
        );
      }
    }
    await unlink(file).catch(() => undefined); // its process is gone (or the file is unreadable): take it over
  }
  throw new PlatformError('conflict', `could not lock the data dir ${dataDir} (${file})`);
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const h = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
    return Number.isInteger(h.pid) && (h.pid as number) > 0
      ? { pid: h.pid as number, start: typeof h.start === 'string' ? h.start : '' }
      : undefined;
  } catch {
    return undefined;
  }
}
