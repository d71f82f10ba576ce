/**
 * A sweep whose trial could not run properly (issue 14 item 4): runSweep with an in-memory store,
 * a node agent client that runs the trial "replica" as a real HTTP server in this process, and a
 * load generator that answers as the trial could: a trial that served nothing (0 req/s, no p99) or
 * that something disturbed is run again; one that never runs properly is stored marked invalid and
 * left out of the table; none is ever stored as the configuration's capacity.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../core/logger.ts';
import { systemClock } from '../../core/clock.ts';
import type { FunctionReplicas, FunctionSpec, NodeAgentClient } from '../../core/contracts/node-agent.ts';
import { runSweep, type RunHealth, type SweepDeps } from '../../profiler/sweep.ts';
import type { ProfileStore, TableRecord, TrialRecord } from '../../profiler/profile-store.ts';
import type { LoadGenerator, LoadOutcome, LoadRun } from '../../profiler/load.ts';
import type { SweepJobData, SweepProgress } from '../../profiler/sweep-job.ts';
import { TRIAL_ATTEMPTS } from '../../profiler/trial-validity.ts';

function memoryStore(): ProfileStore & { saved: TrialRecord[]; tables: TableRecord[] } {
  const saved: TrialRecord[] = [];
  const tables: TableRecord[] = [];
  return {
    saved,
    tables,
    async saveTrial(t) {
      const i = saved.findIndex((x) => x.sweepId === t.sweepId && x.trialIndex === t.trialIndex);
      if (i >= 0 && !saved[i]!.metrics.invalid) return false;
      if (i >= 0) saved[i] = t;
      else saved.push(t);
      return true;
    },
    trials: async (id) => saved.filter((t) => t.sweepId === id).sort((a, b) => a.trialIndex - b.trialIndex),
    async saveTable(t) {
      tables.push(t);
    },
    latestTable: async () => tables.at(-1),
    latestTables: async () => tables,
  };
}

const good: LoadOutcome = { ok: 200, failed: 0, rps: 50, p50: 5, p95: 8, p99: 9, errorRate: 0, seconds: 1 };
const dead: LoadOutcome = { ok: 0, failed: 0, rps: 0, p50: NaN, p95: NaN, p99: NaN, errorRate: 1, seconds: 1 };

describe('profiler: trials that could not run properly', function () {
  this.timeout(30_000);
  let replica: Server;
  let url: string;

  before(async () => {
    replica = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => replica.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(replica.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => replica.close(() => r())));

  /** A node agent whose every applied function has one ready replica: the server above. */
  function fakeNode(): NodeAgentClient {
    const fns = new Map<string, FunctionReplicas>();
    return {
      url: 'http://node.test',
      info: async () => ({ name: 'node-test', cpus: 2 }) as Awaited<ReturnType<NodeAgentClient['info']>>,
      listFunctions: async () => [...fns.values()],
      async applyFunction(req) {
        const f = {
          name: req.spec.name,
          namespace: req.spec.namespace,
          image: req.spec.image,
          desired: 1,
          replicas: [
            {
              id: `${req.spec.name}-0`,
              name: req.spec.name,
              namespace: req.spec.namespace,
              node: 'node-test',
              url,
              pid: 1,
              state: 'ready',
              restarts: 0,
              startedAt: new Date().toISOString(),
              usage: { cpu: 0.5, totalMemoryBytes: 50 << 20 },
            },
          ],
        } as unknown as FunctionReplicas;
        fns.set(req.spec.name, f);
        return f;
      },
      removeFunction: async (_ns, name) => fns.delete(name),
      logs: () => (async function* () {})(),
      usage: async () => undefined,
    };
  }

  /** Answers each trial's load runs from `plan(trial number, attempt)`; trials are told apart by their order. */
  function scriptedLoad(plan: (trial: number, attempt: number) => LoadOutcome): LoadGenerator & { runs: number } {
    let trial = -1;
    let attempt = 0;
    const gen = {
      runs: 0,
      async run(o: LoadRun): Promise<LoadOutcome> {
        gen.runs++;
        // a closed loop (no rate) starts a trial's search
        if (o.rate === undefined) {
          attempt++;
          if (attempt > TRIAL_ATTEMPTS || trial < 0) {
            trial++;
            attempt = 1;
          }
        }
        return plan(trial, attempt);
      },
    };
    return gen;
  }

  const data = (batches: number[]): SweepJobData => ({
    namespace: 'openfaas-fn',
    function: 'fn',
    nodeUrl: 'http://node.test',
    node: 'node-test',
    cpus: 2,
    device: 'cpu',
    deviceId: 'cpu',
    deviceClass: 'cpu-2c',
    modelVersion: 'fn:latest@1',
    grid: { partitions: [100], quotas: [1], batches },
    trialSeconds: 1,
    sloMs: 100,
    maxBatch: 4,
    input: { base64: Buffer.from('x').toString('base64'), contentType: 'text/plain' },
  });

  function deps(store: ProfileStore, load: LoadGenerator): SweepDeps {
    const node = fakeNode();
    return {
      store,
      trialDeps: () => ({
        node,
        cpus: 2,
        load,
        usage: { deviceSeconds: async () => undefined, windowMs: async () => undefined },
        clock: systemClock,
        log: silentLogger,
        pollMs: 10,
      }),
      spec: async () =>
        ({
          name: 'fn',
          namespace: 'openfaas-fn',
          image: 'fn:latest',
          env: {},
          labels: {},
          annotations: {},
        }) as unknown as FunctionSpec,
      calibration: () => {
        throw new Error('not emulated');
      },
      clock: systemClock,
      log: silentLogger,
      retryPauseMs: 10,
    };
  }

  const progress: SweepProgress[] = [];
  const report = async (p: SweepProgress) => void progress.push(p);

  it('runs again a trial that served nothing, and stores only the run that measured', async () => {
    const store = memoryStore();
    // trial 0: first attempt 0 req/s (replica not serving), second fine; trial 1 fine at once
    const load = scriptedLoad((trial, attempt) => (trial === 0 && attempt === 1 ? dead : good));
    const result = await runSweep(deps(store, load), 'sweep-1', data([1, 2]), report, new AbortController().signal);
    expect(store.saved.map((t) => [t.trialIndex, t.metrics.attempts, t.metrics.invalid])).to.deep.equal([
      [0, 2, undefined],
      [1, 1, undefined],
    ]);
    expect(store.saved.every((t) => t.metrics.closedLoopRps > 0 && Number.isFinite(t.metrics.latencyMs.p99))).to.equal(
      true,
    );
    expect(result).to.include({ trials: 2, measured: 2 });
    expect(result.invalid).to.equal(undefined);
  });

  it('stores a trial that never ran properly as invalid, leaves it out of the table, and runs it again when the sweep resumes', async () => {
    const store = memoryStore();
    const load = scriptedLoad((trial) => (trial === 0 ? dead : good));
    const result = await runSweep(deps(store, load), 'sweep-2', data([1, 2]), report, new AbortController().signal);
    const bad = store.saved.find((t) => t.trialIndex === 0)!;
    expect(bad.metrics.invalid).to.match(/no request succeeded/);
    expect(bad.metrics.attempts).to.equal(TRIAL_ATTEMPTS);
    expect(result).to.include({ trials: 2, invalid: 1, measured: 1 });
    const table = store.tables.at(-1)!;
    const b1 = table.entries.find((e) => e.batch === 1)!;
    expect(b1.source).to.equal('fitted');
    expect(table.entries.every((e) => e.rps > 0 && Number.isFinite(e.latencyMs.p99))).to.equal(true);

    // the sweep runs again (a retry of the job): the invalid trial is run again and replaced, the valid one is kept
    const again = scriptedLoad(() => good);
    const second = await runSweep(deps(store, again), 'sweep-2', data([1, 2]), report, new AbortController().signal);
    expect(store.saved.find((t) => t.trialIndex === 0)!.metrics.invalid).to.equal(undefined);
    expect(second).to.include({ trials: 2, measured: 2 });
  });

  it('fails the run rather than write a table when no trial could run properly', async () => {
    const store = memoryStore();
    const load = scriptedLoad(() => dead);
    let error: Error | undefined;
    await runSweep(deps(store, load), 'sweep-3', data([1]), report, new AbortController().signal).catch(
      (e: Error) => (error = e),
    );
    expect(error?.message).to.match(/no trial of the sweep could run properly/);
    expect(store.tables).to.have.length(0);
  });

  it('runs again a trial that something outside it disturbed (the process stalled, the device lock lapsed)', async () => {
    const store = memoryStore();
    const load = scriptedLoad(() => good);
    let calls = 0;
    // the first trial's first attempt was disturbed: the watch noted a stall during it
    const health: RunHealth = {
      now: () => performance.now(),
      disturbance: () => (++calls === 1 ? 'the platform process was stalled for 3.0 s during the trial' : undefined),
    };
    await runSweep(deps(store, load), 'sweep-4', data([1]), report, new AbortController().signal, health);
    expect(store.saved).to.have.length(1);
    expect(store.saved[0]!.metrics.attempts).to.equal(2);
    expect(store.saved[0]!.metrics.invalid).to.equal(undefined);
  });
});
