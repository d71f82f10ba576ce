/**
 * A node agent with token sharing (window 1 s) serving real onnx-node replicas built from a stack
 * file, a closed-loop load generator per function that talks to its replica directly, and share
 * measurements from the agent's meter (GET /v1/usage) and from the work the replicas completed.
 * Used by the real-inference enforcement tests (test/e2e/sharing-*.timing.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readNodeConfig } from '../../../core/config.ts';
import { ImageStore } from '../../../core/images/image-store.ts';
import { createImageBuilder } from '../../../core/images/builder.ts';
import { loadStackFile } from '../../../core/images/stack-file.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { PLATFORM_ROOT } from '../../../core/version.ts';
import { FORWARD_TOKEN_HEADER, type FunctionReplicas } from '../../../core/contracts/node-agent.ts';
import { startTestStore, type TestStore } from '../../helpers/store.ts';
import { startNodeAgent, type NodeAgent } from '../../../fast-manager/main.ts';
import type { UsageSnapshot } from '../../../fast-manager/sharing/meter.ts';
import type { DeviceOccupancy } from '../../../fast-manager/sharing/token-server.ts';
import { FAST_TUNING, makeSpec, waitFor } from '../harness.ts';

export type Usage = UsageSnapshot & { devices: DeviceOccupancy[] };
export interface Share {
  request?: number;
  limit?: number;
  partition?: number;
}

export interface Load {
  /** Requests answered 200 so far. */
  readonly done: number;
  stop(): Promise<void>;
}

