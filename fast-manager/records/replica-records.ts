/**
 * Durable replica records (`store.models.Replica`): each replica's latest state is written as it
 * changes (writes of one replica are kept in order) and removed when it stops. At start-up the
 * agent reaps what a previous agent of this node left behind: it kills the process groups of
 * replicas that still run (checking that the process really is that replica, so a reused pid is
 * never hit) and deletes the stale records.
 */
import type { Logger } from '../../core/logger.ts';
import type { Store } from '../../core/store/open-store.ts';
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import type { ProcReader } from '../usage/proc.ts';
import { signalGroup } from '../replicas/process-group.ts';

export interface ReplicaRecords {
  save(status: ReplicaStatus, port: number | null): void;
  remove(replicaId: string): void;
  /** Waits for every pending write. */
  flush(): Promise<void>;
  reapOrphans(): Promise<{ killed: string[]; removed: number }>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createReplicaRecords(opts: { store: Store; node: string; proc: ProcReader; log: Logger; killTimeoutMs: number }): ReplicaRecords {
  const Replica = opts.store.models.Replica;
  const chains = new Map<string, Promise<void>>();
  const enqueue = (id: string, write: () => Promise<unknown>) => {
    const prev = chains.get(id) ?? Promise.resolve();
    const next = prev
      .then(write)
      .then(
        () => undefined,
        (err) => opts.log.warn('cannot write replica record', { replica: id, err }),
      );
    chains.set(id, next);
    void next.then(() => {
      if (chains.get(id) === next) chains.delete(id);
    });
  };

  const isReplicaProcess = async (pgid: number, replicaId: string) => {
    for (const pid of await opts.proc.members(pgid)) {
      if ((await opts.proc.environ(pid)).FASTGSHARE_REPLICA_ID === replicaId) return true;
    }
    return false;
  };

  return {
    save(s, port) {
      enqueue(s.id, () =>
        Replica.updateOne(
          { replicaId: s.id },
          {
            $set: {
              node: s.node,
              namespace: s.namespace,
              name: s.name,
              pid: s.pid,
              port,
              state: s.state,
              restarts: s.restarts,
              startedAt: new Date(s.startedAt),
              lastExit: s.lastExit ?? null,
            },
          },
          { upsert: true },
        ),
      );
    },
    remove(replicaId) {
      enqueue(replicaId, () => Replica.deleteOne({ replicaId }));
    },
    async flush() {
      while (chains.size > 0) await Promise.all([...chains.values()]);
    },
    async reapOrphans() {
      const records = await Replica.find({ node: opts.node }).lean();
      const killed: string[] = [];
      await Promise.all(
        records.map(async (rec) => {
          const pgid = rec.pid;
          if (!pgid || !(await isReplicaProcess(pgid, rec.replicaId))) return;
          opts.log.warn('killing a replica left running by a previous agent', { replica: rec.replicaId, pid: pgid, function: `${rec.name}.${rec.namespace}` });
          signalGroup(pgid, 'SIGTERM');
          const deadline = Date.now() + opts.killTimeoutMs;
          while ((await opts.proc.members(pgid)).length > 0 && Date.now() < deadline) await sleep(50);
          signalGroup(pgid, 'SIGKILL');
          killed.push(rec.replicaId);
        }),
      );
      const { deletedCount } = await Replica.deleteMany({ node: opts.node });
      if (records.length) opts.log.info('removed stale replica records', { node: opts.node, removed: deletedCount, killed: killed.length });
      return { killed, removed: deletedCount };
    },
  };
}
