/**
 * The profiler's HTTP routes on a real gateway (real Redis with a unique key prefix, removed
 * afterwards; the real embedded store): an emulated function is profiled from the calibration
 * data (no trials), its job is followed to completion, and its table is served as JSON, CSV and a
 * chart page; bad requests get 4xx with a message.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { readCommonConfig } from '../../core/config.ts';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';
import { runCli } from '../cli/cli-process.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS_URL = readCommonConfig({}).redisUrl;

describe('profiler routes (/system/profiles)', function () {
  this.timeout(60_000);
  const prefix = `fgs-test-profroutes-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  let h: GatewayHarness;

  before(async () => {
    h = await startGatewayHarness({
      env: { FASTGSHARE_PROFILER: 'true', FASTGSHARE_PROFILER_PREFIX: prefix, FASTGSHARE_AUTOSCALE: 'false' },
    });
    await h.testStore.store.models.Function.create({
      name: 'resnet50',
      namespace: 'openfaas-fn',
      image: 'emulated-resnet50:latest',
      annotations: {
        'fastgshare/device': 'emulated',
        'fastgshare/emulated_profile': 'v100-resnet50',
        'fastgshare/slo_ms': '100',
        'fastgshare/max_batch': '16',
      },
      labels: {},
      replicas: 0,
    });
  });
  after(async () => {
    await h?.close();
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const keys = await r.keys(`${prefix}:*`);
      if (keys.length) await r.del(...keys);
    } finally {
      r.disconnect();
    }
  });

  it('queues a sweep, reports its job, and serves the table as JSON, CSV and a chart', async () => {
    const post = await fetch(`${h.gateway.url}/system/profiles/resnet50`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(post.status).to.equal(202);
    const queued = (await post.json()) as { id: string; trials: number; deviceClass: string };
    expect(queued.id).to.be.a('string').and.not.equal('');
    expect(queued.trials).to.equal(0); // emulated: the table comes from the calibration data
    expect(queued.deviceClass).to.equal('v100');

    let state = '';
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const job = await fetch(`${h.gateway.url}/system/profiles/resnet50/job`);
      expect(job.status).to.equal(200);
      state = ((await job.json()) as { state: string }).state;
      if (state === 'completed' || state === 'failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(state).to.equal('completed');

    const table = (await (await fetch(`${h.gateway.url}/system/profiles/resnet50`)).json()) as {
      deviceClass: string;
      entries: { partitionPercent: number; quota: number; rps: number; source: string }[];
    };
    expect(table.deviceClass).to.equal('v100');
    expect(table.entries.length).to.be.greaterThan(10);
    expect(table.entries.every((e) => e.rps > 0)).to.equal(true);
    expect(new Set(table.entries.map((e) => e.source))).to.include('measured');

    const csv = await fetch(`${h.gateway.url}/system/profiles/resnet50?format=csv`);
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    expect((await csv.text()).split('\n')[0]).to.match(
      /^function,model_version,device_class,partition_percent,quota,batch,rps/,
    );

    const chart = await fetch(`${h.gateway.url}/system/profiles/resnet50/chart`);
    expect(chart.status).to.equal(200);
    expect(chart.headers.get('content-type')).to.match(/^text\/html/);
    expect(await chart.text()).to.contain('<svg');
  });

  it('`fastgshare profile` (a real CLI process) follows a sweep to the end and prints the table; errors exit non-zero with the message', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fgs-cli-prof-'));
    try {
      const env = { HOME: home, OPENFAAS_CONFIG: join(home, '.openfaas'), OPENFAAS_URL: h.gateway.url };
      const run = await runCli(['profile', 'resnet50'], { cwd: home, env, timeoutMs: 40_000 });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout + run.stderr).to.match(/completed|done/i);
      const table = await runCli(['profile', 'resnet50', '--table'], { cwd: home, env });
      expect(table.code, table.stderr).to.equal(0);
      expect(table.stdout).to.match(/partition/i);
      expect(table.stdout.split('\n').length).to.be.greaterThan(10);
      const csv = await runCli(['profile', 'resnet50', '--csv'], { cwd: home, env });
      expect(csv.stdout.split('\n')[0]).to.match(/^function,model_version,device_class,partition_percent/);
      const unknown = await runCli(['profile', 'nope'], { cwd: home, env });
      expect(unknown.code).to.not.equal(0);
      expect(unknown.stderr).to.match(/profile nope: function "nope.openfaas-fn"/);
      expect(unknown.stderr).to.contain('HTTP 404');
      const bad = await runCli(['profile', 'resnet50', '--quotas', 'a,b'], { cwd: home, env });
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.match(/--quotas "a,b" must be numbers/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('answers bad requests with a 4xx that says what to fix', async () => {
    const unknown = await fetch(`${h.gateway.url}/system/profiles/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unknown.status).to.equal(404);
    expect(await unknown.text()).to.match(/nope/);
    const format = await fetch(`${h.gateway.url}/system/profiles/resnet50?format=xml`);
    expect(format.status).to.equal(400);
    expect(await format.text()).to.match(/format "xml"/);
    const badName = await fetch(`${h.gateway.url}/system/profiles/bad..name`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(badName.status).to.equal(400);
  });
});
