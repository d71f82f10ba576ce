/**
 * A replica process killed (SIGKILL) while calls are in flight: every caller gets an answer
 * (200 from the replica, 502 for a call it had accepted, 503 if none came back in time), none
 * hangs, and the node agent brings the replica back so calls succeed again.
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';

describe('fault: a replica killed in the middle of requests', function () {
  this.timeout(30_000);
  let h: GatewayHarness;

  before(async () => {
    h = await startGatewayHarness({ env: { FASTGSHARE_READY_TIMEOUT_MS: '3000' } });
    expect(
      (
        await h.call('POST', '/system/functions', {
          body: { service: 'victim', image: 'echo:latest', labels: {}, annotations: {} },
        })
      ).status,
    ).to.equal(202);
    await h.eventually(async () => expect((await h.call('GET', '/function/victim')).status).to.equal(200));
  });
  after(async () => {
    await h?.close();
  });

  const agent = () => createHttpNodeAgentClient(h.agents[0]!.url, { token: h.agents[0]!.token });
  const replicas = async () => (await agent().listFunctions()).find((f) => f.name === 'victim')!.replicas;

  it('answers every caller (502 for the calls it had), never hangs, and the replica comes back', async () => {
    const [before] = await replicas();
    expect(before!.pid).to.be.a('number');
    const calls = Array.from({ length: 12 }, (_, i) =>
      fetch(`${h.gateway.url}/function/victim/slow?ms=1500`, {
        method: 'POST',
        body: `c${i}`,
        signal: AbortSignal.timeout(10_000),
      }).then(
        async (r) => ({ status: r.status, text: await r.text() }),
        (err: Error) => ({ status: 0, text: err.message }),
      ),
    );
    // kill it once it holds every call (the echo fixture logs each slow call it has)
    await h.eventually(async () => {
      const held: string[] = [];
      for await (const m of agent().logs({ name: 'victim', namespace: 'openfaas-fn', instance: before!.id, tail: -1 }))
        if (/^slow call c\d+ held$/.test(m.text)) held.push(m.text);
      expect(held).to.have.length(12);
    });
    process.kill(before!.pid!, 'SIGKILL');
    const t0 = Date.now();
    const results = await Promise.all(calls);
    expect(Date.now() - t0, 'no call hangs').to.be.lessThan(8000);
    for (const r of results) expect(r.status, r.text).to.be.oneOf([200, 502, 503]);
    const failed = results.filter((r) => r.status === 502);
    expect(failed.length, 'the calls the killed replica had accepted fail with 502').to.be.greaterThan(0);
    for (const f of failed) expect(f.text).to.match(/replica .* failed|accepted the connection/);

    // the agent restarts it: a new process, and calls work again
    const after = await h.eventually(async () => {
      const [r] = await replicas();
      expect(r!.state).to.equal('ready');
      expect(r!.pid).to.not.equal(before!.pid);
      return r!;
    }, 15_000);
    expect(after.restarts).to.be.greaterThan(0);
    expect((await replicas()).length, 'still exactly one replica').to.equal(1);
    const ok = await h.eventually(async () => {
      const r = await h.call('POST', '/function/victim', { body: 'back' });
      expect(r.status).to.equal(200);
      return r;
    });
    expect(ok.json().body).to.equal('back');
  });
});
