/**
 * Durable replica records, kept by the agent in one file of its data dir
 * (`<dataDir>/replica-records.json`, mode 0600), so a node needs no database: each replica's
 * latest state is written as it changes and removed when it stops. At start-up the agent reaps
 * what a previous agent of this data dir left behind: it kills the process groups of replicas that
 * still run (checking that the process really is that replica, so a reused pid is never hit) and
 * drops the stale records.
 *
 * Writes: the file holds a snapshot of every live replica's latest record and is replaced
 * atomically (core/fs/atomic-file.ts: temp file in the same folder, fsync, rename). Snapshots are written
 * one at a time, each taken when its write starts, so the file never goes back to an older state
 * of a replica (the writes of one replica stay in order). Changes are coalesced: a lone change is
 * written at once, a burst at most once per `minWriteIntervalMs`, so a write storm does not
 * rewrite the file hundreds of times per second. A write that fails is logged and retried.
 *
 * Reading (start-up only): a missing file is no records. A file that cannot be read or parsed
 * (truncated, corrupt, an unknown format) is logged as an error, kept aside as
 * `replica-records.json.corrupt-<time>` for inspection and treated as empty: the agent starts,
 * but replicas it described are not reaped. Temporary files of an interrupted write are never
 * read as records; they are removed and reported.
 *
 * Upgrading from an agent that kept these records in the store (`store.models.Replica`, the
 * `replicas` collection): no migration is needed beyond reaping. The records only ever served to
 * reap a dead agent's replicas at start, and an agent that stopped normally left none; replicas of
 * an agent that died just before the upgrade are not reaped by this one (kill the processes whose
 * environment has FASTGSHARE_REPLICA_ID, or restart the node), and the collection can be dropped.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../core/logger.ts';
import { sleepOn, systemClock, type Clock } from '../../core/clock.ts';
import type { ReplicaExit, ReplicaState, ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { REPLICA_ENV } from '../../core/contracts/replica-env.ts';
import type { ProcReader } from '../usage/proc.ts';
import { signalGroup } from '../replicas/process-group.ts';
import { removeTempFiles, writeFileAtomic } from '../../core/fs/atomic-file.ts';

export const REPLICA_RECORDS_FILE = 'replica-records.json';
/** The version of the file's layout; a file of another one is not read. */
export const REPLICA_RECORDS_FORMAT = 1;

export interface ReplicaRecord {
  replicaId: string;
  node: string;
  namespace: string;
  name: string;
  /** The replica's process (the leader of its process group). */
  pid: number | null;
  port: number | null;
  state: ReplicaState;
  restarts: number;
  startedAt: string;
  lastExit: ReplicaExit | null;
}

export interface ReplicaRecordsFile {
  format: typeof REPLICA_RECORDS_FORMAT;
  node: string;
  replicas: ReplicaRecord[];
}

export interface ReapResult {
  /** Replicas a previous agent left running, now killed. */
  killed: string[];
  /** Stale records dropped. */
  removed: number;
  /** Why the records file could not be read (it was kept aside and taken as empty). */
  unreadable?: string;
  /** Temporary files of an interrupted write, removed. */
  tempFiles?: string[];
}

export interface ReplicaRecords {
  save(status: ReplicaStatus, port: number | null): void;
  remove(replicaId: string): void;
  /** Waits for every pending write. */
  flush(): Promise<void>;
  /** Call before any replica of this agent starts. */
  reapOrphans(): Promise<ReapResult>;
}

export interface ReplicaRecordsOptions {
  /** The agent's data dir; the records are `<dataDir>/replica-records.json`. */
  dataDir: string;
  node: string;
  proc: ProcReader;
  log: Logger;
  killTimeoutMs: number;
  /** The least time between two writes of the file in a burst of changes (default 100 ms). */
  minWriteIntervalMs?: number;
  /** How long after a failed write it is tried again (default 1 s). */
  retryMs?: number;
  /** Replaces the file atomically (tests wrap it). */
  writeFile?: (file: string, data: string) => Promise<void>;
  /** Times the coalescing, retries and kill waits (default: the system clock). */
  clock?: Clock;
}

