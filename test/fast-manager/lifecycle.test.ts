import { expect } from 'chai';
import { ECHO_BUNDLE, makeSpec, pidAlive, readRecords, useAgentHarness, waitFor, waitReady } from './harness.ts';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';

describe('fast-manager: deploy, scale, roll, remove', function () {
  this.timeout(30_000);
  const ctx = useAgentHarness({ perTest: true });

  it('serves health, node info and an advertised URL with the real port', async () => {
    expect(ctx.h.agent.port).to.be.greaterThan(0);
    expect(ctx.h.agent.url).to.equal(`http://127.0.0.1:${ctx.h.agent.port}`);
    const health = await fetch(`${ctx.h.agent.url}/healthz`, {
      headers: { authorization: `Bearer ${ctx.h.agent.token}` },
    });
    expect(health.status).to.equal(200);
    expect(await health.text()).to.equal('ok');
    const info = await ctx.h.call<{ name: string; url: string; cpus: number; memoryBytes: number; version: string }>(
      'GET',
      '/v1/node',
    );
    expect(info.body.name).to.equal(ctx.h.agent.name);
    expect(info.body.url).to.equal(ctx.h.agent.url);
    expect(info.body.cpus).to.be.greaterThan(0);
    expect(info.body.memoryBytes).to.be.greaterThan(0);
  });

  it('applies a function: replicas become ready and answer HTTP on their URL', async () => {
    const first = await ctx.h.apply({ name: 'echo', envVars: { GREETING: 'hi' } }, 2);
    expect(first.desired).to.equal(2);
    expect(first.replicas).to.have.length(2);
    const f = await waitReady(ctx.h, 'echo', 2);
    for (const r of f.replicas) {
      expect(r.node).to.equal(ctx.h.agent.name);
      expect(r.pid).to.be.a('number');
      const res = await fetch(r.url, { method: 'POST', body: 'ping' });
      expect(await res.text()).to.equal('hi:ping');
    }
    expect(new Set(f.replicas.map((r) => r.url)).size).to.equal(2);
    // durable records (the agent's file) follow the state
    const recs = await waitFor('ready records', async () => {
      const rs = await readRecords(ctx.h.dataDir);
      return rs.length === 2 && rs.every((x) => x.state === 'ready' && x.node === ctx.h.agent.name) ? rs : undefined;
    });
    expect(recs.map((x) => x.replicaId).sort()).to.deep.equal(f.replicas.map((r) => r.id).sort());
    expect(recs.map((x) => x.pid).sort()).to.deep.equal(f.replicas.map((r) => r.pid).sort());
  });

  it('is idempotent: applying the same spec again keeps the same replicas', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const a = await waitReady(ctx.h, 'echo', 1);
    const again = await ctx.h.apply({ name: 'echo' }, 1);
    expect(again.replicas.map((r) => r.id)).to.deep.equal(a.replicas.map((r) => r.id));
    expect(again.replicas[0]!.pid).to.equal(a.replicas[0]!.pid);
  });

  it('scales up and down, stopping the newest replicas first', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const one = await waitReady(ctx.h, 'echo', 1);
    await ctx.h.apply({ name: 'echo' }, 3);
    const three = await waitReady(ctx.h, 'echo', 3);
    expect(three.replicas.map((r) => r.id)).to.include(one.replicas[0]!.id);
    await ctx.h.apply({ name: 'echo' }, 1);
    const back = await waitReady(ctx.h, 'echo', 1);
    expect(back.replicas[0]!.id).to.equal(one.replicas[0]!.id);
    const gone = three.replicas.filter((r) => r.id !== one.replicas[0]!.id);
    await waitFor('scaled-down processes gone', () => gone.every((r) => !pidAlive(r.pid!)));
    await ctx.h.apply({ name: 'echo' }, 0);
    await waitFor('no replicas', async () => (await ctx.h.fn('echo'))?.replicas.length === 0);
    expect(pidAlive(one.replicas[0]!.pid!)).to.equal(false);
    const recs = await waitFor('records removed', async () =>
      (await readRecords(ctx.h.dataDir)).length === 0 ? true : undefined,
    );
    expect(recs).to.equal(true);
  });

  it('rolls replicas when the spec changes, never dropping to zero ready', async () => {
    await ctx.h.apply({ name: 'echo', envVars: { GREETING: 'v1' } }, 2);
    const v1 = await waitReady(ctx.h, 'echo', 2);
    let minReady = 2;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const f = await ctx.h.fn('echo');
        const ready = f?.replicas.filter((r) => r.state === 'ready').length ?? 0;
        minReady = Math.min(minReady, ready);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await ctx.h.apply({ name: 'echo', envVars: { GREETING: 'v2', STARTUP_DELAY_MS: '300' } }, 2);
    const v2 = await waitFor(
      'rolled replicas',
      async () => {
        const f = await ctx.h.fn('echo');
        return f &&
          f.replicas.length === 2 &&
          f.replicas.every((r) => r.state === 'ready' && !v1.replicas.some((o) => o.id === r.id))
          ? f
          : undefined;
      },
      15_000,
    );
    polling = false;
    await poller;
    expect(minReady).to.be.greaterThan(0);
    for (const r of v2.replicas)
      expect(await (await fetch(r.url, { method: 'POST', body: 'x' })).text()).to.equal('v2:x');
    await waitFor('old processes gone', () => v1.replicas.every((r) => !pidAlive(r.pid!)));
  });

  it('keeps old replicas serving while a broken update cannot become ready, then converges on a good one', async () => {
    await ctx.h.apply({ name: 'echo', envVars: { GREETING: 'v1' } }, 2);
    const v1 = await waitReady(ctx.h, 'echo', 2);
    await ctx.h.apply({ name: 'echo', envVars: { GREETING: 'v2', CRASH_ON_START: '9' } }, 2);
    const stuck = await waitFor(
      'broken replica restarting',
      async () => {
        const f = await ctx.h.fn('echo');
        return f?.replicas.some((r) => r.restarts >= 2) ? f : undefined;
      },
      8_000,
      20,
    );
    // only one new replica is tried at a time, and both old ones still serve
    expect(stuck.replicas).to.have.length(3);
    expect(
      stuck.replicas
        .filter((r) => r.state === 'ready')
        .map((r) => r.id)
        .sort(),
    ).to.deep.equal(v1.replicas.map((r) => r.id).sort());
    // the gateway re-applying the same (broken) desired state changes nothing
    const reapplied = await ctx.h.apply({ name: 'echo', envVars: { GREETING: 'v2', CRASH_ON_START: '9' } }, 2);
    expect(reapplied.replicas.filter((r) => r.state === 'ready')).to.have.length(2);
    await ctx.h.apply({ name: 'echo', envVars: { GREETING: 'v3' } }, 2);
    const v3 = await waitFor(
      'v3 replicas',
      async () => {
        const f = await ctx.h.fn('echo');
        return f &&
          f.replicas.length === 2 &&
          f.replicas.every((r) => r.state === 'ready' && r.restarts === 0 && !v1.replicas.some((o) => o.id === r.id))
          ? f
          : undefined;
      },
      10_000,
    );
    for (const r of v3.replicas)
      expect(await (await fetch(r.url, { method: 'POST', body: 'y' })).text()).to.equal('v3:y');
  });

  it('rolls replicas when the image is rebuilt under the same tag', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const before = await waitReady(ctx.h, 'echo', 1);
    await ctx.h.images.put('echo:latest', ECHO_BUNDLE, { fprocess: 'node server.mjs', language: 'test' });
    await ctx.h.apply({ name: 'echo' }, 1);
    const after = await waitFor('rolled after rebuild', async () => {
      const f = await ctx.h.fn('echo');
      return f &&
        f.replicas.length === 1 &&
        f.replicas[0]!.state === 'ready' &&
        f.replicas[0]!.id !== before.replicas[0]!.id
        ? f
        : undefined;
    });
    expect(after.replicas[0]!.pid).to.not.equal(before.replicas[0]!.pid);
  });

  it('rejects an unknown image with 400 image_not_found, passing the message on', async () => {
    const res = await ctx.h.call<{ code: string; message: string }>('PUT', '/v1/functions/openfaas-fn/nope', {
      spec: makeSpec({ name: 'nope', image: 'missing/thing:1.0' }),
      replicas: 1,
    });
    expect(res.status).to.equal(400);
    expect(res.body.code).to.equal('image_not_found');
    expect(res.body.message).to.contain('missing/thing:1.0');
    expect(await ctx.h.fn('nope')).to.equal(undefined);
  });

  it('rejects invalid names, replica counts, quantities and bodies with 400', async () => {
    const put = (path: string, body: unknown) => ctx.h.call<{ code: string; message: string }>('PUT', path, body);
    let res = await put('/v1/functions/openfaas-fn/Bad_Name', { spec: makeSpec({ name: 'Bad_Name' }), replicas: 1 });
    expect([res.status, res.body.code]).to.deep.equal([400, 'invalid_name']);
    res = await put('/v1/functions/Bad%20NS/echo', {
      spec: makeSpec({ name: 'echo', namespace: 'Bad NS' }),
      replicas: 1,
    });
    expect([res.status, res.body.code]).to.deep.equal([400, 'invalid_name']);
    for (const replicas of [-1, 1.5, 1001, '2']) {
      res = await put('/v1/functions/openfaas-fn/echo', { spec: makeSpec({ name: 'echo' }), replicas });
      expect(res.status, `replicas ${replicas}`).to.equal(400);
      expect(res.body.code).to.equal('bad_request');
      expect(res.body.message).to.contain('replicas');
    }
    res = await put('/v1/functions/openfaas-fn/echo', { spec: makeSpec({ name: 'other' }), replicas: 1 });
    expect(res.status).to.equal(400);
    expect(res.body.message).to.contain('spec.name');
    res = await put('/v1/functions/openfaas-fn/echo', {
      spec: makeSpec({ name: 'echo', limits: { memory: '12 parsecs' } }),
      replicas: 1,
    });
    expect(res.status).to.equal(400);
    expect(res.body.message).to.contain('spec.limits.memory');
    res = await put('/v1/functions/openfaas-fn/echo', {
      spec: makeSpec({ name: 'echo', envProcess: 'node "unterminated' }),
      replicas: 1,
    });
    expect(res.status).to.equal(400);
    expect(res.body.message).to.contain('spec.envProcess');
    res = await put('/v1/functions/openfaas-fn/echo', '{"spec": ');
    expect([res.status, res.body.code]).to.deep.equal([400, 'bad_request']);
    expect(await ctx.h.fn('echo')).to.equal(undefined);
  });

  it('removes a function (draining its replicas) and 404s when unknown', async () => {
    await ctx.h.apply({ name: 'echo' }, 2);
    const f = await waitReady(ctx.h, 'echo', 2);
    const del = await ctx.h.call<{ removed: boolean }>('DELETE', '/v1/functions/openfaas-fn/echo');
    expect(del.status).to.equal(200);
    expect(del.body).to.deep.equal({ removed: true });
    for (const r of f.replicas) expect(pidAlive(r.pid!)).to.equal(false);
    expect(await ctx.h.fn('echo')).to.equal(undefined);
    const again = await ctx.h.call<{ code: string }>('DELETE', '/v1/functions/openfaas-fn/echo');
    expect(again.status).to.equal(404);
    expect(again.body.code).to.equal('not_found');
  });

  it('lets an in-flight slow request finish when its replica is drained', async () => {
    await ctx.h.apply({ name: 'echo' }, 1);
    const f = await waitReady(ctx.h, 'echo', 1);
    const slow = fetch(`${f.replicas[0]!.url}/slow?ms=700`).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));
    // the replica has the request once it logs it
    await waitFor('the slow request in the replica', async () =>
      (await ctx.h.logs('name=echo&namespace=openfaas-fn')).some((l) => l.text === 'GET /slow'),
    );
    const t0 = Date.now();
    const scaled = await ctx.h.apply({ name: 'echo' }, 0);
    expect(scaled.replicas.map((r) => r.state)).to.deep.equal(['draining']);
    expect(await slow).to.deep.equal({ status: 200, text: 'slow done' });
    await waitFor('replica stopped', async () => (await ctx.h.fn('echo'))?.replicas.length === 0);
    // it exited on SIGTERM once the request was done, well before the drain timeout (2 s)
    expect(Date.now() - t0).to.be.lessThan(1_800);
    expect(pidAlive(f.replicas[0]!.pid!)).to.equal(false);
    expect(ctx.h.sink.lines().join('\n')).not.to.contain('did not stop in time');
    const lines = await ctx.h.logs('name=echo&namespace=openfaas-fn');
    expect(lines.map((l) => l.text)).to.include('SIGTERM received, draining');
  });

  it('exposes replica counts and restarts as Prometheus metrics', async () => {
    await ctx.h.apply({ name: 'echo' }, 2);
    await waitReady(ctx.h, 'echo', 2);
    const text = await (
      await fetch(`${ctx.h.agent.url}/metrics`, { headers: { authorization: `Bearer ${ctx.h.agent.token}` } })
    ).text();
    expect(text).to.match(/fastgshare_node_replicas\{state="ready"\} 2/);
    expect(text).to.match(/fastgshare_node_replicas\{state="backoff"\} 0/);
    expect(text).to.contain('fastgshare_node_process_cpu_user_seconds_total');
  });

  it('stops every replica on close()', async () => {
    await ctx.h.apply({ name: 'echo' }, 2);
    const f: FunctionReplicas = await waitReady(ctx.h, 'echo', 2);
    await ctx.h.agent.close();
    for (const r of f.replicas) expect(pidAlive(r.pid!)).to.equal(false);
    expect(await readRecords(ctx.h.dataDir)).to.deep.equal([]);
  });
});
