import { expect } from 'chai';
import { pidAlive, readRecords, startHarness, useAgentHarness, waitFor, waitReady } from './harness.ts';
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';

describe('fast-manager: crashes, health and limits', function () {
  this.timeout(30_000);
  const ctx = useAgentHarness({ perTest: true });

  const replica = async (name = 'echo'): Promise<ReplicaStatus | undefined> => (await ctx.h.fn(name))?.replicas[0];

  it('restarts a crashed replica with backoff and reports the crash in status, logs and metrics', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const before = (await waitReady(ctx.h, 'echo', 1)).replicas[0]!;
    await fetch(`${before.url}/crash?code=3`);
    const backoff = await waitFor(
      'backoff state',
      async () => {
        const r = await replica();
        return r?.state === 'backoff' ? r : undefined;
      },
      3_000,
      10,
    );
    expect(backoff.restarts).to.equal(1);
    expect(backoff.lastExit).to.include({ code: 3, signal: null, reason: 'exited with code 3' });
    const after = (await waitReady(ctx.h, 'echo', 1)).replicas[0]!;
    expect(after.id).to.equal(before.id);
    expect(after.pid).to.not.equal(before.pid);
    expect(after.restarts).to.equal(1);
    expect(await (await fetch(after.url, { method: 'POST', body: 'again' })).text()).to.equal('echo:again');
    const lines = await ctx.h.logs(`name=echo&instance=${before.id}`);
    const texts = lines.map((l) => l.text);
    expect(texts).to.include('crash requested');
    expect(texts).to.include('replica exited with code 3; restarting in 200ms');
    const rec = await waitFor('record with restarts', async () => {
      const x = (await readRecords(ctx.h.dataDir)).find((r) => r.replicaId === before.id);
      return x && x.state === 'ready' && x.restarts === 1 ? x : undefined;
    });
    expect(rec.lastExit?.code).to.equal(3);
    const metrics = await (
      await fetch(`${ctx.h.agent.url}/metrics`, { headers: { authorization: `Bearer ${ctx.h.agent.token}` } })
    ).text();
    expect(metrics).to.contain('fastgshare_node_replica_restarts_total{function_name="echo.openfaas-fn"} 1');
  });

  it('backs off exponentially while a replica keeps crashing', async () => {
    await ctx.h.apply({ name: 'crashy', envVars: { CRASH_ON_START: '7' } }, 1);
    const r = await waitFor(
      'three restarts',
      async () => {
        const x = await replica('crashy');
        return x && x.restarts >= 3 ? x : undefined;
      },
      8_000,
      20,
    );
    expect(r.lastExit?.code).to.equal(7);
    const texts = (await ctx.h.logs('name=crashy')).map((l) => l.text).filter((t) => t.startsWith('replica exited'));
    expect(texts.slice(0, 3)).to.deep.equal([
      'replica exited with code 7; restarting in 200ms',
      'replica exited with code 7; restarting in 400ms',
      'replica exited with code 7; restarting in 800ms',
    ]);
    expect((await ctx.h.logs('name=crashy')).map((l) => l.text)).to.include('crashing on start with code 7');
  });

  it('reports an fprocess that cannot be started as a crash, with the reason', async () => {
    await ctx.h.apply({ name: 'ghost', envProcess: 'no-such-binary-fastgshare --flag' }, 1);
    const r = await waitFor(
      'failed start',
      async () => {
        const x = await replica('ghost');
        return x && x.restarts >= 1 ? x : undefined;
      },
      3_000,
      20,
    );
    expect(r.state).to.be.oneOf(['backoff', 'starting']);
    expect(r.lastExit?.reason).to.match(/^could not start "no-such-binary-fastgshare": .*ENOENT/);
  });

  it('kills a replica over its memory limit and reports why', async () => {
    await ctx.h.apply({ name: 'hog', limits: { memory: '150Mi' } }, 1);
    const r = (await waitReady(ctx.h, 'hog', 1)).replicas[0]!;
    await waitFor('usage sampled', async () => ((await replica('hog'))?.usage.totalMemoryBytes ?? 0) > 0);
    const idle = (await replica('hog'))!;
    expect(idle.usage.totalMemoryBytes).to.be.lessThan(150 * 2 ** 20);
    // the kill may come before the answer does
    await fetch(`${r.url}/alloc?mb=200`).catch(() => undefined);
    const killed = await waitFor(
      'memory kill',
      async () => {
        const x = await replica('hog');
        return x && x.restarts >= 1 ? x : undefined;
      },
      5_000,
      20,
    );
    expect(killed.lastExit?.signal).to.equal('SIGKILL');
    // killed by the agent's RSS check, or first by the kernel (the replica's cgroup has the same limit)
    expect(killed.lastExit?.reason).to.match(
      /^killed: memory limit 150Mi exceeded \(used \d+(\.\d)?Mi(; the kernel's OOM killer ended a process of its cgroup)?\)$/,
    );
    const used = Number(/used ([\d.]+)Mi/.exec(killed.lastExit!.reason)![1]);
    expect(used).to.be.at.least(150);
    expect(pidAlive(r.pid!)).to.equal(false);
    const texts = (await ctx.h.logs('name=hog')).map((l) => l.text);
    expect(texts.some((t) => t.startsWith('replica killed: memory limit 150Mi exceeded'))).to.equal(true);
    await waitReady(ctx.h, 'hog', 1);
  });

  it('reports CPU and memory use of the whole process group', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const r = (await waitReady(ctx.h, 'echo', 1)).replicas[0]!;
    // once started, an idle replica (sandbox processes included) settles below half a core; a
    // replica that kept a core busy while idle would never get here
    const idle = await waitFor('idle usage', async () => {
      const x = await replica();
      return x && x.usage.totalMemoryBytes > 10 * 2 ** 20 && x.usage.cpu < 0.5 ? x : undefined;
    });
    expect(idle.usage.cpu).to.be.lessThan(0.5);
    // a child process of the replica spins one core: it counts for the replica
    const childPid = Number(await (await fetch(`${r.url}/burn?ms=2500`)).text());
    try {
      const busy = await waitFor(
        'busy usage',
        async () => {
          const x = await replica();
          return x && x.usage.cpu > 0.6 ? x : undefined;
        },
        2_000,
        20,
      );
      expect(busy.usage.cpu).to.be.lessThan(2.5);
      expect(busy.usage.totalMemoryBytes).to.be.greaterThan(idle.usage.totalMemoryBytes + 10 * 2 ** 20);
    } finally {
      try {
        process.kill(childPid, 'SIGKILL');
      } catch {
        /* done already */
      }
    }
  });

  it('treats a replica that never becomes healthy within the start timeout as a crash', async () => {
    await ctx.h.close();
    ctx.h = await startHarness({ env: { FASTGSHARE_REPLICA_START_TIMEOUT_MS: '1000' } });
    await ctx.h.apply({ name: 'sick', envVars: { HEALTH_STATUS: '503' } }, 1);
    const r = await waitFor(
      'start timeout',
      async () => {
        const x = await replica('sick');
        return x && x.restarts >= 1 ? x : undefined;
      },
      5_000,
      20,
    );
    expect(r.lastExit?.reason).to.equal('did not answer GET /_/health with 200 within 1000ms');
    expect(r.lastExit?.signal).to.equal('SIGKILL');
  });

  it('marks a ready replica that starts failing health checks unhealthy, then restarts it', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const r = (await waitReady(ctx.h, 'echo', 1)).replicas[0]!;
    // stop the replica's processes (its group: in a sandbox, r.pid is bubblewrap's, the server is in its group):
    // health checks time out
    process.kill(-r.pid!, 'SIGSTOP');
    try {
      await waitFor('unhealthy', async () => (await replica())?.state === 'unhealthy', 5_000, 20);
      const restarted = await waitFor(
        'restart after failures',
        async () => {
          const x = await replica();
          return x && x.restarts === 1 ? x : undefined;
        },
        8_000,
        20,
      );
      expect(restarted.lastExit?.reason).to.equal('failed 4 health checks in a row');
    } finally {
      try {
        process.kill(r.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const back = (await waitReady(ctx.h, 'echo', 1)).replicas[0]!;
    expect(back.pid).to.not.equal(r.pid);
  });

  it('gives a restarted replica a new port when its old one is taken', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const r = (await waitReady(ctx.h, 'echo', 1)).replicas[0]!;
    await fetch(`${r.url}/crash?code=1`);
    await waitFor('backoff', async () => (await replica())?.state === 'backoff', 3_000, 5);
    // take the old port while the replica waits to restart
    const { createServer } = await import('node:net');
    const blocker = createServer();
    const port = Number(new URL(r.url).port);
    await new Promise<void>((resolve, reject) => blocker.once('error', reject).listen(port, '127.0.0.1', resolve));
    try {
      const back = (await waitReady(ctx.h, 'echo', 1)).replicas[0]!;
      expect(back.url).to.not.equal(r.url);
      expect(back.restarts).to.equal(1);
    } finally {
      blocker.close();
    }
  });
});