const RecordSchema = z.object({
  replicaId: z.string().min(1),
  node: z.string().default(''),
  namespace: z.string().default(''),
  name: z.string().default(''),
  pid: z.number().int().positive().nullable(),
  port: z.number().int().nullable().default(null),
  state: z.string().default('starting'),
  restarts: z.number().default(0),
  startedAt: z.string().default(''),
  lastExit: z
    .object({ code: z.number().nullable(), signal: z.string().nullable(), at: z.string(), reason: z.string() })
    .nullable()
    .default(null),
});
const FileSchema = z.object({
  format: z.literal(REPLICA_RECORDS_FORMAT),
  node: z.string(),
  replicas: z.array(z.unknown()),
});

type Loaded = { records: ReplicaRecord[]; existed: boolean; unreadable?: string };

export function replicaRecordsPath(dataDir: string): string {
  return join(dataDir, REPLICA_RECORDS_FILE);
}

export function createReplicaRecords(opts: ReplicaRecordsOptions): ReplicaRecords {
  const file = replicaRecordsPath(opts.dataDir);
  const minInterval = opts.minWriteIntervalMs ?? 100;
  const retryMs = opts.retryMs ?? 1_000;
  const write = opts.writeFile ?? ((f: string, data: string) => writeFileAtomic(f, data, 0o600));
  const log = opts.log;
  const clock = opts.clock ?? systemClock;

  /** This agent's replicas, latest record each (insertion order: the order they started). */
  const live = new Map<string, ReplicaRecord>();
  let version = 0; // bumped by every change
  let attempted = 0; // the version the last finished write (ok or not) held
  let durable = 0; // the version the file holds
  let running = false;
  /** Cancels the scheduled write. */
  let timer: (() => void) | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  let failing: string | undefined;
  let gaveUp = false; // the start-up write failed: the agent does not start, nothing is retried
  const waiters: Array<{ version: number; resolve: (err: Error | undefined) => void }> = [];

  const snapshot = (): string => {
    const body: ReplicaRecordsFile = { format: REPLICA_RECORDS_FORMAT, node: opts.node, replicas: [...live.values()] };
    return `${JSON.stringify(body, null, 1)}\n`;
  };

  const schedule = () => {
    if (gaveUp || running || durable >= version) return;
    const urgent = waiters.length > 0;
    if (timer && !urgent) return;
    timer?.();
    const delay = urgent ? 0 : failing ? retryMs : Math.max(0, lastStart + minInterval - clock.now());
    // a retry alone does not keep the process alive; a change waits its short turn
    timer = clock.after(delay, runWrite, { background: Boolean(failing && !urgent) });
  };

  const runWrite = () => {
    timer = undefined;
    running = true;
    const v = version;
    const data = snapshot();
    lastStart = clock.now();
    void (async () => {
      let error: Error | undefined;
      try {
        await write(file, data);
        durable = v;
        if (failing) log.info('replica records file written again', { file });
        failing = undefined;
      } catch (err) {
        error = err as Error;
        if (failing !== error.message) log.warn('cannot write the replica records file; will retry', { file, err });
        failing = error.message;
      }
      attempted = v;
      running = false;
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!;
        if (w.version <= attempted) {
          waiters.splice(i, 1);
          w.resolve(error);
        }
      }
      schedule();
    })();
  };

  const changed = () => {
    version++;
    schedule();
  };

  /** Writes what has changed now (not waiting for the coalescing interval); the write's error, if any. */
  const persist = (): Promise<Error | undefined> => {
    if (durable >= version) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      waiters.push({ version, resolve });
      schedule();
    });
  };

  const load = async (): Promise<Loaded> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], existed: false };
      return { records: [], existed: true, unreadable: `cannot read it: ${(err as Error).message}` };
    }
    let parsed: z.infer<typeof FileSchema>;
    try {
      const r = FileSchema.safeParse(JSON.parse(text));
      if (!r.success)
        return {
          records: [],
          existed: true,
          unreadable: `not a replica records file of format ${REPLICA_RECORDS_FORMAT}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
        };
      parsed = r.data;
    } catch (err) {
      return {
        records: [],
        existed: true,
        unreadable: `not valid JSON (truncated or corrupt, ${text.length} bytes): ${(err as Error).message}`,
      };
    }
    const records: ReplicaRecord[] = [];
    let bad = 0;
    for (const raw of parsed.replicas) {
      const r = RecordSchema.safeParse(raw);
      if (r.success) records.push(r.data as ReplicaRecord);
      else bad++;
    }
    if (bad)
      log.warn('skipped unreadable entries of the replica records file', { file, skipped: bad, kept: records.length });
    return { records, existed: true };
  };

  const isReplicaProcess = async (pgid: number, replicaId: string) => {
    for (const pid of await opts.proc.members(pgid)) {
      if ((await opts.proc.environ(pid))[REPLICA_ENV.replicaId] === replicaId) return true;
    }
    return false;
  };

  return {
    save(s, port) {
      live.set(s.id, {
        replicaId: s.id,
        node: s.node,
        namespace: s.namespace,
        name: s.name,
        pid: s.pid,
        port,
        state: s.state,
        restarts: s.restarts,
        startedAt: s.startedAt,
        lastExit: s.lastExit ?? null,
      });
      changed();
    },
    remove(replicaId) {
      if (live.delete(replicaId)) changed();
    },
    async flush() {
      await persist();
    },
    async reapOrphans() {
      const tempFiles = await removeTempFiles(file);
      if (tempFiles.length)
        log.warn('removed temporary files of an interrupted write of the replica records (never read as records)', {
          file,
          removed: tempFiles,
        });
      const loaded = await load();
      if (loaded.unreadable) {
        const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        let keptAs: string | undefined = aside;
        try {
          await rename(file, aside);
        } catch {
          keptAs = undefined;
        }
        log.error(
          `the replica records file is unreadable: taking it as empty, so replicas a previous agent left running are NOT reaped (kill the processes whose environment has ${REPLICA_ENV.replicaId}, or restart the node)`,
          { file, reason: loaded.unreadable, keptAs },
        );
      }
      // records of this agent's own replicas (saved before the reap) are not stale
      const stale = loaded.records.filter((r) => !live.has(r.replicaId));
      const killed: string[] = [];
      await Promise.all(
        stale.map(async (rec) => {
          const pgid = rec.pid;
          if (!pgid || !(await isReplicaProcess(pgid, rec.replicaId))) return;
          log.warn('killing a replica left running by a previous agent', {
            replica: rec.replicaId,
            pid: pgid,
            function: `${rec.name}.${rec.namespace}`,
            node: rec.node,
          });
          signalGroup(pgid, 'SIGTERM');
          const deadline = clock.now() + opts.killTimeoutMs;
          while ((await opts.proc.members(pgid)).length > 0 && clock.now() < deadline) await sleepOn(clock, 50);
          signalGroup(pgid, 'SIGKILL');
          killed.push(rec.replicaId);
        }),
      );
      if (loaded.existed) {
        // the file now holds this agent's replicas only (none, at start)
        version++;
        const err = await persist();
        if (err) {
          gaveUp = true;
          timer?.();
          throw err;
        }
      }
      if (stale.length)
        log.info('removed stale replica records', { node: opts.node, removed: stale.length, killed: killed.length });
      return {
        killed,
        removed: stale.length,
        ...(loaded.unreadable ? { unreadable: loaded.unreadable } : {}),
        ...(tempFiles.length ? { tempFiles } : {}),
      };
    },
  };
}
