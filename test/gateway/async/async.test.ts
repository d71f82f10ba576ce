/**
 * Async invocations end to end: a real gateway with BullMQ on the machine's Redis (a private
 * key prefix), a real node agent running the echo fixture, and a loopback callback receiver.
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from '../harness.ts';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';
import { REDIS_URL, countQueueKeys, deleteQueueKeys, uniquePrefix } from './redis-keys.ts';
import { createFunctionLimiter } from '../../../gateway/async/limiter.ts';
import { parseCallbackUrl } from '../../../gateway/async/callback.ts';
import { asyncKeys } from '../../../gateway/async/keys.ts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';

describe('async invocations (/async-function)', function () {
  this.timeout(40_000);
  const prefix = uniquePrefix('async');
  let h: GatewayHarness;
  let cb: CallbackServer;

  before(async () => {
    cb = await startCallbackServer();
    h = await startGatewayHarness({
      env: {
        REDIS_URL,
        FASTGSHARE_ASYNC_PREFIX: prefix,
        FASTGSHARE_ASYNC_MAX_ATTEMPTS: '3',
        FASTGSHARE_ASYNC_BACKOFF_MS: '100',
        FASTGSHARE_ASYNC_FUNCTION_CONCURRENCY: '2',
        FASTGSHARE_ASYNC_MAX_BODY_BYTES: '4096',
        FASTGSHARE_READY_TIMEOUT_MS: '300',
        // the receiver is local: callbacks to loopback are refused unless allowed
        FASTGSHARE_CALLBACK_ALLOW: '127.0.0.1/32',
      },
    });
    // echo: one replica; flaky: none until scaled up (min 0)
    for (const [service, labels] of [
      ['echo', {}],
      ['flaky', { 'com.openfaas.scale.min': '0' }],
    ] as const) {
      expect(
        (
          await h.call('POST', '/system/functions', {
            body: { service, image: 'echo:latest', labels, annotations: {} },
          })
        ).status,
      ).to.equal(202);
    }
    await h.eventually(async () => expect((await h.call('GET', '/function/echo')).status).to.equal(200));
  });
  after(async () => {
    await h?.close();
    await cb?.close();
    await deleteQueueKeys(prefix);
  });

  /** Waits until the queue holds no job waiting, delayed or running (every job queued so far has ended). */
  const queueDrained = async () => {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(asyncKeys({ prefix, queue: 'async-invocations' }).queue, { connection, prefix });
    try {
      await h.eventually(async () => {
        const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'waiting-children');
        expect(
          Object.values(counts).reduce((a, n) => a + n, 0),
          JSON.stringify(counts),
        ).to.equal(0);
      });
    } finally {
      await queue.close();
      connection.disconnect();
    }
  };

  it("queues the request and posts the function's answer to the callback with the OpenFaaS headers", async () => {
    const res = await h.call('PUT', '/async-function/echo.openfaas-fn/some/path?a=1&b=two', {
      body: 'hello async',
      headers: { 'X-Callback-Url': cb.url, 'X-Custom': 'kept', 'Content-Type': 'text/plain' },
    });
    expect(res.status).to.equal(202);
    expect(res.text).to.equal('');
    const id = res.headers.get('x-call-id')!;
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    const [got] = await h.eventually(async () => {
      const c = cb.forCall(id);
      expect(c).to.have.length(1);
      return c;
    });
    expect(got!.headers['x-function-status']).to.equal('200');
    expect(got!.headers['x-function-name']).to.equal('echo.openfaas-fn');
    expect(Number(got!.headers['x-duration-seconds'])).to.be.greaterThan(0);
    const echoed = JSON.parse(got!.body);
    expect(echoed).to.include({ method: 'PUT', path: '/some/path', query: '?a=1&b=two', body: 'hello async' });
    expect(echoed.headers).to.include({ 'x-custom': 'kept', 'content-type': 'text/plain', 'x-call-id': id });
    expect(echoed.headers).to.not.have.property('x-callback-url');
  });

  it('rejects unknown functions (404), bad callback URLs and call ids (400) and big bodies (413) without queueing anything', async () => {
    const before = await countQueueKeys(prefix);
    const cases: Array<[string, Record<string, string>, string | Uint8Array, number]> = [
      ['/async-function/nope', {}, 'x', 404],
      ['/async-function/echo', { 'X-Callback-Url': 'not a url' }, 'x', 400],
      ['/async-function/echo', { 'X-Callback-Url': 'ftp://example.com/x' }, 'x', 400],
      ['/async-function/echo', { 'X-Call-Id': 'has:colon' }, 'x', 400],
      ['/async-function/echo', { 'X-Call-Id': '12345' }, 'x', 400],
      ['/async-function/echo', {}, new Uint8Array(5000), 413],
      ['/async-function/bad..name', {}, 'x', 400],
      // upper case is no gateway path (names are lower-case DNS labels; gateway/http/canonical-path.ts)
      ['/async-function/Bad..Name', {}, 'x', 404],
    ];
    for (const [path, headers, body, status] of cases) {
      const r = await h.call('POST', path, { headers, body });
      expect(r.status, `${path} ${JSON.stringify(headers)}`).to.equal(status);
      expect(r.text.trim(), 'an error says what to fix').to.not.equal('');
    }
    expect(await countQueueKeys(prefix)).to.equal(before);
  });

  it('refuses callbacks to the platform itself and to internal addresses at submission: 400 naming the rule and the setting, nothing queued', async () => {
    const before = await countQueueKeys(prefix);
    const rxPort = new URL(cb.url).port;
    const gw = h.gateway.port;
    const agentPort = new URL(h.agents[0]!.url).port;
    const cases: Array<[string, string]> = [
      [`http://127.0.0.1:${gw}/system/functions`, 'platform-listener'],
      [`http://2130706433:${gw}/system/functions`, 'platform-listener'],
      [`http://0x7f.1:${agentPort}/v1/functions`, 'platform-listener'],
      [`http://localhost:${agentPort}/v1/functions`, 'platform-listener'],
      [`http://[::1]:${rxPort}/cb`, 'loopback'],
      [`http://[::ffff:127.0.0.2]:${rxPort}/cb`, 'loopback'],
      [`http://0.0.0.0:${rxPort}/cb`, 'unspecified'],
      ['http://169.254.169.254/latest/meta-data/', 'link-local'],
      ['http://10.0.0.1/cb', 'private'],
      ['http://100.64.0.1/cb', 'shared'],
    ];
    for (const [url, rule] of cases) {
      const r = await h.call('POST', '/async-function/echo', { body: 'x', headers: { 'X-Callback-Url': url } });
      expect(r.status, url).to.equal(400);
      expect(r.text, url).to.include(`rule: ${rule}`).and.to.include('FASTGSHARE_CALLBACK_ALLOW');
    }
    expect(await countQueueKeys(prefix)).to.equal(before);
  });

  it('refuses at send time a name that resolves to the gateway itself: callback recorded as failed, not retried, nothing posted', async () => {
    const name = hostname();
    const resolves = await lookup(name).then(
      () => true,
      () => false,
    );
    const failedBefore = Number(
      /gateway_async_callbacks_total\{result="failed"\} (\d+)/.exec((await h.call('GET', '/metrics')).text)?.[1] ?? 0,
    );
    const id = `self-${Date.now()}`;
    const url = `http://${name}:${h.gateway.port}/system/scale-function/echo`;
    const r = await h.call('POST', '/async-function/echo', {
      body: '{"serviceName":"echo","replicas":0}',
      headers: { 'X-Call-Id': id, 'X-Callback-Url': url },
    });
    expect(r.status, 'a name is not resolved at submission').to.equal(202);
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(asyncKeys({ prefix, queue: 'async-invocations' }).queue, { connection, prefix });
    try {
      const result = await h.eventually(async () => {
        const job = await queue.getJob(id);
        expect(job?.returnvalue, 'job finished').to.be.an('object');
        return job!.returnvalue as { callback?: string; status: number };
      });
      expect(result.status).to.equal(200);
      expect(result.callback).to.equal('failed');
    } finally {
      await queue.close();
      connection.disconnect();
    }
    const failed = h.sink.records.filter((l) => l.message === 'async callback failed' && l.fields.callId === id);
    expect(failed, 'logged once: no retries hammering the destination').to.have.length(1);
    if (resolves) expect(String(failed[0]!.fields.error)).to.match(/refused \(rule: platform-listener\)/);
    const metrics = (await h.call('GET', '/metrics')).text;
    expect(Number(/gateway_async_callbacks_total\{result="failed"\} (\d+)/.exec(metrics)?.[1])).to.equal(
      failedBefore + 1,
    );
    // the callback did not reach the scale route: echo still has its replica
    const fns = (await h.call('GET', '/system/functions')).json() as Array<{ name: string; replicas: number }>;
    expect(fns.find((f) => f.name === 'echo')!.replicas).to.equal(1);
  });

  it('runs a resubmitted X-Call-Id only once', async () => {
    const id = `dup-${Date.now()}`;
    for (let i = 0; i < 3; i++) {
      const r = await h.call('POST', '/async-function/echo', {
        body: `n${i}`,
        headers: { 'X-Call-Id': id, 'X-Callback-Url': cb.url },
      });
      expect(r.status).to.equal(202);
      expect(r.headers.get('x-call-id')).to.equal(id);
    }
    await h.eventually(async () => expect(cb.forCall(id)).to.have.length(1));
    // a second run would be a job still queued or running (each 202 above has added or deduplicated its job)
    // that posts its callback before it completes: once the queue has nothing left to run, all runs are in
    await queueDrained();
    expect(cb.forCall(id)).to.have.length(1);
    expect(JSON.parse(cb.forCall(id)[0]!.body).body).to.equal('n0');
    // and after it finished, too
    expect(
      (
        await h.call('POST', '/async-function/echo', {
          body: 'again',
          headers: { 'X-Call-Id': id, 'X-Callback-Url': cb.url },
        })
      ).status,
    ).to.equal(202);
    await queueDrained();
    expect(cb.forCall(id)).to.have.length(1);
  });

  it('retries 503s with backoff and reports the final failure to the callback', async () => {
    // flaky has no replica: every attempt is a 503 after the bounded ready wait
    const started = Date.now();
    const r = await h.call('POST', '/async-function/flaky', { body: 'x', headers: { 'X-Callback-Url': cb.url } });
    expect(r.status).to.equal(202);
    const id = r.headers.get('x-call-id')!;
    const [got] = await h.eventually(async () => {
      const c = cb.forCall(id);
      expect(c).to.have.length(1);
      return c;
    }, 15_000);
    expect(got!.headers['x-function-status']).to.equal('503');
    expect(got!.headers['x-function-attempts']).to.equal('3');
    // 3 ready waits of 300 ms plus backoff 100 + 200 ms
    expect(Date.now() - started).to.be.greaterThan(3 * 300 + 300 - 50);
    const metrics = (await h.call('GET', '/metrics')).text;
    expect(metrics).to.match(/gateway_async_retries_total\{function_name="flaky.openfaas-fn"\} 2/);
    expect(metrics).to.match(/gateway_async_finished_total\{function_name="flaky.openfaas-fn",code="503"\} 1/);
  });

  it('succeeds on a later attempt once the function has a replica again', async () => {
    const r = await h.call('POST', '/async-function/flaky', { body: 'later', headers: { 'X-Callback-Url': cb.url } });
    const id = r.headers.get('x-call-id')!;
    expect(
      (await h.call('POST', '/system/scale-function/flaky', { body: { serviceName: 'flaky', replicas: 1 } })).status,
    ).to.be.oneOf([200, 202]);
    const [got] = await h.eventually(async () => {
      const c = cb.forCall(id);
      expect(c).to.have.length(1);
      return c;
    }, 15_000);
    expect(got!.headers['x-function-status']).to.equal('200');
    expect(Number(got!.headers['x-function-attempts'])).to.be.within(1, 3);
    expect(JSON.parse(got!.body).body).to.equal('later');
  });

  it('bounds how many calls of one function run at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await h.call('POST', '/async-function/echo/slow?ms=300', {
        body: String(i),
        headers: { 'X-Callback-Url': cb.url },
      });
      ids.push(r.headers.get('x-call-id')!);
    }
    const got = await h.eventually(async () => {
      const all = ids.map((id) => cb.forCall(id));
      expect(all.every((c) => c.length === 1)).to.equal(true);
      return all.map((c) => c[0]!.at).sort((a, b) => a - b);
    }, 15_000);
    // 6 calls of 300 ms, 2 at a time: three waves, so the last ends >= ~600 ms after the first
    expect(got[5]! - got[0]!).to.be.greaterThan(500);
  });

  it('exposes queue depth and age on /metrics', async () => {
    const text = (await h.call('GET', '/metrics')).text;
    expect(text).to.match(/gateway_async_queue_depth\{state="waiting"\} \d+/);
    expect(text).to.match(/gateway_async_queue_depth\{state="completed"\} [1-9]\d*/);
    expect(text).to.match(/gateway_async_queue_oldest_age_seconds \d/);
    expect(text).to.match(/gateway_async_submitted_total\{function_name="echo.openfaas-fn"\} [1-9]/);
  });
});

describe('async building blocks', () => {
  it('limits each function separately and releases once', () => {
    const l = createFunctionLimiter(2);
    const a = l.tryAcquire('f')!;
    const b = l.tryAcquire('f')!;
    expect(l.tryAcquire('f')).to.equal(undefined);
    expect(l.tryAcquire('g')).to.be.a('function');
    a();
    a();
    expect(l.inFlight('f')).to.equal(1);
    expect(l.tryAcquire('f')).to.be.a('function');
    b();
  });

  it('accepts only absolute http(s) callback URLs', () => {
    expect(parseCallbackUrl(undefined)).to.equal(undefined);
    expect(parseCallbackUrl('http://127.0.0.1:9/x?y=1')).to.equal('http://127.0.0.1:9/x?y=1');
    for (const bad of ['', '/relative', 'javascript:alert(1)', 'http://u:p@h/', ['http://a/', 'http://b/']]) {
      expect(() => parseCallbackUrl(bad as string)).to.throw(/X-Callback-Url/);
    }
  });
});
