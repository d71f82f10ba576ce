/**
 * Replays the requests faas-cli sends (design/openfaas-api.md) against a real gateway, a real
 * node agent running the echo fixture, and the real embedded store; asserts status, headers
 * and bodies.
 */
import { expect } from 'chai';
import http from 'node:http';
import { startGatewayHarness, type GatewayHarness } from './harness.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';

const BEARER = { authorization: 'Bearer' };
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** What faas-cli deploy sends for a stack function. */
function deployment(service: string, extra: Record<string, unknown> = {}) {
  return {
    service,
    image: 'echo:latest',
    envProcess: '',
    envVars: {},
    constraints: [],
    secrets: [],
    labels: {},
    annotations: {},
    limits: { memory: '128Mi' },
    requests: { memory: '64Mi', cpu: '100m' },
    readOnlyRootFilesystem: false,
    ...extra,
  };
}

describe('gateway OpenFaaS contract (faas-cli requests, real node agent)', function () {
  this.timeout(30_000);
  let h: GatewayHarness;

  before(async () => {
    h = await startGatewayHarness();
  });
  after(async () => {
    await h?.close();
  });

  const available = (name: string, n: number, ns = 'openfaas-fn') =>
    h.eventually(async () => {
      const r = await h.call('GET', `/system/function/${name}?namespace=${ns}`, { headers: BEARER });
      expect(r.status).to.equal(200);
      expect(r.json().availableReplicas).to.equal(n);
      return r.json();
    });

  describe('deploy', () => {
    it('PUT of an unknown function is 404, then POST deploys it with 202', async () => {
      const put = await h.call('PUT', '/system/functions', { body: deployment('echo'), headers: BEARER });
      expect(put.status).to.equal(404);
      expect(put.headers.get('content-type')).to.match(/^text\/plain/);
      expect(put.headers.get('x-fastgshare-error')).to.equal('not_found');
      expect(put.text).to.contain('function "echo" not found in namespace "openfaas-fn"');
      const post = await h.call('POST', '/system/functions', { body: deployment('echo'), headers: BEARER });
      expect(post.status).to.equal(202);
      const fn = await available('echo', 1);
      expect(fn.replicas).to.equal(1);
    });

    it('PUT of an existing function updates it with 200 and the replicas pick up the change', async () => {
      const put = await h.call('PUT', '/system/functions', {
        body: deployment('echo', { envVars: { GREETING: 'hi' } }),
        headers: BEARER,
      });
      expect(put.status).to.equal(200);
      await h.eventually(async () => {
        const r = await h.call('POST', '/function/echo.openfaas-fn', { body: 'x' });
        expect(r.status).to.equal(200);
        expect(r.headers.get('x-greeting')).to.equal('hi');
      });
      const fn = (await h.call('GET', '/system/function/echo')).json();
      expect(fn.envVars).to.deep.equal({ GREETING: 'hi' });
    });

    it('POST of an existing function is 409', async () => {
      const r = await h.call('POST', '/system/functions', { body: deployment('echo'), headers: BEARER });
      expect(r.status).to.equal(409);
      expect(r.text).to.contain('PUT /system/functions');
    });

    it('an image missing from the image store is 400 with the agent message, and nothing is stored', async () => {
      const r = await h.call('POST', '/system/functions', { body: deployment('ghost', { image: 'nothere:1.0' }) });
      expect(r.status).to.equal(400);
      expect(r.headers.get('x-fastgshare-error')).to.equal('image_not_found');
      expect(r.text).to.contain('image "nothere:1.0" is not in the image store');
      expect((await h.call('GET', '/system/function/ghost')).status).to.equal(404);
      expect((await h.call('GET', '/system/functions')).json().map((f: { name: string }) => f.name)).to.deep.equal([
        'echo',
      ]);
    });

    it('rejects bad bodies, bad names, unknown namespaces and unknown secrets with 400 saying what to fix', async () => {
      let r = await h.call('POST', '/system/functions', {
        body: '{"service": "x",',
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).to.equal(400);
      expect(r.text).to.match(/^invalid JSON in request body: /);
      r = await h.call('POST', '/system/functions', { body: { image: 'echo:latest' } });
      expect(r.status).to.equal(400);
      expect(r.text).to.contain('field "service"');
      r = await h.call('POST', '/system/functions', { body: deployment('Bad_Name') });
      expect(r.status).to.equal(400);
      expect(r.headers.get('x-fastgshare-error')).to.equal('invalid_name');
      r = await h.call('POST', '/system/functions', { body: deployment('echo2', { namespace: 'nowhere' }) });
      expect(r.status).to.equal(400);
      expect(r.text).to.contain('namespace "nowhere" does not exist').and.contain('POST /system/namespace/');
      r = await h.call('POST', '/system/functions', { body: deployment('echo2', { secrets: ['api-key', 'db-pass'] }) });
      expect(r.status).to.equal(400);
      expect(r.text).to.contain('"api-key", "db-pass" not found in namespace "openfaas-fn"');
      r = await h.call('POST', '/system/functions', {
        body: deployment('echo2', { labels: { 'com.openfaas.scale.min': 'two' } }),
      });
      expect(r.status).to.equal(400);
      expect(r.text).to.contain('com.openfaas.scale.min');
      expect((await h.call('GET', '/system/function/echo2')).status).to.equal(404);
    });

    it('limits JSON bodies on /system/* to 1 MiB', async () => {
      const r = await h.call('POST', '/system/functions', {
        body: deployment('big', { envVars: { BIG: 'x'.repeat(1_100_000) } }),
      });
      expect(r.status).to.equal(413);
      expect(r.headers.get('x-fastgshare-error')).to.equal('payload_too_large');
    });
  });

  describe('list and describe', () => {
    it('GET /system/functions and /system/function/NAME?usage=1 return FunctionStatus', async () => {
      const list = await h.call('GET', '/system/functions', { headers: BEARER });
      expect(list.status).to.equal(200);
      expect(list.headers.get('content-type')).to.match(/^application\/json/);
      const [fn] = list.json();
      expect(fn).to.include({
        name: 'echo',
        image: 'echo:latest',
        namespace: 'openfaas-fn',
        replicas: 1,
        availableReplicas: 1,
        readOnlyRootFilesystem: false,
      });
      expect(fn.labels).to.deep.equal({});
      expect(fn.annotations).to.deep.equal({});
      expect(fn.limits).to.deep.equal({ memory: '128Mi' });
      expect(fn.requests).to.deep.equal({ memory: '64Mi', cpu: '100m' });
      expect(fn.createdAt).to.match(RFC3339);
      expect(fn.invocationCount).to.be.a('number');
      expect(fn).not.to.have.property('usage');
      const described = await h.eventually(async () => {
        const r = await h.call('GET', '/system/function/echo?usage=1', { headers: BEARER });
        expect(r.status).to.equal(200);
        expect(r.json().usage.totalMemoryBytes).to.be.greaterThan(0);
        return r.json();
      });
      expect(described.usage.cpu).to.be.a('number');
      expect(described.availableReplicas).to.equal(1);
      const missing = await h.call('GET', '/system/function/nope?usage=1');
      expect(missing.status).to.equal(404);
      expect(missing.text).to.contain('function "nope" not found');
    });

    it('lists by namespace: a namespace that does not exist is a 400', async () => {
      const r = await h.call('GET', '/system/functions?namespace=openfaas-fn');
      expect(r.json()).to.have.length(1);
      const missing = await h.call('GET', '/system/functions?namespace=elsewhere');
      expect(missing.status).to.equal(400);
      expect(missing.text).to.contain('namespace "elsewhere" does not exist');
    });
  });

  describe('invoke', () => {
    it('proxies POST /function/NAME.openfaas-fn with query string, sub-path and headers', async () => {
      const r = await h.call('POST', '/function/echo.openfaas-fn/api/v1/items?a=1&b=x%20y', {
        body: 'hello',
        headers: { 'X-Foo': 'bar', 'Content-Type': 'text/plain' },
      });
      expect(r.status).to.equal(200);
      const seen = r.json();
      expect(seen).to.include({ method: 'POST', path: '/api/v1/items', query: '?a=1&b=x%20y', body: 'hello' });
      expect(seen.headers['x-foo']).to.equal('bar');
      expect(seen.headers['content-type']).to.equal('text/plain');
      expect(seen.headers['x-start-time']).to.match(/^\d{19}$/);
      expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
      expect(seen.headers['x-forwarded-host']).to.equal(new URL(h.gateway.url).host);
      expect(r.headers.get('x-call-id')).to.equal(seen.headers['x-call-id']);
      expect(Number(r.headers.get('x-duration-seconds'))).to.be.greaterThan(0);
    });

    it('accepts -m GET, a bare name (default namespace) and the trailing slash', async () => {
      let r = await h.call('GET', '/function/echo?q=1');
      expect(r.status).to.equal(200);
      expect(r.json()).to.include({ method: 'GET', path: '/', query: '?q=1' });
      r = await h.call('DELETE', '/function/echo/');
      expect(r.json()).to.include({ method: 'DELETE', path: '/' });
    });

    it('404s an unknown function, with no auth needed on /function', async () => {
      const r = await h.call('POST', '/function/nope.openfaas-fn', { body: 'x' });
      expect(r.status).to.equal(404);
      expect(r.headers.get('x-fastgshare-error')).to.equal('not_found');
    });

    it('counts invocations in invocationCount (persisted with $inc) and in the metrics', async () => {
      // a call is counted when its response has been handed to the socket, which can be just after
      // the client has read it: wait until every earlier call has been counted, and read counts with `eventually`
      const count = async () => (await h.call('GET', '/system/function/echo')).json().invocationCount as number;
      await h.invocationsSettled('echo.openfaas-fn');
      const before = await count();
      for (let i = 0; i < 3; i++)
        expect((await h.call('POST', '/function/echo.openfaas-fn', { body: String(i) })).status).to.equal(200);
      await h.eventually(async () => expect(await count()).to.equal(before + 3));
      await h.eventually(async () => {
        const doc = await h.testStore.store.models.Function.findOne({ name: 'echo', namespace: 'openfaas-fn' }).lean();
        expect(doc!.invocationCount).to.equal(before + 3);
      });
      const metrics = (await h.call('GET', '/metrics')).text;
      // every call counts, whatever its status (all codes summed)
      const sum = (metric: string) =>
        [
          ...metrics.matchAll(
            new RegExp(`^${metric}\\{function_name="echo.openfaas-fn",code="(\\d+)"\\} (\\d+)$`, 'gm'),
          ),
        ].reduce((a, m) => a + Number(m[2]), 0);
      expect(sum('gateway_function_invocation_total')).to.equal(before + 3);
      expect(sum('gateway_functions_seconds_count')).to.equal(before + 3);
      expect(metrics).to.match(
        /gateway_function_invocation_total\{function_name="echo.openfaas-fn",code="200"\} [1-9]\d*/,
      );
      expect(metrics).to.match(/gateway_function_invocation_started\{function_name="echo.openfaas-fn"\} \d+/);
      expect(metrics).to.contain('gateway_service_count{function_name="echo.openfaas-fn"} 1');
      expect(metrics).to.contain('process_cpu_user_seconds_total');
    });
  });

  describe('scale', () => {
    it('scales within com.openfaas.scale.min/max and 404s unknown functions', async () => {
      const put = await h.call('PUT', '/system/functions', {
        body: deployment('echo', {
          envVars: { GREETING: 'hi' },
          labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '2' },
        }),
      });
      expect(put.status).to.equal(200);
      let r = await h.call('POST', '/system/scale-function/echo', {
        body: { serviceName: 'echo', replicas: 5, namespace: 'openfaas-fn' },
      });
      expect(r.status).to.equal(202);
      let fn = await available('echo', 2);
      expect(fn.replicas).to.equal(2);
      r = await h.call('POST', '/system/scale-function/echo', { body: { serviceName: 'echo', replicas: 0 } });
      expect(r.status).to.equal(202);
      fn = await available('echo', 1);
      expect(fn.replicas).to.equal(1);
      r = await h.call('POST', '/system/scale-function/nope', { body: { serviceName: 'nope', replicas: 1 } });
      expect(r.status).to.equal(404);
      r = await h.call('POST', '/system/scale-function/echo', { body: { serviceName: 'echo', replicas: -1 } });
      expect(r.status).to.equal(400);
    });
  });

  describe('system', () => {
    it('GET /system/info has every nested object', async () => {
      const r = await h.call('GET', '/system/info', { headers: BEARER });
      expect(r.status).to.equal(200);
      const info = r.json();
      expect(info.provider).to.include({ provider: 'fastgshare' });
      expect(info.provider.orchestration).to.be.a('string').and.not.equal('');
      expect(info.provider.version.release).to.equal('0.1.0');
      expect(info.provider.version.sha).to.be.a('string').and.not.equal('');
      expect(info.version).to.have.all.keys('commit_message', 'sha', 'release');
      expect(info.version.release).to.equal('0.1.0');
      expect(info.arch).to.be.a('string').and.not.equal('');
    });

    it('GET /healthz is 200 when the store and a node answer; unknown routes are a helpful 404', async () => {
      const r = await h.call('GET', '/healthz');
      expect(r.status).to.equal(200);
      const nf = await h.call('GET', '/system/nothing');
      expect(nf.status).to.equal(404);
      expect(nf.text).to.contain('no route for GET /system/nothing');
    });
  });

  describe('namespaces', () => {
    it('lists, creates, reads and deletes namespaces; functions deploy and answer in them', async () => {
      expect((await h.call('GET', '/system/namespaces')).json()).to.deep.equal(['openfaas-fn']);
      let r = await h.call('POST', '/system/namespace/', { body: { name: 'team-a', labels: { owner: 'a' } } });
      expect(r.status).to.equal(201);
      expect((await h.call('POST', '/system/namespace/', { body: { name: 'team-a' } })).status).to.equal(409);
      expect((await h.call('POST', '/system/namespace/', { body: { name: 'Team A' } })).status).to.equal(400);
      r = await h.call('GET', '/system/namespace/team-a');
      expect(r.json()).to.deep.equal({ name: 'team-a', labels: { owner: 'a' }, annotations: {} });
      expect((await h.call('GET', '/system/namespaces')).json()).to.deep.equal(['openfaas-fn', 'team-a']);

      expect(
        (await h.call('POST', '/system/functions', { body: deployment('echo', { namespace: 'team-a' }) })).status,
      ).to.equal(202);
      await available('echo', 1, 'team-a');
      r = await h.call('POST', '/function/echo.team-a/x', { body: 'in team-a' });
      expect(r.status).to.equal(200);
      expect(r.json().body).to.equal('in team-a');
      expect(
        (await h.call('GET', '/system/functions?namespace=team-a'))
          .json()
          .map((f: { namespace: string }) => f.namespace),
      ).to.deep.equal(['team-a']);

      r = await h.call('DELETE', '/system/namespace/team-a');
      expect(r.status).to.equal(409);
      expect(r.text).to.contain('still holds 1 function');
      expect(
        (await h.call('DELETE', '/system/functions', { body: { functionName: 'echo', namespace: 'team-a' } })).status,
      ).to.equal(200);
      expect((await h.call('DELETE', '/system/namespace/team-a')).status).to.equal(200);
      expect((await h.call('GET', '/system/namespace/team-a')).status).to.equal(404);
      expect((await h.call('DELETE', '/system/namespace/openfaas-fn')).status).to.equal(409);
    });
  });

  describe('secrets', () => {
    it('creates, lists (names only), updates and deletes secrets; replicas read them and get updates', async () => {
      let r = await h.call('POST', '/system/secrets', { body: { name: 'api-key', value: 'first' } });
      expect(r.status).to.equal(201);
      expect((await h.call('POST', '/system/secrets', { body: { name: 'api-key', value: 'again' } })).status).to.equal(
        409,
      );
      r = await h.call('POST', '/system/secrets', {
        body: { name: 'raw-one', rawValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
      });
      expect(r.status).to.equal(201);
      expect((await h.call('POST', '/system/secrets', { body: { name: 'bad', rawValue: '%%%' } })).status).to.equal(
        400,
      );
      expect((await h.call('POST', '/system/secrets', { body: { name: 'none' } })).status).to.equal(400);
      r = await h.call('GET', '/system/secrets');
      expect(r.json()).to.deep.equal([
        { name: 'api-key', namespace: 'openfaas-fn' },
        { name: 'raw-one', namespace: 'openfaas-fn' },
      ]);
      expect(r.text).not.to.contain('first');

      expect(
        (await h.call('POST', '/system/functions', { body: deployment('withsecret', { secrets: ['api-key'] }) }))
          .status,
      ).to.equal(202);
      await available('withsecret', 1);
      r = await h.call('GET', '/function/withsecret/secret/api-key');
      expect(r.text).to.equal('first');

      expect((await h.call('PUT', '/system/secrets', { body: { name: 'api-key', value: 'second' } })).status).to.equal(
        202,
      );
      expect((await h.call('PUT', '/system/secrets', { body: { name: 'missing', value: 'x' } })).status).to.equal(404);
      await h.eventually(async () => {
        const s = await h.call('GET', '/function/withsecret/secret/api-key');
        expect(s.text).to.equal('second');
      }, 15_000);

      expect((await h.call('DELETE', '/system/secrets', { body: { name: 'raw-one' } })).status).to.equal(202);
      expect((await h.call('DELETE', '/system/secrets', { body: { name: 'raw-one' } })).status).to.equal(404);
      expect((await h.call('DELETE', '/system/functions', { body: { functionName: 'withsecret' } })).status).to.equal(
        200,
      );
    });
  });

  describe('logs', () => {
    it('returns NDJSON lines for faas-cli logs NAME --tail=-1 --follow=false', async () => {
      await h.call('POST', '/function/echo.openfaas-fn/logged-path', { body: 'x' });
      const r = await h.eventually(async () => {
        const res = await h.call('GET', '/system/logs?follow=false&name=echo&tail=-1', { headers: BEARER });
        expect(res.status).to.equal(200);
        expect(res.text).to.contain('POST /logged-path');
        return res;
      });
      expect(r.headers.get('content-type')).to.match(/ndjson/);
      const lines = r.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      for (const l of lines) {
        expect(l).to.have.all.keys('name', 'namespace', 'instance', 'timestamp', 'text');
        expect(l).to.include({ name: 'echo', namespace: 'openfaas-fn' });
        expect(l.timestamp).to.match(RFC3339);
      }
      const sorted = [...lines].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
      expect(lines).to.deep.equal(sorted);
      const tail = await h.call('GET', '/system/logs?name=echo&tail=1');
      expect(tail.text.trim().split('\n')).to.have.length(1);
    });

    it('rejects a missing name and a bad since with 400; 404 for unknown functions', async () => {
      let r = await h.call('GET', '/system/logs?tail=-1');
      expect(r.status).to.equal(400);
      expect(r.text).to.contain('"name" is required');
      r = await h.call('GET', '/system/logs?name=echo&since=yesterday');
      expect(r.status).to.equal(400);
      expect(r.text).to.contain('RFC 3339');
      r = await h.call('GET', '/system/logs?name=ghost');
      expect(r.status).to.equal(404);
    });

    it('follows: streams new lines until the client goes away', async () => {
      const got: string[] = [];
      const since = new Date().toISOString();
      const req = http.get(`${h.gateway.url}/system/logs?name=echo&follow=true&since=${encodeURIComponent(since)}`);
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
      });
      expect(res.statusCode).to.equal(200);
      res.setEncoding('utf8');
      res.on('data', (c: string) => got.push(c));
      await h.call('POST', '/function/echo.openfaas-fn/followed', { body: 'x' });
      await h.eventually(async () => expect(got.join('')).to.contain('POST /followed'));
      req.destroy();
    });
  });

  describe('reconcile', () => {
    it("restores a function removed behind the gateway's back and removes functions the store does not know", async () => {
      const node = createHttpNodeAgentClient(h.agents[0]!.url, { token: h.agents[0]!.token });
      expect(await node.removeFunction('openfaas-fn', 'echo')).to.equal(true);
      await h.eventually(async () => {
        const fns = await node.listFunctions();
        const echo = fns.find((f) => f.name === 'echo');
        expect(echo?.replicas.some((r) => r.state === 'ready')).to.equal(true);
      });
      const spec = {
        name: 'stray',
        namespace: 'openfaas-fn',
        image: 'echo:latest',
        envVars: {},
        labels: {},
        annotations: {},
        secrets: {},
        readOnlyRootFilesystem: false,
      };
      await node.applyFunction({ spec, replicas: 1 });
      await h.eventually(async () => {
        const fns = await node.listFunctions();
        expect(fns.map((f) => f.name)).not.to.include('stray');
      });
    });
  });

  describe('remove', () => {
    it('DELETE /system/functions {functionName} is 200, then 404; invocations 404 after', async () => {
      let r = await h.call('DELETE', '/system/functions', { body: { functionName: 'echo' }, headers: BEARER });
      expect(r.status).to.equal(200);
      r = await h.call('DELETE', '/system/functions', { body: { functionName: 'echo' }, headers: BEARER });
      expect(r.status).to.equal(404);
      r = await h.call('POST', '/function/echo.openfaas-fn', { body: 'x' });
      expect(r.status).to.equal(404);
      await h.eventually(async () => {
        const fns = await createHttpNodeAgentClient(h.agents[0]!.url, { token: h.agents[0]!.token }).listFunctions();
        expect(fns.map((f) => f.name)).not.to.include('echo');
      });
    });
  });
});
