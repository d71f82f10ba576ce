/**
 * End to end: `fastgshare up` as a real process (embedded store, node agent, gateway), the echo
 * function built and deployed from stack.yml, then the whole platform stopped and started again
 * on the same data directory: every function comes back with its replica count, and the
 * replicas of the first run are gone (none leaked, none duplicated).
 */
import { expect } from 'chai';
import { startPlatform, freePort, type RunningPlatform } from '../../bench/lib/platform.ts';
import { tempDir } from '../helpers/store.ts';
import { waitFor } from '../helpers/eventually.ts';
import type { FunctionStatus } from '../../core/contracts/openfaas.ts';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('platform restart (fastgshare up)', function () {
  this.timeout(180_000);
  let dir: { dir: string; cleanup(): Promise<void> };
  let platform: RunningPlatform | undefined;

  before(async () => {
    dir = await tempDir('fastgshare-e2e-');
  });
  after(async () => {
    await platform?.stop();
    await dir.cleanup();
  });

  it('restores deployed functions with their replicas after a restart', async () => {
    const port = await freePort();
    const nodePort = await freePort();
    platform = await startPlatform({ filter: 'echo', dataDir: dir.dir, port, nodePort });
    const gw = platform.gatewayUrl;

    const res = await fetch(`${gw}/function/echo`, {
      method: 'POST',
      body: 'hello fastgshare',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('hello fastgshare');
    expect(res.headers.get('x-call-id')).to.match(/^[0-9a-f-]{36}$/);

    const scale = await fetch(`${gw}/system/scale-function/echo`, {
      method: 'POST',
      body: JSON.stringify({ serviceName: 'echo', replicas: 2 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(scale.status).to.be.oneOf([200, 202]);
    await waitFor(
      '2 ready echo replicas',
      async () => {
        const s = (await (await fetch(`${gw}/system/function/echo`)).json()) as FunctionStatus;
        return s.availableReplicas === 2 ? s : undefined;
      },
      30_000,
      200,
    );
    const before = ((await (await platform.nodeFetch(`/v1/functions`)).json()) as FunctionReplicas[]).find(
      (f) => f.name === 'echo',
    )!;
    const oldPids = before.replicas.map((r) => r.pid!).filter(Boolean);
    expect(oldPids).to.have.length(2);
    const invocationsBefore = ((await (await fetch(`${gw}/system/function/echo`)).json()) as FunctionStatus)
      .invocationCount;
    expect(invocationsBefore).to.be.at.least(1);
    const bootId = async () => ((await (await platform!.nodeFetch(`/v1/usage`)).json()) as { bootId: string }).bootId;
    const bootBefore = await bootId();
    expect(bootBefore).to.be.a('string').and.not.equal('');

    await platform.stop();
    platform = undefined;
    for (const pid of oldPids) expect(alive(pid), `replica pid ${pid} still running after stop`).to.equal(false);

    platform = await startPlatform({ dataDir: dir.dir, port, nodePort, noDeploy: true });
    const restored = await waitFor(
      'echo restored with 2 ready replicas',
      async () => {
        const r = await fetch(`${gw}/system/function/echo`);
        if (r.status !== 200) return undefined;
        const s = (await r.json()) as FunctionStatus;
        return s.availableReplicas === 2 ? s : undefined;
      },
      60_000,
      200,
    );
    expect(restored.replicas).to.equal(2);
    expect(restored.image).to.equal('echo:latest');
    expect(restored.invocationCount).to.be.at.least(invocationsBefore);

    const again = await fetch(`${gw}/function/echo`, { method: 'POST', body: 'after restart' });
    expect(again.status).to.equal(200);
    expect(await again.text()).to.equal('after restart');
    const after = ((await (await platform.nodeFetch(`/v1/functions`)).json()) as FunctionReplicas[]).find(
      (f) => f.name === 'echo',
    )!;
    expect(after.replicas).to.have.length(2);
    for (const r of after.replicas) expect(oldPids).to.not.include(r.pid);
    // the agent's usage counters began again: a new boot id tells the metering so
    expect(await bootId())
      .to.be.a('string')
      .and.not.equal(bootBefore);
  });
});
