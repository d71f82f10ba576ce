/**
 * A node agent (in this process) with token sharing at window W = 1 s, serving real onnx-node
 * replicas built once from a stack file; the benchmark starts one per (device, mode) because
 * time-sharing-only is an agent-wide scheduler option (and the number of emulated devices a node
 * setting).
 */
import { useForwardToken } from './sharing-load.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readNodeConfig } from '../../core/config.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { createImageBuilder } from '../../core/images/builder.ts';
import { loadStackFile } from '../../core/images/stack-file.ts';
import { CaptureSink, createLogger, silentLogger } from '../../core/logger.ts';
import { openStore, type Store } from '../../core/store/open-store.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';
import type { DeviceTimeline, FunctionReplicas } from '../../core/contracts/node-agent.ts';
import { startNodeAgent, type NodeAgent } from '../../fast-manager/main.ts';

export interface ReplicaShare {
  request?: number;
  limit?: number;
  partition: number;
}

export interface BuiltStack {
  dir: string;
  images: ImageStore;
  store: Store;
  stack: Awaited<ReturnType<typeof loadStackFile>>;
  close(): Promise<void>;
}

export async function buildStack(stackFile: string, functions: string[]): Promise<BuiltStack> {
  const dir = await mkdtemp(join(tmpdir(), 'fg-bench-sharing-'));
  const images = new ImageStore({ root: join(dir, 'images') });
  const stack = await loadStackFile(join(PLATFORM_ROOT, stackFile));
  const builder = createImageBuilder({ images, log: silentLogger });
  for (const f of functions) await builder.buildStack(stack, { filter: f, buildRoot: join(dir, 'build') });
  const store = await openStore({ dataDir: join(dir, 'store'), log: silentLogger });
  return {
    dir,
    images,
    store,
    stack,
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface BenchNode {
  url: string;
  /** The agent's data folder (its model cache is `model-cache/` inside). */
  dataDir: string;
  /** Deploys (or updates) `name` from the stack's `from` with `share`; `extra` annotations win. */
  deploy(
    name: string,
    from: string,
    share: ReplicaShare,
    opts?: { replicas?: number; annotations?: Record<string, string> },
  ): Promise<void>;
  remove(name: string): Promise<void>;
  /** The agent's timeline of `device` over the last `lastMs` (GET /v1/devices/:device/timeline). */
  timeline(device: string, lastMs: number): Promise<DeviceTimeline>;
  /** The function's replicas as the agent reports them. */
  replicas(name: string): Promise<FunctionReplicas['replicas']>;
  /** Waits until each named function has a ready replica; returns their URLs. */
  ready(names: string[], timeoutMs?: number): Promise<Record<string, string>>;
  close(): Promise<void>;
}

let seq = 0;

/**
 * Writes `timelines` as `<BENCH_TIMELINE_DIR>/<name>.json` for a look at where device time went (default: not
 * written).
 */
export async function saveTimelines(name: string, timelines: DeviceTimeline[]): Promise<void> {
  const dir = process.env.BENCH_TIMELINE_DIR;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.json`), JSON.stringify(timelines));
}

/** The token window W of bench nodes (BENCH_WINDOW_MS, default 1000). */
export const BENCH_WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1000);

/**
 * The longest token as a fraction of the tightest SLO of the other replicas (BENCH_SLO_TOKEN_FRACTION; default: the
 * scheduler's own, DEFAULT_TOKEN_OPTIONS.sloTokenFraction), to try other trade-offs of waiting against hand-overs.
 */
const SLO_TOKEN_FRACTION = process.env.BENCH_SLO_TOKEN_FRACTION
  ? { sloTokenFraction: Number(process.env.BENCH_SLO_TOKEN_FRACTION) }
  : {};

export async function startBenchNode(
  built: BuiltStack,
  timeSharingOnly: boolean,
  opts: { emulatedDevices?: number } = {},
): Promise<BenchNode> {
  const dataDir = join(built.dir, `node-${++seq}`);
  const config = readNodeConfig(
    {
      FASTGSHARE_DATA_DIR: dataDir,
      FASTGSHARE_NODE_PORT: '0',
      FASTGSHARE_DRAIN_TIMEOUT_MS: '2000',
      FASTGSHARE_REPLICA_START_TIMEOUT_MS: '60000',
      FASTGSHARE_EMULATED_DEVICES: String(opts.emulatedDevices ?? 1),
    },
    `bench-sharing-${process.pid}-${seq}`,
  );
  const agent: NodeAgent = await startNodeAgent({
    config,
    images: built.images,
    log: createLogger({ sink: new CaptureSink(), level: 'warn' }),
    registry: new Registry(),
    tuning: { healthIntervalMs: 500, healthTimeoutMs: 3000, unhealthyAfter: 5, startPollMs: 50 },
    sharing: {
      windowMs: BENCH_WINDOW_MS,
      baseQuotaMs: Math.min(50, BENCH_WINDOW_MS / 4),
      minQuotaMs: 5,
      timeSharingOnly,
      ...SLO_TOKEN_FRACTION,
    },
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(agent.url + path, {
      method,
      headers: { authorization: `Bearer ${agent.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  return {
    url: agent.url,
    dataDir,
    async deploy(name, from, share, opts = {}) {
      const fn = built.stack.spec.functions[from];
      if (!fn) throw new Error(`${from} is not in the stack`);
      const annotations: Record<string, string> = { ...(fn.annotations ?? {}) };
      delete annotations['fastgshare/gpu_quota_request'];
      delete annotations['fastgshare/gpu_quota_limit'];
      if (share.request !== undefined) annotations['fastgshare/gpu_quota_request'] = String(share.request);
      if (share.limit !== undefined) annotations['fastgshare/gpu_quota_limit'] = String(share.limit);
      annotations['fastgshare/gpu_sm_partition'] = String(share.partition);
      Object.assign(annotations, opts.annotations);
      const spec = {
        name,
        namespace: 'openfaas-fn',
        image: fn.image!,
        envVars: {},
        labels: {},
        annotations,
        secrets: {},
        readOnlyRootFilesystem: false,
      };
      const r = await call('PUT', `/v1/functions/openfaas-fn/${name}`, { spec, replicas: opts.replicas ?? 1 });
      if (r.status !== 200) throw new Error(`deploy ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async remove(name) {
      const r = await call('DELETE', `/v1/functions/openfaas-fn/${name}`);
      if (r.status >= 300 && r.status !== 404) throw new Error(`remove ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async timeline(device, lastMs) {
      const r = await call('GET', `/v1/devices/${encodeURIComponent(device)}/timeline?last=${Math.round(lastMs)}`);
      if (r.status !== 200) throw new Error(`timeline ${device}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as DeviceTimeline;
    },
    async replicas(name) {
      const fns = (await call('GET', '/v1/functions')).body as FunctionReplicas[];
      return fns.find((f) => f.name === name)?.replicas ?? [];
    },
    async ready(names, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const fns = (await call('GET', '/v1/functions')).body as FunctionReplicas[];
        const urls: Record<string, string> = {};
        for (const n of names) {
          const r = fns.find((f) => f.name === n)?.replicas.find((x) => x.state === 'ready');
          if (r) urls[n] = useForwardToken(r);
        }
        if (Object.keys(urls).length === names.length) return urls;
        if (Date.now() > deadline) throw new Error(`replicas not ready: ${names.filter((n) => !urls[n]).join(', ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    close: () => agent.close(),
  };
}
