/**
 * A gated trial first uses up the fresh replica's window: without that, a trial shorter than the
 * token window W runs on a whole window of unused quota and reports far more than the quota gives
 * in steady state. Real agent with W = 4 s, real text-direction replica, quota 0.2.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.ts';
import { createImageBuilder } from '../../core/images/builder.ts';
import { loadStackFile } from '../../core/images/stack-file.ts';
import { silentLogger } from '../../core/logger.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import { createAutocannonLoad } from '../../profiler/load.ts';
import { runTrial } from '../../profiler/trial.ts';
import { createHttpUsageReader } from '../../profiler/usage-reader.ts';
import { startTestStore, tempDir, type TestStore } from '../helpers/store.ts';
import { startHarness, type Harness } from '../fast-manager/harness.ts';

const PNG = readFileSync(new URL('../functions/fixtures/hello-world-2024.png', import.meta.url));

describe('profiler: a gated trial measures after one token window of use', function () {
  this.timeout(90_000);
  let ts: TestStore;
  let agent: Harness;
  let build: { dir: string; cleanup(): Promise<void> };

  before(async () => {
    ts = await startTestStore();
    agent = await startHarness({
      env: { FASTGSHARE_REPLICA_START_TIMEOUT_MS: '60000' },
      sharing: { windowMs: 4000, baseQuotaMs: 50, minQuotaMs: 10 },
    });
    build = await tempDir('fastgshare-trialwin-build-');
    const stack = await loadStackFile(join(PLATFORM_ROOT, 'stack.yml'));
    await createImageBuilder({ images: agent.images, log: silentLogger }).buildStack(stack, {
      filter: 'text-direction',
      buildRoot: build.dir,
    });
  });
  after(async () => {
    await agent?.close();
    await ts?.cleanup();
    await build?.cleanup();
  });

  it('reports the busy share the quota gives in steady state, not the fresh window’s budget', async () => {
    const stack = await loadStackFile(join(PLATFORM_ROOT, 'stack.yml'));
    const fn = stack.spec.functions['text-direction']!;
    const base = {
      name: 'text-direction',
      namespace: 'openfaas-fn',
      image: 'text-direction:latest',
      envVars: {},
      labels: {},
      annotations: fn.annotations ?? {},
      secrets: {},
      readOnlyRootFilesystem: false,
    };
    const usage = createHttpUsageReader();
    const metrics = await runTrial(
      {
        node: createHttpNodeAgentClient(agent.agent.url, { token: agent.agent.token }),
        cpus: 2,
        load: createAutocannonLoad(),
        usage,
        clock: systemClock,
        log: silentLogger,
      },
      {
        base,
        trialName: 'text-direction--prof-w',
        config: { partitionPercent: 100, quota: 0.2, batch: 4 },
        sloMs: 300,
        seconds: 1.5,
        input: async () => ({ body: PNG, contentType: 'image/png' }),
        signal: new AbortController().signal,
      },
    );
    expect(metrics.busySource).to.equal('tokens');
    // a fresh 4 s window holds 0.8 s of quota: measured at once, a ~2 s trial spends it and reads
    // ~0.35 (and ~200 items/s closed loop); after one window of use it cannot exceed the quota
    expect(metrics.busyShare).to.be.at.most(0.25);
  });
});
