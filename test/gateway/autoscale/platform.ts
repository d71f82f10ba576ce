/**
 * A real platform in one process for the auto-scaler tests: the embedded store, a node agent
 * running echo fixture replicas as processes, and a gateway with the options a test gives
 * (profiles, requestProfile, balancer, placement, environment).
 */
import { expect } from 'chai';
import { eventually } from '../../helpers/eventually.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readGatewayConfig, readNodeConfig, type Env } from '../../../core/config.ts';
import { ImageStore } from '../../../core/images/image-store.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { startTestStore, type TestStore } from '../../helpers/store.ts';
import { startNodeAgent, type NodeAgent, type StartNodeAgentOptions } from '../../../fast-manager/main.ts';
import { startGateway, type Gateway, type StartGatewayOptions } from '../../../gateway/main.ts';
import { createHttpNodeAgentClient } from '../../../gateway/node-client.ts';
import { ECHO_FIXTURE, type CallResult } from '../harness.ts';

export interface AutoscalePlatform {
  gateway: Gateway;
  agent: NodeAgent;
  sink: CaptureSink;
  call(method: string, path: string, body?: unknown): Promise<CallResult>;
  eventually<T>(check: () => Promise<T>, timeoutMs?: number): Promise<T>;
  /** Deploys `service` from the echo fixture (scale 1..4) with `annotations`; asserts the 202. */
  deploy(service: string, annotations: Record<string, string>): Promise<void>;
  /** Waits until `service` has `n` available replicas. */
  untilAvailable(service: string, n: number, timeoutMs?: number): Promise<void>;
  /** Prints the autoscaler's decisions and the warnings logged so far (to explain a failed test). */
  printAutoscalerLog(): void;
  close(): Promise<void>;
}

let seq = 0;

export async function startAutoscalePlatform(
  o: {
    env?: Env;
    /** Extra node agent config, e.g. FASTGSHARE_EMULATED_DEVICES. */ nodeEnv?: Env;
    /** The agent's token scheduler options (e.g. a short window). */ sharing?: StartNodeAgentOptions['sharing'];
    gateway?: Partial<Pick<StartGatewayOptions, 'profiles' | 'requestProfile' | 'balancer' | 'placement'>>;
  } = {},
): Promise<AutoscalePlatform> {
  const testStore: TestStore = await startTestStore();
  const dataDir = await mkdtemp(join(tmpdir(), 'fastgshare-autoscale-'));
  const images = new ImageStore({ root: join(dataDir, 'images') });
  await images.put('echo:latest', ECHO_FIXTURE, { fprocess: 'node server.mjs', language: 'test' });
  const sink = new CaptureSink();
  const log = createLogger({ sink, level: 'debug' });
  const agent = await startNodeAgent({
    config: readNodeConfig(
      {
        FASTGSHARE_DATA_DIR: join(dataDir, 'node'),
        FASTGSHARE_NODE_PORT: '0',
        FASTGSHARE_DRAIN_TIMEOUT_MS: '1000',
        FASTGSHARE_REPLICA_START_TIMEOUT_MS: '10000',
        ...o.nodeEnv,
      },
      `as-node-${process.pid}-${++seq}`,
    ),
    images,
    log: log.child('node'),
    registry: new Registry(),
    tuning: {
      drainGraceMs: 150,
      startPollMs: 30,
      healthIntervalMs: 200,
      backoffBaseMs: 100,
      backoffMaxMs: 500,
      usageIntervalMs: 150,
    },
    ...(o.sharing ? { sharing: o.sharing } : {}),
  });
  const gateway = await startGateway({
    config: readGatewayConfig({
      PORT: '0',
      FASTGSHARE_HOST: '127.0.0.1',
      FASTGSHARE_DATA_DIR: dataDir,
      FASTGSHARE_READY_TIMEOUT_MS: '8000',
      ...o.env,
    }),
    store: testStore.store,
    nodes: [createHttpNodeAgentClient(agent.url, { token: agent.token })],
    log,
    registry: new Registry(),
    tuning: { reconcileMs: 500, pollMs: 50, countFlushMs: 200 },
    ...o.gateway,
  });
  const call: AutoscalePlatform['call'] = async (method, path, body) => {
    const res = await fetch(gateway.url + path, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, headers: res.headers, json: () => JSON.parse(text) };
  };
  return {
    gateway,
    agent,
    sink,
    call,
    eventually,
    async deploy(service, annotations) {
      const r = await call('POST', '/system/functions', {
        service,
        image: 'echo:latest',
        labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4' },
        annotations,
      });
      expect(r.status, r.text).to.equal(202);
    },
    async untilAvailable(service, n, timeoutMs = 15_000) {
      await eventually(
        async () => expect((await call('GET', `/system/function/${service}`)).json().availableReplicas).to.equal(n),
        timeoutMs,
      );
    },
    printAutoscalerLog() {
      for (const r of sink.records.filter((x) => x.message.includes('autoscaler') || x.level === 'warn'))
        console.log(r.level, r.message, JSON.stringify(r.fields));
    },
    async close() {
      await gateway.close();
      await agent.close();
      await testStore.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The environment a replica's own process was started with (Linux /proc). `pid` is the group
 * leader the agent reports: in the sandbox that is bubblewrap's monitor on the host side, so the
 * replica is the member of its process group that has the replica's environment (PORT).
 */
export function processEnv(pid: number): Record<string, string> {
  const envOf = (p: number): Record<string, string> =>
    Object.fromEntries(
      readFileSync(`/proc/${p}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  const group = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => {
      try {
        // field 5 of /proc/<pid>/stat (after the parenthesised command) is the process group
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pid;
      } catch {
        return false;
      }
    });
  for (const p of [pid, ...group.filter((p) => p !== pid).sort((a, b) => a - b)]) {
    try {
      const env = envOf(p);
      if (env.PORT) return env;
    } catch {
      /* exited meanwhile */
    }
  }
  throw new Error(`no process in the group of ${pid} has a replica environment`);
}

/** Calls `url` at `rps` (open loop) until stopped; `stop()` waits for the calls in flight and says how many failed. */
export function fixedRateLoad(url: string, rps: number): { stop(): Promise<{ failures: number }> } {
  let stopped = false;
  let failures = 0;
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    let next = Date.now();
    while (!stopped) {
      // a fixed rate, not a catch-up: after a stall of the (busy) machine, go on from now instead of
      // sending the missed requests in one burst (which the autoscaler would see as a peak)
      next = Math.max(next + 1000 / rps, Date.now());
      const req: Promise<void> = fetch(url, { method: 'POST', body: 'x' }).then(
        async (r) => {
          await r.text();
          if (r.status !== 200) failures++;
        },
        () => void failures++,
      );
      inflight.add(req);
      void req.finally(() => inflight.delete(req));
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(inflight);
      return { failures };
    },
  };
}
