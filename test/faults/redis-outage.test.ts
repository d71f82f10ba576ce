/**
 * Redis away for a few seconds (the gateway reaches it through a TCP proxy the test cuts):
 * sync calls keep working, async submissions get 503 (nothing half-queued), and calls queued
 * before the outage all run once Redis is back.
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';
import { startCallbackServer, type CallbackServer } from '../gateway/async/callback-server.ts';
import { REDIS_URL, countQueueKeys, deleteQueueKeys, uniquePrefix } from '../gateway/async/redis-keys.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

describe('fault: Redis unavailable for a few seconds', function () {
  this.timeout(45_000);
  const prefix = uniquePrefix('redis-outage');
  let h: GatewayHarness;
  let cb: CallbackServer;
  let proxy: TcpProxy;

  before(async () => {
    const target = new URL(REDIS_URL);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    cb = await startCallbackServer();
    h = await startGatewayHarness({
      env: {
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        FASTGSHARE_ASYNC_PREFIX: prefix,
        // the receiver is local: callbacks to loopback are refused unless allowed
        FASTGSHARE_CALLBACK_ALLOW: '127.0.0.1/32',
        FASTGSHARE_ASYNC_FUNCTION_CONCURRENCY: '1',
        FASTGSHARE_ASYNC_SUBMIT_TIMEOUT_MS: '1000',
        FASTGSHARE_ASYNC_LOCK_MS: '2000',
      },
    });
    expect(
      (
        await h.call('POST', '/system/functions', {
          body: { service: 'echo', image: 'echo:latest', labels: {}, annotations: {} },
        })
      ).status,
    ).to.equal(202);
    await h.eventually(async () => expect((await h.call('GET', '/function/echo')).status).to.equal(200));
  });
  after(async () => {
    await h?.close();
    await cb?.close();
    await proxy?.close();
    await deleteQueueKeys(prefix);
  });

  it('keeps sync calls working, refuses async submissions with 503, and runs the queued calls after Redis returns', async () => {
    // one call at a time, 250 ms each: most of these are still queued when Redis goes away
    const queued: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await h.call('POST', '/async-function/echo/slow?ms=250', {
        body: `q${i}`,
        headers: { 'X-Callback-Url': cb.url },
      });
      expect(r.status).to.equal(202);
      queued.push(r.headers.get('x-call-id')!);
    }
    await proxy.cut();
    const outageStart = Date.now();
    const keysDuringOutage = await countQueueKeys(prefix);

    for (let i = 0; i < 3; i++) {
      const sync = await h.call('POST', '/function/echo', { body: `sync${i}` });
      expect(sync.status).to.equal(200);
      expect(sync.json().body).to.equal(`sync${i}`);
    }
    const t0 = Date.now();
    const refused = await h.call('POST', '/async-function/echo', {
      body: 'during',
      headers: { 'X-Call-Id': 'during-outage-1' },
    });
    expect(refused.status).to.equal(503);
    expect(refused.text).to.match(/retry/i);
    expect(refused.headers.get('x-call-id')).to.equal('during-outage-1');
    expect(Date.now() - t0, 'a submission during the outage fails fast').to.be.lessThan(2000);
    expect((await h.call('GET', '/healthz')).status).to.equal(200);
    expect(await countQueueKeys(prefix), 'the refused submission wrote nothing').to.equal(keysDuringOutage);

    await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (Date.now() - outageStart))));
    const ranBeforeRestore = new Set(cb.received.map((c) => c.headers['x-call-id']));
    await proxy.restore();

    await h.eventually(async () => {
      for (const id of queued) expect(cb.forCall(id).length, `call ${id}`).to.be.greaterThan(0);
    }, 20_000);
    expect(
      queued.filter((id) => !ranBeforeRestore.has(id)).length,
      'some calls waited out the outage',
    ).to.be.greaterThan(0);
    for (const id of queued) {
      const got = cb.forCall(id);
      expect(got[0]!.headers['x-function-status']).to.equal('200');
      // a call that was running when Redis went away may be reported again (at-least-once), never lost
      expect(got.length).to.be.at.most(2);
    }
    // a new submission works again, and the refused call id can be resubmitted
    const again = await h.eventually(async () => {
      const r = await h.call('POST', '/async-function/echo', {
        body: 'after',
        headers: { 'X-Call-Id': 'during-outage-1', 'X-Callback-Url': cb.url },
      });
      expect(r.status).to.equal(202);
      return r;
    });
    expect(again.headers.get('x-call-id')).to.equal('during-outage-1');
    await h.eventually(async () => expect(cb.forCall('during-outage-1')).to.have.length(1));
  });
});
