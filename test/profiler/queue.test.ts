/**
 * The profiling queue as a user meets it (issue 14 item 3), on a real gateway with real Redis (a
 * unique prefix, removed afterwards) and the real CLI as a child process: a sweep that waits for its
 * device says so (GET /system/profiles, the job, `fastgshare profiles`, the progress line); asking
 * again is a 409 that names the CLI flags; `fastgshare profile` attaches to the queued sweep and
 * follows it to the end; Ctrl-C says the sweep goes on and how to cancel it; the queue route is the
 * admin's (a tenant 403, no one 401). Automatic profiling: the auto-scaler's sweeps use the short
 * grid, and FASTGSHARE_PROFILER_AUTO=false ends the automatic sweeps already queued, not a person's.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { readCommonConfig, type ProfilerConfig } from '../../core/config.ts';
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import type { NodeAgentClient, NodeInfo } from '../../core/contracts/node-agent.ts';
import { PlatformError } from '../../core/errors.ts';
import { createProfiler, type Profiler } from '../../profiler/profiler.ts';
import { autoGrid, AUTO_TRIAL_SECONDS } from '../../profiler/auto-grid.ts';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { waitFor } from '../fast-manager/harness.ts';
import { CLI, runCli } from '../cli/cli-process.ts';

const REDIS_URL = readCommonConfig({}).redisUrl;

async function deleteKeys(pattern: string): Promise<void> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, found] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (found.length) await r.del(...found);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

const EMULATED = {
  'fastgshare/device': 'emulated',
  'fastgshare/emulated_profile': 'v100-resnet50',
  'fastgshare/slo_ms': '100',
  'fastgshare/max_batch': '16',
};

describe('profiling queue: waiting, attaching, following, Ctrl-C', function () {
  this.timeout(90_000);
  const prefix = `fgs-test-profqueue-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  let h: GatewayHarness;
  let redis: Redis;
  let home: string;
  let lockKey: string;
  let env: Record<string, string>;

  before(async () => {
    h = await startGatewayHarness({
      env: { FASTGSHARE_PROFILER: 'true', FASTGSHARE_PROFILER_PREFIX: prefix, FASTGSHARE_AUTOSCALE: 'false' },
    });
    await h.testStore.store.models.Function.create({
      name: 'resnet50',
      namespace: 'openfaas-fn',
      image: 'emulated-resnet50:latest',
      annotations: EMULATED,
      labels: {},
      replicas: 0,
    });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    lockKey = `${prefix}:profiler:device-lock:${h.agents[0]!.name}:emulated`;
    home = await mkdtemp(join(tmpdir(), 'fgs-cli-queue-'));
    env = { HOME: home, OPENFAAS_CONFIG: join(home, '.openfaas'), OPENFAAS_URL: h.gateway.url };
  });
  after(async () => {
    await h?.close();
    redis?.disconnect();
    await deleteKeys(`${prefix}:*`);
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** Another sweep holds the emulated device (a run of a sweep that is not in this queue). */
  const holdDevice = () => redis.set(lockKey, 'someone-elses-sweep:run-1', 'PX', 60_000);
  const freeDevice = () => redis.del(lockKey);

  it('says what a queued sweep waits for, answers a second ask with the CLI flags, and lets the CLI attach and follow it', async () => {
    await holdDevice();
    const post = await h.call('POST', '/system/profiles/resnet50', { body: {} });
    expect(post.status, post.text).to.equal(202);
    const queued = post.json() as { id: string };

    const waiting = await h.eventually(async () => {
      const q = await h.call('GET', '/system/profiles');
      expect(q.status, q.text).to.equal(200);
      const body = q.json() as {
        running: number;
        sweeps: Array<{ id: string; state: string; waitingFor?: string; function: string }>;
      };
      expect(body.sweeps.map((s) => s.id)).to.deep.equal([queued.id]);
      expect(body.sweeps[0]!.state).to.equal('waiting');
      expect(body.sweeps[0]!.waitingFor).to.match(/^the device emulated on /);
      return body.sweeps[0]!;
    }, 20_000);
    expect(waiting.function).to.equal('resnet50.openfaas-fn');
    const job = (await h.call('GET', '/system/profiles/resnet50/job')).json() as { state: string; waitingFor?: string };
    expect(job.state).to.equal('waiting');
    expect(job.waitingFor).to.match(/the device emulated/);
    // another namespace's queue is empty; a bad namespace is a 400
    expect(
      ((await h.call('GET', '/system/profiles?namespace=other')).json() as { sweeps: unknown[] }).sweeps,
    ).to.deep.equal([]);
    expect((await h.call('GET', '/system/profiles?namespace=Bad..ns')).status).to.equal(400);

    const again = await h.call('POST', '/system/profiles/resnet50', { body: {} });
    expect(again.status).to.equal(409);
    expect(again.text)
      .to.contain('fastgshare profile resnet50 --cancel')
      .and.contain('follow it with `fastgshare profile resnet50`');
    expect(again.text).to.not.match(/DELETE/);

    const list = await runCli(['profiles'], { cwd: home, env });
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout).to.match(
      /resnet50\.openfaas-fn\s+waiting\s+request\s+\S+\/emulated\s+0\/0\s+waits for the device emulated/,
    );

    const detached = await runCli(['profile', 'resnet50', '--detach'], { cwd: home, env });
    expect(detached.code, detached.stderr).to.equal(0);
    expect(detached.stdout).to.contain(
      `Following the sweep of resnet50 that is already queued (job ${queued.id}, asked for earlier)`,
    );
    expect(detached.stdout).to.contain('`fastgshare profile resnet50 --cancel`');

    // follow it: the device comes free a moment later and the sweep completes
    setTimeout(() => void freeDevice(), 2500);
    const followed = await runCli(['profile', 'resnet50'], { cwd: home, env, timeoutMs: 40_000 });
    expect(followed.code, followed.stderr).to.equal(0);
    expect(followed.stderr).to.match(/waiting, waiting for the device emulated on /);
    expect(followed.stdout).to.match(/Profiled resnet50 on v100: \d+ measured and \d+ fitted configurations/);
    expect(followed.stdout).to.contain('fastgshare profile resnet50 --table');
    const table = await runCli(['profile', 'resnet50', '--table'], { cwd: home, env });
    expect(table.stdout).to.match(/^resnet50 on v100/);
    expect(table.stdout).to.not.match(/NaN|null/);
  });

  it('on Ctrl-C stops following, says the sweep goes on and how to cancel it; --cancel then cancels it', async () => {
    await holdDevice();
    const child = spawn(process.execPath, [CLI, 'profile', 'resnet50'], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('the progress line', async () => /waiting for the device/.test(err) || undefined, 30_000, 100);
      child.kill('SIGINT');
      expect(await exited).to.equal(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(out).to.match(/^Sweep \S+ of resnet50/);
    expect(err).to.match(
      /Stopped following\. The sweep goes on on the gateway \(job \S+\): follow it again with `fastgshare profile resnet50`, cancel it with `fastgshare profile resnet50 --cancel`\./,
    );
    const state = ((await h.call('GET', '/system/profiles/resnet50/job')).json() as { state: string }).state;
    expect(state).to.equal('waiting');
    const cancel = await runCli(['profile', 'resnet50', '--cancel'], { cwd: home, env });
    expect(cancel.code, cancel.stderr).to.equal(0);
    expect(cancel.stdout).to.match(/^Cancelled sweep \S+ of resnet50\./);
    const none = await runCli(['profiles'], { cwd: home, env });
    expect(none.stdout).to.equal('No profiling sweep is queued or running.\n');
    await freeDevice();
  });
});

