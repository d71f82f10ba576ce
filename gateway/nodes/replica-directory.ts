/**
 * What runs where: polls `listFunctions()` on every node (every `pollMs`, and at once when
 * someone starts waiting) and keeps, per function (`name.namespace`), its replicas and which
 * of them are ready. The proxy picks among `ready(key)`; status and metrics read `view(key)`.
 */
import type { FunctionReplicas, NodeAgentClient, ReplicaStatus } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import type { Clock } from '../../core/clock.ts';

export interface FunctionView {
  key: string;
  name: string;
  namespace: string;
  /** Every replica the nodes report, whatever its state. */
  replicas: ReplicaStatus[];
  ready: ReplicaStatus[];
  /** Nodes (clients) that host the function. */
  nodes: NodeAgentClient[];
}

export interface ReplicaDirectory {
  ready(key: string): ReplicaStatus[];
  view(key: string): FunctionView | undefined;
  views(): FunctionView[];
  /** Ready replicas as soon as there is one; [] after `timeoutMs`. */
  waitForReady(key: string, timeoutMs: number): Promise<ReplicaStatus[]>;
  /** Nodes whose last poll answered, in configuration order. */
  availableNodes(): NodeAgentClient[];
  /** Polls every node now (concurrent callers share one poll). */
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

export const functionKey = (name: string, namespace: string) => `${name}.${namespace}`;

export function createReplicaDirectory(opts: {
  nodes: NodeAgentClient[];
  log: Logger;
  clock: Clock;
  pollMs?: number;
}): ReplicaDirectory {
  const pollMs = opts.pollMs ?? 250;
  let views = new Map<string, FunctionView>();
  /** Last good answer per node, so one slow or failed poll does not hide a node's replicas. */
  const perNode = new Map<NodeAgentClient, FunctionReplicas[]>();
  const failing = new Set<NodeAgentClient>();
  const waiters = new Set<{ key: string; resolve: (r: ReplicaStatus[]) => void; cancel: () => void }>();
  let inflight: Promise<void> | undefined;
  let cancelTimer: (() => void) | undefined;
  let stopped = false;

  async function pollNode(node: NodeAgentClient): Promise<void> {
    try {
      perNode.set(node, await node.listFunctions());
      if (failing.delete(node)) opts.log.info('node answers again', { node: node.url });
    } catch (err) {
      // a node that does not answer has no replicas we can route to
      perNode.delete(node);
      if (!failing.has(node))
        opts.log.warn('cannot list replicas on node', { node: node.url, error: (err as Error).message });
      failing.add(node);
    }
  }

  function rebuild(): void {
    const next = new Map<string, FunctionView>();
    for (const [node, fns] of perNode) {
      for (const fn of fns) {
        const key = functionKey(fn.name, fn.namespace);
        let v = next.get(key);
        if (!v)
          next.set(key, (v = { key, name: fn.name, namespace: fn.namespace, replicas: [], ready: [], nodes: [] }));
        v.nodes.push(node);
        for (const r of fn.replicas) {
          v.replicas.push(r);
          if (r.state === 'ready') v.ready.push(r);
        }
      }
    }
    views = next;
    for (const w of waiters) {
      const ready = views.get(w.key)?.ready ?? [];
      if (ready.length > 0) {
        waiters.delete(w);
        w.cancel();
        w.resolve(ready);
      }
    }
  }

  function refresh(): Promise<void> {
    inflight ??= Promise.all(opts.nodes.map(pollNode))
      .then(rebuild)
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  function schedule(): void {
    if (stopped) return;
    cancelTimer = opts.clock.after(pollMs, () => void refresh().finally(schedule), { background: true });
  }

  return {
    ready: (key) => views.get(key)?.ready ?? [],
    view: (key) => views.get(key),
    views: () => [...views.values()],
    waitForReady(key, timeoutMs) {
      const now = views.get(key)?.ready ?? [];
      if (now.length > 0) return Promise.resolve(now);
      return new Promise((resolve) => {
        const w = {
          key,
          resolve,
          cancel: opts.clock.after(timeoutMs, () => {
            waiters.delete(w);
            resolve(views.get(key)?.ready ?? []);
          }),
        };
        waiters.add(w);
        void refresh();
      });
    },
    availableNodes: () => opts.nodes.filter((n) => perNode.has(n)),
    refresh,
    start() {
      stopped = false;
      void refresh().finally(schedule);
    },
    stop() {
      stopped = true;
      cancelTimer?.();
      for (const w of waiters) {
        w.cancel();
        w.resolve([]);
      }
      waiters.clear();
    },
  };
}
