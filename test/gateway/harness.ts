/**
 * Gateway test harness: the real embedded store, a real node agent with the echo fixture in a
 * temporary image store, and a gateway in front of it on a free port. `call` replays HTTP
 * requests the way faas-cli sends them.
 */
import { eventually } from '../helpers/eventually.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { readGatewayConfig, readNodeConfig, type Env } from '../../core/config.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { CaptureSink, createLogger } from '../../core/logger.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { startNodeAgent, type NodeAgent } from '../../fast-manager/main.ts';
import { startGateway, type Gateway } from '../../gateway/main.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';

export const ECHO_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'echo');

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  /**
   * The body as JSON: T where the caller names the contract type; otherwise `any`, for tests that probe ad-hoc fields.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only JSON accessor (see above)
  json<T = any>(): T;
}

export interface GatewayHarness {
  gateway: Gateway;
  agents: NodeAgent[];
  /** The image store the node agents run bundles from. */
  images: ImageStore;
  testStore: TestStore;
  sink: CaptureSink;
  registry: Registry;
  call(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string> }): Promise<CallResult>;
  /** Polls until `check` passes (or throws its last error after `timeoutMs`). */
  eventually<T>(check: () => Promise<T>, timeoutMs?: number): Promise<T>;
  /**
   * Waits until every invocation of `fn` (`name.namespace`) the gateway started has finished, and so has been counted:
   * its metrics count both, and a finished call reaches them and the invocation counter in the same step.
   */
  invocationsSettled(fn: string): Promise<void>;
  /** applyFunction calls the nodes have answered since the gateway started (each reconcile pass applies all). */
  applied(): number;
  /** Stops node agent `i`; `startAgent(i)` brings it back on the same port and data directory. */
  stopAgent(i: number): Promise<void>;
  startAgent(i: number): Promise<void>;
  /** A new gateway process on the same store and nodes (the old one is closed). */
  restartGateway(): Promise<void>;
  close(): Promise<void>;
}

let seq = 0;

export async function startGatewayHarness(opts: { env?: Env; nodes?: number } = {}): Promise<GatewayHarness> {
  const testStore = await startTestStore();
  const dataDir = await mkdtemp(join(tmpdir(), 'fastgshare-gw-'));
  const images = new ImageStore({ root: join(dataDir, 'images') });
  await images.put('echo:latest', ECHO_FIXTURE, { fprocess: 'node server.mjs', language: 'test' });
  const sink = new CaptureSink();
  const log = createLogger({ sink, level: 'debug' });
  const agents: NodeAgent[] = [];
  const agentNames: string[] = [];
  const launchAgent = async (i: number, port: number) => {
    agentNames[i] ??= `gw-node-${process.pid}-${++seq}`;
    const config = readNodeConfig(
      {
        FASTGSHARE_DATA_DIR: join(dataDir, `node${i}`),
        FASTGSHARE_NODE_PORT: String(port),
        FASTGSHARE_DRAIN_TIMEOUT_MS: '1000',
        FASTGSHARE_REPLICA_START_TIMEOUT_MS: '10000',
      },
      agentNames[i]!,
    );
    agents[i] = await startNodeAgent({
      config,
      images,
      log: log.child(`node${i}`),
      registry: new Registry(),
      tuning: {
        drainGraceMs: 150,
        startPollMs: 30,
        healthIntervalMs: 200,
        backoffBaseMs: 100,
        backoffMaxMs: 500,
        usageIntervalMs: 150,
      },
    });
  };
  for (let i = 0; i < (opts.nodes ?? 1); i++) await launchAgent(i, 0);
  const stopped = new Set<number>();
  const config = readGatewayConfig({
    PORT: '0',
    FASTGSHARE_HOST: '127.0.0.1',
    FASTGSHARE_DATA_DIR: dataDir,
    FASTGSHARE_READY_TIMEOUT_MS: '8000',
    ...opts.env,
  });
  let registry = new Registry();
  // applyFunction calls answered, per gateway launch (a closed gateway's late answers do not count)
  let applied = { n: 0 };
  const counted = (c: NodeAgentClient, count: { n: number }): NodeAgentClient => ({
    ...c,
    async applyFunction(req) {
      const r = await c.applyFunction(req);
      count.n++;
      return r;
    },
  });
  const launchGateway = () => {
    const count = (applied = { n: 0 });
    return startGateway({
      config,
      store: testStore.store,
      nodes: agents.map((a) => counted(createHttpNodeAgentClient(a.url, { token: a.token }), count)),
      log,
      registry,
      tuning: { reconcileMs: 500, pollMs: 50, countFlushMs: 200 },
    });
  };
  let gateway = await launchGateway();

  const call = async (
    method: string,
    path: string,
    o: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<CallResult> => {
    const res = await fetch(harness.gateway.url + path, {
      method,
      headers: o.headers,
      body:
        o.body === undefined
          ? undefined
          : typeof o.body === 'string' || o.body instanceof Uint8Array
            ? (o.body as string)
            : JSON.stringify(o.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };

  const harness: GatewayHarness = {
    get gateway() {
      return gateway;
    },
    agents,
    images,
    testStore,
    sink,
    get registry() {
      return registry;
    },
    call,
    async stopAgent(i) {
      stopped.add(i);
      await agents[i]!.close();
    },
    async startAgent(i) {
      await launchAgent(i, agents[i]!.port);
      stopped.delete(i);
    },
    async restartGateway() {
      await gateway.close();
      registry = new Registry();
      gateway = await launchGateway();
    },
    eventually,
    async invocationsSettled(fn) {
      const sum = async (metric: string) =>
        ((await registry.getSingleMetric(metric)?.get())?.values ?? [])
          .filter((v) => v.labels.function_name === fn)
          .reduce((a, v) => a + v.value, 0);
      await eventually(async () => {
        const [started, finished] = [
          await sum('gateway_function_invocation_started'),
          await sum('gateway_function_invocation_total'),
        ];
        if (finished !== started) throw new Error(`${fn}: ${started} invocations started, ${finished} finished`);
      });
    },
    applied: () => applied.n,
    async close() {
      await gateway.close();
      for (const [i, a] of agents.entries()) if (!stopped.has(i)) await a.close();
      await testStore.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