export interface SharingNode {
  agent: NodeAgent;
  /** Deploys (or updates) `name` from the stack's function `from`, with these sharing annotations. */
  deploy(
    name: string,
    from: string,
    share: Share,
    extra?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  remove(...names: string[]): Promise<void>;
  /**
   * Waits until each function has one replica, ready and connected to the token server, other
   * than those in `replaced`; returns their URLs and ids.
   */
  ready(
    names: string[],
    replaced?: Record<string, string>,
    timeoutMs?: number,
  ): Promise<{ urls: Record<string, string>; ids: Record<string, string> }>;
  usage(): Promise<Usage>;
  /** Remembers a replica's forward token for `load` (ready() does it for the replicas it returns). */
  remember(replica: { url: string; forwardToken?: string }): void;
  /** `concurrency` closed-loop clients posting `body` to the replica at `url` until stopped. */
  load(url: string, body: Buffer, contentType: string, concurrency: number): Load;
  /** Held-time share of each function, busy fraction of the device and requests done per second, over `ms`. */
  measure(device: string, names: string[], ms: number, loads: Record<string, Load>): Promise<Measurement>;
  close(): Promise<void>;
}

export interface Measurement {
  share: Record<string, number>;
  rate: Record<string, number>;
  busy: number;
  maxHolders: number;
  snapshot: Usage;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startSharingNode(o: {
  stack: string;
  functions: string[];
  /** Extra node config, e.g. FASTGSHARE_EMULATED_DEVICES. */ env?: Record<string, string>;
}): Promise<SharingNode> {
  const ts: TestStore = await startTestStore();
  const dir = await mkdtemp(join(tmpdir(), 'fg-share-real-'));
  const log = createLogger({ sink: new CaptureSink(), level: 'info' });
  const images = new ImageStore({ root: join(dir, 'images') });
  const stack = await loadStackFile(join(PLATFORM_ROOT, o.stack));
  const builder = createImageBuilder({ images, log });
  for (const f of o.functions) await builder.buildStack(stack, { filter: f, buildRoot: join(dir, 'build') });
  const config = readNodeConfig(
    {
      FASTGSHARE_DATA_DIR: dir,
      FASTGSHARE_NODE_PORT: '0',
      FASTGSHARE_DRAIN_TIMEOUT_MS: '3000',
      FASTGSHARE_REPLICA_START_TIMEOUT_MS: '60000',
      ...o.env,
    },
    `share-real-${process.pid}`,
  );
  const agent = await startNodeAgent({
    config,
    images,
    log,
    registry: new Registry(),
    tuning: { ...FAST_TUNING, healthTimeoutMs: 2_000, unhealthyAfter: 5, restartAfterFailures: 8 },
    sharing: { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 5 },
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(agent.url + path, {
      method,
      headers: { authorization: `Bearer ${agent.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const usage = async () => (await call('GET', '/v1/usage')).body as Usage;
  const loads = new Set<Load>();
  /** Forward token of each replica, by its origin (http://host:port). */
  const forwardTokens = new Map<string, string>();

  return {
    agent,
    usage,
    async deploy(name, from, share, extra = {}) {
      const fn = stack.spec.functions[from];
      if (!fn) throw new Error(`${from} is not in ${o.stack}`);
      const annotations: Record<string, string> = { ...(fn.annotations ?? {}), 'fastgshare/slo_ms': '20000', ...extra };
      delete annotations['fastgshare/gpu_quota_request'];
      delete annotations['fastgshare/gpu_quota_limit'];
      if (share.request !== undefined) annotations['fastgshare/gpu_quota_request'] = String(share.request);
      if (share.limit !== undefined) annotations['fastgshare/gpu_quota_limit'] = String(share.limit);
      if (share.partition !== undefined) annotations['fastgshare/gpu_sm_partition'] = String(share.partition);
      const spec = makeSpec({ name, image: fn.image!, annotations });
      return call('PUT', `/v1/functions/openfaas-fn/${name}`, { spec, replicas: 1 });
    },
    async remove(...names) {
      await Promise.all(names.map((n) => call('DELETE', `/v1/functions/openfaas-fn/${n}`)));
      await waitFor(
        'removed',
        async () => {
          const fns = (await call('GET', '/v1/functions')).body as FunctionReplicas[];
          return names.every((n) => !fns.some((f) => f.name === n));
        },
        15_000,
      );
    },
    async ready(names, replaced = {}, timeoutMs = 60_000) {
      return waitFor(
        `${names.join(', ')} ready`,
        async () => {
          const fns = (await call('GET', '/v1/functions')).body as FunctionReplicas[];
          const u = await usage();
          const urls: Record<string, string> = {};
          const ids: Record<string, string> = {};
          for (const n of names) {
            const rs = fns.find((f) => f.name === n)?.replicas ?? [];
            const r = rs.find((x) => x.state === 'ready' && x.id !== replaced[n]);
            if (!r || rs.length !== 1 || !u.replicas.some((x) => x.replicaId === r.id)) return undefined;
            urls[n] = r.url;
            ids[n] = r.id;
            // replicas answer only requests that carry their forward token
            if (r.forwardToken) forwardTokens.set(new URL(r.url).origin, r.forwardToken);
          }
          return { urls, ids };
        },
        timeoutMs,
        200,
      );
    },
    remember(replica) {
      if (replica.forwardToken) forwardTokens.set(new URL(replica.url).origin, replica.forwardToken);
    },
    load(url, body, contentType, concurrency) {
      let stopped = false;
      let done = 0;
      const client = async () => {
        while (!stopped) {
          try {
            const token = forwardTokens.get(new URL(url).origin);
            const res = await fetch(url, {
              method: 'POST',
              body: new Uint8Array(body),
              headers: { 'content-type': contentType, ...(token ? { [FORWARD_TOKEN_HEADER]: token } : {}) },
            });
            await res.arrayBuffer();
            if (res.status === 200) done++;
            else await sleep(5);
          } catch {
            await sleep(20);
          }
        }
      };
      const clients = Array.from({ length: concurrency }, client);
      const l: Load = {
        get done() {
          return done;
        },
        async stop() {
          stopped = true;
          loads.delete(l);
          await Promise.all(clients);
        },
      };
      loads.add(l);
      return l;
    },
    async measure(device, names, ms, running) {
      await sleep(1500); // let the window fill under the current shares
      const a = await usage();
      const doneA = Object.fromEntries(names.map((n) => [n, running[n]?.done ?? 0]));
      const t0 = Date.now();
      await sleep(ms);
      const b = await usage();
      const wall = (Date.now() - t0) / 1000;
      const held = (u: Usage, n: string) =>
        u.functions.find((f) => f.function === `${n}.openfaas-fn`)?.heldSeconds ?? 0;
      const dev = (u: Usage) => u.devices.find((d) => d.device === device) ?? { busySeconds: 0, maxHolders: 0 };
      return {
        share: Object.fromEntries(names.map((n) => [n, (held(b, n) - held(a, n)) / wall])),
        rate: Object.fromEntries(names.map((n) => [n, ((running[n]?.done ?? 0) - doneA[n]!) / wall])),
        busy: (dev(b).busySeconds - dev(a).busySeconds) / wall,
        maxHolders: dev(b).maxHolders,
        snapshot: b,
      };
    },
    async close() {
      await Promise.all([...loads].map((l) => l.stop()));
      await agent.close();
      await ts.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