describe('profiling queue route: the admin only', function () {
  this.timeout(60_000);
  const prefix = `fgs-test-profqauth-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  const admin = `Basic ${Buffer.from('admin:queue-admin-pw').toString('base64')}`;
  const tenant = `Basic ${Buffer.from('acme:acme-password-1').toString('base64')}`;
  let h: GatewayHarness;
  before(async () => {
    h = await startGatewayHarness({
      env: {
        FASTGSHARE_PROFILER: 'true',
        FASTGSHARE_PROFILER_PREFIX: prefix,
        FASTGSHARE_AUTOSCALE: 'false',
        FASTGSHARE_ADMIN_USER: 'admin',
        FASTGSHARE_ADMIN_PASSWORD: 'queue-admin-pw',
        FASTGSHARE_TENANT_HASH_ROUNDS: '4',
      },
    });
    const t = await h.call('POST', '/system/tenants', {
      body: { name: 'acme', namespaces: ['acme'], password: 'acme-password-1' },
      headers: { authorization: admin },
    });
    expect(t.status, t.text).to.equal(201);
  });
  after(async () => {
    await h?.close();
    await deleteKeys(`${prefix}:*`);
  });

  it('answers the admin, refuses a tenant (403) and no one (401), in every spelling', async () => {
    expect((await h.call('GET', '/system/profiles', { headers: { authorization: admin } })).status).to.equal(200);
    expect((await h.call('GET', '/system/profiles/', { headers: { authorization: admin } })).status).to.equal(200);
    for (const path of [
      '/system/profiles',
      '/system/profiles/',
      '/system/%70rofiles',
      '/system/profiles?namespace=acme',
    ]) {
      expect((await h.call('GET', path, { headers: { authorization: tenant } })).status, path).to.equal(403);
      expect((await h.call('GET', path)).status, path).to.equal(401);
    }
    expect((await h.call('GET', '/system/PROFILES', { headers: { authorization: admin } })).status).to.equal(404);
  });
});

describe('automatic profiling: a short grid, and off means off', function () {
  this.timeout(60_000);
  const config = (auto: boolean): ProfilerConfig => ({
    prefix: `fgs-test-profauto-${process.pid}`,
    queue: `q-${Math.random().toString(16).slice(2, 8)}`,
    concurrency: 1,
    lockMs: 3000,
    trialSeconds: 20,
    auto,
  });
  let ts: TestStore;
  const open: Profiler[] = [];
  // a node agent that only says what it is: emulated sweeps run no trials, and nothing here runs a cpu trial
  const node = {
    url: 'http://node.test',
    info: async () => ({ name: 'node-test', cpus: 2 }) as NodeInfo,
  } as unknown as NodeAgentClient;
  const make = (c: ProfilerConfig) => {
    const p = createProfiler({
      config: c,
      redisUrl: REDIS_URL,
      models: ts.store.models,
      nodes: [node],
      spec: async () => {
        throw new Error('no trials here');
      },
      clock: systemClock,
      log: silentLogger,
    });
    open.push(p);
    return p;
  };
  before(async () => {
    ts = await startTestStore();
    for (const name of ['auto-a', 'auto-b', 'mine'])
      await ts.store.models.Function.create({
        name,
        namespace: 'openfaas-fn',
        image: 'emulated:latest',
        annotations: EMULATED,
        labels: {},
        replicas: 0,
      });
    await ts.store.models.Function.create({
      name: 'auto-cpu',
      namespace: 'openfaas-fn',
      image: 'x:latest',
      annotations: { 'fastgshare/slo_ms': '300', 'fastgshare/max_batch': '16' },
      labels: {},
      replicas: 0,
    });
  });
  after(async () => {
    for (const p of open) await p.close().catch(() => undefined);
    await deleteKeys(`fgs-test-profauto-${process.pid}:*`);
    await ts?.cleanup();
  });

  it("queues the auto-scaler's sweep with the short grid and trial time", async () => {
    const p = make(config(true));
    await p.requestProfile('auto-cpu.openfaas-fn');
    const v = await p.service.job('openfaas-fn', 'auto-cpu');
    expect(v.origin).to.equal('autoscaler');
    expect(v.grid).to.deep.equal(autoGrid('cpu', 2, 16));
    expect(v.trials).to.equal(4);
    expect(v.trialSeconds).to.equal(AUTO_TRIAL_SECONDS);
    // a person's sweep keeps the full grid
    const mine = await p.service.request('openfaas-fn', 'auto-cpu'.replace('auto-cpu', 'mine'), {});
    expect(mine.origin).to.equal('request');
    await p.service.cancel('openfaas-fn', 'auto-cpu');
    await p.service.cancel('openfaas-fn', 'mine');
  });

  it("with FASTGSHARE_PROFILER_AUTO=false ends the automatic sweeps already queued, keeps a person's, and runs no new automatic one", async () => {
    const c = config(true);
    const on = make(c);
    await on.requestProfile('auto-a.openfaas-fn');
    await on.service.request('openfaas-fn', 'mine', {});
    expect((await on.service.queue()).sweeps.map((s) => [s.function, s.origin])).to.deep.equal([
      ['auto-a.openfaas-fn', 'autoscaler'],
      ['mine.openfaas-fn', 'request'],
    ]);
    // a gateway starts with automatic profiling off, on the same queue
    const off = make({ ...c, auto: false });
    await waitFor(
      'the automatic sweep gone',
      async () => (await off.service.queue()).sweeps.length === 1 || undefined,
      10_000,
      50,
    );
    const notFound = await off.service.job('openfaas-fn', 'auto-a').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(notFound).to.be.instanceOf(PlatformError);
    expect((notFound as PlatformError).code).to.equal('not_found');
    // one the auto-scaler of another gateway queues afterwards is not run by this gateway's worker
    await on.requestProfile('auto-b.openfaas-fn');
    off.startWorker();
    const ended = await waitFor(
      'both ended',
      async () => {
        const [b, m] = await Promise.all([
          off.service.job('openfaas-fn', 'auto-b'),
          off.service.job('openfaas-fn', 'mine'),
        ]);
        return ['cancelled', 'completed', 'failed'].includes(b.state) &&
          ['cancelled', 'completed', 'failed'].includes(m.state)
          ? { b, m }
          : undefined;
      },
      20_000,
      100,
    );
    expect(ended.b.state).to.equal('cancelled');
    expect(ended.b.error).to.match(/automatic profiling is off \(FASTGSHARE_PROFILER_AUTO=false\)/);
    expect(ended.m.state).to.equal('completed');
  });
});
