/**
 * The auto-scaler's profiling requests on a real gateway with the profiler on (real Redis with a
 * unique key prefix, removed afterwards; the embedded store; a node agent with echo replicas): a
 * managed function without a profile runs on the safe default and gets exactly one sweep, queued
 * by the auto-scaler (no input: the function's sample), however many rounds pass; a managed
 * function with a profile gets none; once the sweep (default grid, 1 s trials) is done, the
 * planner reads its table.
 */
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { readCommonConfig } from '../../../core/config.ts';
import { startAutoscalePlatform, type AutoscalePlatform } from './platform.ts';

const REDIS_URL = readCommonConfig({}).redisUrl;

describe('auto-scaler → profiler: a function without a profile gets one sweep queued', function () {
  this.timeout(60_000);
  const prefix = `fgs-test-autoprof-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  let p: AutoscalePlatform;
  let conn: Redis;
  let queue: Queue;

  before(async () => {
    p = await startAutoscalePlatform({
      env: {
        FASTGSHARE_PROFILER: 'true',
        FASTGSHARE_PROFILER_PREFIX: prefix,
        FASTGSHARE_PROFILER_TRIAL_SECONDS: '1',
        FASTGSHARE_AUTOSCALE_PERIOD_MS: '200',
      },
      // a 1 s token window: each gated trial first saturates its replica for one window
      sharing: { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 10 },
    });
    conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue('profiler', { connection: conn, prefix });
    for (const [service, annotations] of [
      ['unprofiled', { 'fastgshare/slo_ms': '200' }],
      // an emulated model with calibration rows: it has a profile, so nothing is queued for it
      [
        'calibrated',
        { 'fastgshare/slo_ms': '200', 'fastgshare/device': 'emulated', 'fastgshare/emulated_profile': 'v100-resnet50' },
      ],
    ] as const) {
      const r = await p.call('POST', '/system/functions', {
        service,
        image: 'echo:latest',
        labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '2' },
        annotations,
      });
      expect(r.status, r.text).to.equal(202);
    }
  });
  after(async () => {
    await p?.call('DELETE', '/system/profiles/unprofiled/job').catch(() => undefined);
    await p?.close();
    await queue?.close();
    if (conn) {
      const keys = await conn.keys(`${prefix}:*`);
      if (keys.length) await conn.del(...keys);
      conn.disconnect();
    }
  });

  const decisions = (fn: string) =>
    p.sink.records.filter((r) => r.message === 'autoscaler decision' && r.fields.function === fn).length;
  const sweepsOf = async (fn: string) =>
    (await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'])).filter(
      (j) => j.data.function === fn,
    );

  it('queues exactly one sweep for it across many rounds, and none for a profiled function', async () => {
    const job = await p.eventually(async () => {
      const r = await p.call('GET', '/system/profiles/unprofiled/job');
      expect(r.status, r.text).to.equal(200);
      return r.json();
    }, 15_000);
    expect(job.origin).to.equal('autoscaler');
    expect(job.input).to.equal('sample');
    expect(job.function).to.equal('unprofiled.openfaas-fn');
    expect(job.trials).to.be.greaterThan(0);

    // the safe default meanwhile, with the plan saying it needs profiling
    const explain = (await p.call('GET', '/system/explain/unprofiled')).json();
    expect(explain.decision.plan.needsProfiling).to.equal(true);

    const seen = decisions('unprofiled.openfaas-fn');
    await p.eventually(async () => expect(decisions('unprofiled.openfaas-fn')).to.be.at.least(seen + 8), 20_000);
    const sweeps = await sweepsOf('unprofiled');
    expect(sweeps.map((j) => j.id)).to.deep.equal([job.id]);
    expect(sweeps[0]!.data.origin).to.equal('autoscaler');
    expect(sweeps[0]!.data.input).to.equal(undefined);
    expect(
      p.sink.records.filter(
        (r) =>
          r.message === 'profiling sweep queued for a function without a profile' &&
          r.fields.function === 'unprofiled.openfaas-fn',
      ),
    ).to.have.length(1);

    expect(decisions('calibrated.openfaas-fn')).to.be.greaterThan(0);
    expect(await sweepsOf('calibrated')).to.deep.equal([]);
    expect((await p.call('GET', '/system/profiles/calibrated/job')).status).to.equal(404);
  });

  it('once the sweep is done, the planner reads its table: the function leaves the safe default', async function () {
    this.timeout(240_000);
    const done = await p.eventually(async () => {
      const j = (await p.call('GET', '/system/profiles/unprofiled/job')).json();
      expect(['completed', 'failed']).to.include(j.state);
      return j;
    }, 200_000);
    expect(done.state, done.error).to.equal('completed');
    expect(done.result.input).to.equal('sample');
    expect(done.result.measured).to.equal(done.trials);
    await p.eventually(
      async () =>
        expect((await p.call('GET', '/system/explain/unprofiled')).json().decision.plan.needsProfiling).to.equal(false),
      10_000,
    );
    expect((await sweepsOf('unprofiled')).length).to.equal(1);
  });
});
