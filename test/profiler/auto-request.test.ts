/**
 * The auto-scaler's profiling requests (profiler/auto-request.ts) against real Redis (a unique
 * prefix, removed afterwards), the embedded store and a real node agent, with a manual clock for
 * the backoff: concurrent and repeated asks queue one sweep; a sweep that ended without a table
 * (here: cancelled) is asked for again only after the backoff, which doubles; a completed sweep
 * is never asked for again.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { ManualClock } from '../../core/clock.ts';
import { readCommonConfig, type ProfilerConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import { toFunctionSpec } from '../../gateway/control/function-spec.ts';
import { createProfiler, type Profiler } from '../../profiler/profiler.ts';
import { createProfileRequester, splitFunctionKey, type ProfileRequester } from '../../profiler/auto-request.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { startHarness, waitFor, type Harness } from '../fast-manager/harness.ts';

const REDIS_URL = readCommonConfig({}).redisUrl;
const MIN = 60_000;

describe("profiler: the auto-scaler's profiling requests", function () {
  this.timeout(60_000);
  let ts: TestStore;
  let agent: Harness;
  let profiler: Profiler;
  let redis: Redis;
  let requester: ProfileRequester;
  const clock = new ManualClock(Date.now());
  const config: ProfilerConfig = {
    prefix: `fgs-test-autoreq-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    queue: 'profiler',
    concurrency: 1,
    lockMs: 3000,
    trialSeconds: 1,
    auto: true,
  };

  before(async () => {
    ts = await startTestStore();
    agent = await startHarness();
    for (const name of ['vision', 'resnet']) {
      await ts.store.models.Function.create({
        name,
        namespace: 'openfaas-fn',
        image: 'echo:latest',
        annotations: {
          'fastgshare/device': 'emulated',
          'fastgshare/emulated_profile': 'v100-resnet50',
          'fastgshare/max_batch': '4',
        },
        labels: {},
        replicas: 0,
      });
    }
    profiler = createProfiler({
      config,
      redisUrl: REDIS_URL,
      models: ts.store.models,
      nodes: [createHttpNodeAgentClient(agent.agent.url, { token: agent.agent.token })],
      spec: async (namespace, name) =>
        toFunctionSpec((await ts.store.models.Function.findOne({ namespace, name }).lean())!, {}),
      clock,
      log: silentLogger,
    });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    requester = createProfileRequester({
      service: profiler.service,
      redis,
      keys: profiler.keys,
      clock,
      log: silentLogger,
      retryAfterMs: 30 * MIN,
      maxRetryAfterMs: 45 * MIN,
    });
  });
  after(async () => {
    await profiler?.close();
    if (redis) {
      const keys = await redis.keys(`${config.prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await agent?.close();
    await ts?.cleanup();
  });

  it('reads function keys as name.namespace', () => {
    expect(splitFunctionKey('ocr.team-a')).to.deep.equal({ name: 'ocr', namespace: 'team-a' });
    expect(() => splitFunctionKey('ocr')).to.throw(/name\.namespace/);
  });

  it('queues one sweep for many asks, and asks again after a doubling backoff once it ended without a table', async () => {
    // no worker yet: the sweep stays waiting
    const first = await Promise.all([1, 2, 3].map(() => requester.request('vision.openfaas-fn')));
    expect(first.filter((o) => o === 'queued')).to.have.length(1);
    expect(first.filter((o) => o !== 'queued')).to.deep.equal(['pending', 'pending']);
    expect(await requester.request('vision.openfaas-fn')).to.equal('pending');
    const job = await profiler.service.job('openfaas-fn', 'vision');
    expect(job.state).to.equal('waiting');
    expect(job.origin).to.equal('autoscaler');

    // cancelled (gone): not again before 30 min
    await profiler.service.cancel('openfaas-fn', 'vision');
    expect(await requester.request('vision.openfaas-fn')).to.equal('backoff');
    clock.advance(29 * MIN);
    expect(await requester.request('vision.openfaas-fn')).to.equal('backoff');
    clock.advance(2 * MIN);
    expect(await requester.request('vision.openfaas-fn')).to.equal('queued');
    const second = await profiler.service.job('openfaas-fn', 'vision');
    expect(second.id).to.not.equal(job.id);

    // the second wait is 60 min, capped here at 45
    await profiler.service.cancel('openfaas-fn', 'vision');
    clock.advance(31 * MIN);
    expect(await requester.request('vision.openfaas-fn')).to.equal('backoff');
    clock.advance(15 * MIN);
    expect(await requester.request('vision.openfaas-fn')).to.equal('queued');
    const record = JSON.parse((await redis.hget(profiler.keys.autoRequests(), 'vision.openfaas-fn'))!) as {
      count: number;
      job: string;
    };
    expect(record.count).to.equal(3);
    expect(record.job).to.equal((await profiler.service.job('openfaas-fn', 'vision')).id);
    await profiler.service.cancel('openfaas-fn', 'vision');
  });

  it('does not ask again for a function whose sweep completed', async () => {
    const worker = profiler.startWorker();
    try {
      expect(await requester.request('resnet.openfaas-fn')).to.equal('queued');
      await waitFor(
        'sweep completed',
        async () => (await profiler.service.job('openfaas-fn', 'resnet')).state === 'completed',
        30_000,
        100,
      );
      clock.advance(48 * 3_600_000);
      expect(await requester.request('resnet.openfaas-fn')).to.equal('profiled');
      expect((await profiler.service.table('openfaas-fn', 'resnet')).entries.length).to.be.greaterThan(0);
    } finally {
      await worker.close();
    }
  });

  it('fails clearly for a function that is not deployed', async () => {
    const err = await requester.request('ghost.openfaas-fn').catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/"ghost\.openfaas-fn" is not deployed/);
  });
});
