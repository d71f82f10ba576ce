/**
 * Enforcement with real processes: saturated token-gated replicas (test/fixtures/token-replica,
 * the emulated-device pattern: each sleeps for its granted quota) under the real node agent and
 * its token server, measured by the server's meter (GET /v1/usage). Window 1 s so shares converge
 * within a few seconds. Every assertion fails when tokens are not enforced.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { readNodeConfig } from '../../../core/config.ts';
import { ImageStore } from '../../../core/images/image-store.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { startTestStore, type TestStore } from '../../helpers/store.ts';
import { startNodeAgent, type NodeAgent } from '../../../fast-manager/main.ts';
import type { UsageSnapshot } from '../../../fast-manager/sharing/meter.ts';
import type { DeviceOccupancy } from '../../../fast-manager/sharing/token-server.ts';
import { FAST_TUNING, makeSpec, waitFor } from '../harness.ts';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'token-replica');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Usage = UsageSnapshot & { devices: DeviceOccupancy[] };

describe('share enforcement with real replicas (emulated device)', function () {
  this.timeout(60_000);
  let ts: TestStore;
  let agent: NodeAgent;
  let dir: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(agent.url + path, {
      method,
      headers: { authorization: `Bearer ${agent.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const usage = async () => (await call('GET', '/v1/usage')).body as Usage;
  const deploy = async (
    name: string,
    a: { request?: number; limit?: number; partition?: number },
    env: Record<string, string> = {},
  ) => {
    const annotations: Record<string, string> = {
      'fastgshare/device': 'emulated',
      'fastgshare/emulated_profile': 'resnet50',
    };
    if (a.request !== undefined) annotations['fastgshare/gpu_quota_request'] = String(a.request);
    if (a.limit !== undefined) annotations['fastgshare/gpu_quota_limit'] = String(a.limit);
    if (a.partition !== undefined) annotations['fastgshare/gpu_sm_partition'] = String(a.partition);
    const spec = makeSpec({ name, image: 'saturate:latest', annotations, envVars: env });
    deployed.add(name);
    return call('PUT', `/v1/functions/openfaas-fn/${name}`, { spec, replicas: 1 });
  };
  /** Waits until every named function has a replica holding or having held a token. */
  const running = (names: string[]) =>
    waitFor(
      `${names.join(', ')} connected`,
      async () => {
        const u = await usage();
        return names.every((n) => u.replicas.some((r) => r.function === `${n}.openfaas-fn`)) ? u : undefined;
      },
      15_000,
    );
  /** Device-time fraction of each function over `ms`, from the meter's held seconds. */
  const measure = async (names: string[], ms: number) => {
    await sleep(600); // let the window fill
    const a = await usage();
    const t0 = Date.now();
    await sleep(ms);
    const b = await usage();
    const wall = (Date.now() - t0) / 1000;
    const held = (u: Usage, n: string) => u.functions.find((f) => f.function === `${n}.openfaas-fn`)?.heldSeconds ?? 0;
    const dev = (u: Usage) => u.devices.find((d) => d.device === 'emulated')!;
    return {
      share: Object.fromEntries(names.map((n) => [n, (held(b, n) - held(a, n)) / wall])),
      busy: (dev(b).busySeconds - dev(a).busySeconds) / wall,
      maxHolders: dev(b).maxHolders,
      snapshot: b,
    };
  };
  /** Functions deployed by the running test: removed after it even when it fails, so no replica outlives its test. */
  const deployed = new Set<string>();
  const remove = (...names: string[]) =>
    Promise.all(
      names.map((n) => {
        deployed.delete(n);
        return call('DELETE', `/v1/functions/openfaas-fn/${n}`);
      }),
    );
  afterEach(async () => {
    if (deployed.size) await remove(...deployed);
  });

  before(async () => {
    ts = await startTestStore();
    dir = await mkdtemp(join(tmpdir(), 'fg-share-'));
    const images = new ImageStore({ root: join(dir, 'images') });
    await images.put('saturate:latest', FIXTURE, { fprocess: `tsx ${join(FIXTURE, 'main.ts')}`, language: 'test' });
    const config = readNodeConfig(
      {
        FASTGSHARE_DATA_DIR: dir,
        FASTGSHARE_NODE_PORT: '0',
        FASTGSHARE_DRAIN_TIMEOUT_MS: '2000',
        FASTGSHARE_REPLICA_START_TIMEOUT_MS: '15000',
      },
      `share-${process.pid}`,
    );
    agent = await startNodeAgent({
      config,
      images,
      log: createLogger({ sink: new CaptureSink(), level: 'debug' }),
      registry: new Registry(),
      tuning: FAST_TUNING,
      sharing: { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 5 },
    });
  });
  after(async () => {
    await agent?.close();
    await ts?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a bad share annotation with a 400 naming it, before anything runs', async () => {
    const r = await deploy('bad', { request: 0.5, limit: 0.2 });
    expect(r.status).to.equal(400);
    expect(r.body.message).to.include('fastgshare/gpu_quota_limit');
    const p = await deploy('bad', { request: 0.5, partition: 150 });
    expect(p.status).to.equal(400);
    expect(p.body.message).to.include('fastgshare/gpu_sm_partition').and.include('1 to 100');
    expect((await call('GET', '/v1/functions')).body).to.deep.equal([]);
  });

  it('splits the device 30/70 between saturated replicas with requests 0.3/0.7', async () => {
    expect((await deploy('s30', { request: 0.3, limit: 0.3 })).status).to.equal(200);
    expect((await deploy('s70', { request: 0.7, limit: 0.7 })).status).to.equal(200);
    await running(['s30', 's70']);
    const m = await measure(['s30', 's70'], 5000);
    expect(m.share.s30, 's30').to.be.within(0.25, 0.35);
    expect(m.share.s70, 's70').to.be.within(0.65, 0.75);
    const fn = m.snapshot.functions.find((f) => f.function === 's30.openfaas-fn')!;
    expect(fn.tokensGranted).to.be.above(10);
    expect(fn.waitSeconds).to.be.above(0);
    expect(fn.reservedDeviceSeconds).to.be.above(0);
    await remove('s30', 's70');
  });

  it('caps a lone replica at its limit (0.4 → ≤ 0.42) and applies a changed quota without a restart', async () => {
    await deploy('cap', { request: 0.4, limit: 0.4 });
    const u = await running(['cap']);
    const id = u.replicas.find((r) => r.function === 'cap.openfaas-fn')!.replicaId;
    const m = await measure(['cap'], 3000);
    expect(m.share.cap).to.be.within(0.34, 0.42);
    expect((await deploy('cap', { request: 0.15, limit: 0.15 })).status).to.equal(200);
    const m2 = await measure(['cap'], 3000);
    expect(m2.share.cap).to.be.within(0.1, 0.16);
    expect(m2.snapshot.replicas.find((r) => r.function === 'cap.openfaas-fn')!.replicaId).to.equal(id); // same process
    await remove('cap');
  });

  it('is work conserving: request 0.3, limit 1 uses > 0.9 while the other replica idles', async () => {
    await deploy('wc', { request: 0.3, limit: 1 });
    await deploy('idle', { request: 0.7, limit: 0.7 }, { IDLE: '1' });
    await running(['wc', 'idle']);
    const m = await measure(['wc', 'idle'], 3000);
    expect(m.share.wc).to.be.above(0.9);
    expect(m.share.idle).to.equal(0);
    await remove('wc', 'idle');
  });

  it('alternates two replicas at partition 100, and runs two at partition 50 at once', async () => {
    await deploy('p100a', { request: 0.5, limit: 1, partition: 100 });
    await deploy('p100b', { request: 0.5, limit: 1, partition: 100 });
    await running(['p100a', 'p100b']);
    const m1 = await measure(['p100a', 'p100b'], 2500);
    expect(m1.busy).to.be.above(0.85);
    expect(m1.share.p100a).to.be.within(0.35, 0.65);
    expect(m1.maxHolders, 'never two holders at once at partition 100').to.equal(1);
    await remove('p100a', 'p100b');

    await deploy('p50a', { request: 0.5, limit: 0.8, partition: 50 });
    await deploy('p50b', { request: 0.5, limit: 0.8, partition: 50 });
    await running(['p50a', 'p50b']);
    const m = await measure(['p50a', 'p50b'], 2500);
    // each holds up to 0.8 of the time, concurrently: Σ held ≈ 1.6, above the busy wall time
    expect(m.share.p50a! + m.share.p50b!).to.be.above(1.3);
    expect(m.share.p50a! + m.share.p50b!).to.be.above(m.busy * 1.2);
    expect(m.maxHolders).to.equal(2);
    await remove('p50a', 'p50b');
  });
});
