/**
 * Test harness for the node agent: a temporary data dir with an image store holding the echo
 * fixture bundle, and an agent on a free port with short supervision timings. The agent needs no
 * store: its replica records are a file in its data dir (`records(h)` reads it).
 */
import type { TokenSchedulerOptions } from '../../fast-manager/sharing/token-scheduler.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { readNodeConfig } from '../../core/config.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { CaptureSink, createLogger } from '../../core/logger.ts';
import type { ApplyFunctionRequest, FunctionReplicas, FunctionSpec } from '../../core/contracts/node-agent.ts';
import type { LogMessage } from '../../core/contracts/openfaas.ts';
import { startNodeAgent, type NodeAgent, type StartNodeAgentOptions } from '../../fast-manager/main.ts';
import type { AgentTuning } from '../../fast-manager/tuning.ts';
import {
  replicaRecordsPath,
  type ReplicaRecord,
  type ReplicaRecordsFile,
} from '../../fast-manager/records/replica-records.ts';
import { waitFor } from '../helpers/eventually.ts';

export { waitFor };

export const ECHO_BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'replicas', 'echo');

export const FAST_TUNING: Partial<AgentTuning> = {
  drainGraceMs: 50,
  startPollMs: 50,
  healthIntervalMs: 200,
  healthTimeoutMs: 500,
  unhealthyAfter: 2,
  restartAfterFailures: 4,
  backoffBaseMs: 200,
  backoffMaxMs: 1_000,
  usageIntervalMs: 150,
};

export interface Harness {
  agent: NodeAgent;
  dataDir: string;
  images: ImageStore;
  sink: CaptureSink;
  registry: Registry;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  apply(spec: Partial<FunctionSpec> & { name: string }, replicas: number): Promise<FunctionReplicas>;
  fn(name: string, namespace?: string): Promise<FunctionReplicas | undefined>;
  logs(query: string): Promise<LogMessage[]>;
  close(): Promise<void>;
}

let counter = 0;

export interface HarnessOptions {
  env?: Record<string, string>;
  tuning?: Partial<AgentTuning>;
  node?: string;
  dataDir?: string;
  sharing?: Partial<TokenSchedulerOptions>;
  devices?: StartNodeAgentOptions['devices'];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'fastgshare-agent-')));
  const images = new ImageStore({ root: join(dataDir, 'images') });
  if (!(await images.exists('echo:latest')))
    await images.put('echo:latest', ECHO_BUNDLE, { fprocess: 'node server.mjs', language: 'test' });
  const config = readNodeConfig(
    {
      FASTGSHARE_DATA_DIR: dataDir,
      FASTGSHARE_NODE_PORT: '0',
      FASTGSHARE_DRAIN_TIMEOUT_MS: '2000',
      FASTGSHARE_REPLICA_START_TIMEOUT_MS: '5000',
      ...opts.env,
    },
    opts.node ?? `node-${process.pid}-${++counter}`,
  );
  const sink = new CaptureSink();
  const registry = new Registry();
  const agent = await startNodeAgent({
    config,
    images,
    log: createLogger({ sink, level: 'debug' }),
    registry,
    tuning: { ...FAST_TUNING, ...opts.tuning },
    sharing: opts.sharing,
    devices: opts.devices,
  });
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(agent.url + path, {
      method,
      headers: {
        authorization: `Bearer ${agent.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* plain text */
    }
    return { status: res.status, body: parsed as T };
  };
  return {
    agent,
    dataDir,
    images,
    sink,
    registry,
    call,
    async apply(spec, replicas) {
      const req: ApplyFunctionRequest = { spec: makeSpec(spec), replicas };
      const res = await call<FunctionReplicas>('PUT', `/v1/functions/${req.spec.namespace}/${req.spec.name}`, req);
      if (res.status !== 200) throw new Error(`apply failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async fn(name, namespace = 'openfaas-fn') {
      const res = await call<FunctionReplicas[]>('GET', '/v1/functions');
      return res.body.find((f) => f.name === name && f.namespace === namespace);
    },
    async logs(query) {
      const res = await fetch(`${agent.url}/v1/logs?${query}`, { headers: { authorization: `Bearer ${agent.token}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`logs failed: ${res.status} ${text}`);
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogMessage);
    },
    async close() {
      await agent.close();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function makeSpec(spec: Partial<FunctionSpec> & { name: string }): FunctionSpec {
  return {
    namespace: 'openfaas-fn',
    image: 'echo:latest',
    envVars: {},
    labels: {},
    annotations: {},
    secrets: {},
    readOnlyRootFilesystem: false,
    ...spec,
  };
}

/** Waits until the function has exactly `n` replicas, all ready. */
export function waitReady(h: Harness, name: string, n: number, timeoutMs = 8_000): Promise<FunctionReplicas> {
  return waitFor(
    `${n} ready replicas of ${name}`,
    async () => {
      const f = await h.fn(name);
      return f && f.replicas.length === n && f.replicas.every((r) => r.state === 'ready') ? f : undefined;
    },
    timeoutMs,
  );
}

/** True while the process runs (a zombie, exited but not reaped by its parent, counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A process that looks like a replica (FASTGSHARE_REPLICA_ID in its environment), leading its own process group. */
export function fakeReplica(replicaId: string): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, FASTGSHARE_REPLICA_ID: replicaId },
  });
}

/** The replica records in an agent's data dir (none when the file is missing). */
export async function readRecords(dataDir: string): Promise<ReplicaRecord[]> {
  try {
    return (JSON.parse(await readFile(replicaRecordsPath(dataDir), 'utf8')) as ReplicaRecordsFile).replicas;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Mocha hooks for a suite that drives a real agent: an agent harness for the suite (default) or
 * for each test (`perTest`). Read `ctx.h` in tests.
 */
export function useAgentHarness(opts: { perTest?: boolean } = {}): { h: Harness } {
  const ctx = {} as { h: Harness };
  if (!opts.perTest) {
    before(async () => {
      ctx.h = await startHarness();
    });
    after(async () => {
      await ctx.h?.close();
    });
  }
  if (opts.perTest) {
    beforeEach(async () => {
      ctx.h = await startHarness();
    });
    afterEach(async () => {
      await ctx.h?.close();
    });
  }
  return ctx;
}
