/**
 * What faas-cli 0.18.12 tripped on (issue 15), replayed request by request against a real gateway,
 * node agent and store: the exact bodies and query strings faas-cli sends, and the statuses it
 * needs to exit 0 (from its sources: proxy/secret.go, proxy/delete.go, proxy/deploy.go,
 * proxy/scale.go, proxy/list.go and the go-sdk client it uses for namespaces). No faas-cli binary
 * on this machine, so the wire contract is tested directly.
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from './harness.ts';

/** faas-cli with no login sends an empty bearer on /system/*. */
const BEARER = { authorization: 'Bearer' };

/** Statuses faas-cli 0.18.12 treats as success, per command (anything else: it prints an error and exits 1). */
const ACCEPTS = {
  'deploy (POST /system/functions)': [200, 201, 202],
  'deploy --update (PUT /system/functions)': [200, 201, 202],
  'remove (DELETE /system/functions)': [200, 201, 202],
  'scale (POST /system/scale-function/NAME)': [200, 201, 202],
  'list (GET /system/functions)': [200],
  'describe (GET /system/function/NAME)': [200],
  'secret create (POST /system/secrets)': [200, 201, 202],
  'secret update (PUT /system/secrets)': [200, 202],
  'secret remove (DELETE /system/secrets)': [200, 202],
  'secret list (GET /system/secrets)': [200],
  'namespace create (POST /system/namespace/)': [200, 201, 202],
  'namespace get (GET /system/namespace/NAME)': [200],
  'namespace update (PUT /system/namespace/NAME)': [200, 201, 202],
  'namespace remove (DELETE /system/namespace/NAME)': [200, 201, 202],
  'namespace list (GET /system/namespaces)': [200],
  'version (GET /system/info)': [200],
} as const;

/** What faas-cli deploy sends for `faas-cli deploy --image echo:latest --name NAME [--fprocess ...]`. */
function deployment(service: string, extra: Record<string, unknown> = {}) {
  return {
    service,
    image: 'echo:latest',
    envVars: {},
    constraints: [],
    secrets: [],
    labels: {},
    annotations: {},
    readOnlyRootFilesystem: false,
    ...extra,
  };
}

describe('gateway: faas-cli 0.18.12 compatibility (issue 15)', function () {
  this.timeout(60_000);
  let h: GatewayHarness;
  const call = (method: string, path: string, body?: unknown) => h.call(method, path, { body, headers: BEARER });
  const expectAccepted = (command: keyof typeof ACCEPTS, r: { status: number; text: string }) => {
    expect(ACCEPTS[command] as readonly number[], `${command} answered ${r.status} ${r.text.slice(0, 200)}`).to.include(
      r.status,
    );
  };
  const ready = (name: string, ns = 'openfaas-fn') =>
    h.eventually(async () => {
      const r = await call('GET', `/system/function/${name}?namespace=${ns}&usage=1`);
      expect(r.status).to.equal(200);
      expect(r.json().availableReplicas).to.equal(1);
    }, 30_000);

  before(async () => {
    h = await startGatewayHarness({ env: { FASTGSHARE_AUTOSCALE: 'false', FASTGSHARE_METERING: 'false' } });
  });
  after(async () => {
    await h?.close();
  });

  it("secret create --from-file: accepts rawValue and value together and stores the file's exact bytes", async () => {
    const file = Buffer.from('line one\nline two\n\n'); // trailing blank lines: value is trimmed, rawValue is not
    const created = await call('POST', '/system/secrets', {
      name: 'from-file',
      rawValue: file.toString('base64'),
      value: file.toString('utf8').trim(),
    });
    expectAccepted('secret create (POST /system/secrets)', created);
    // a function (classic watchdog, one process per call) reads it back where OpenFaaS functions look
    const d = await call(
      'POST',
      '/system/functions',
      deployment('show-secret', { envProcess: 'cat /var/openfaas/secrets/from-file', secrets: ['from-file'] }),
    );
    expectAccepted('deploy (POST /system/functions)', d);
    await ready('show-secret');
    let r = await h.call('POST', '/function/show-secret.openfaas-fn', { body: '' });
    expect(r.status).to.equal(200);
    expect(Buffer.from(r.text)).to.deep.equal(file);

    // secret update --from-file sends both again; rawValue wins over a value that disagrees
    const updated = Buffer.from([0x00, 0xff, 0x10, 0x0a]);
    const u = await call('PUT', '/system/secrets', {
      name: 'from-file',
      rawValue: updated.toString('base64'),
      value: 'ignored',
    });
    expectAccepted('secret update (PUT /system/secrets)', u);
    await h.eventually(async () => {
      const again = await fetch(`${h.gateway.url}/function/show-secret.openfaas-fn`, { method: 'POST', body: '' });
      expect(Buffer.from(await again.arrayBuffer())).to.deep.equal(updated);
    }, 20_000);
    // only value (secret create --from-literal) is text; an empty rawValue falls back to it
    expectAccepted(
      'secret create (POST /system/secrets)',
      await call('POST', '/system/secrets', { name: 'literal', value: 'abc', rawValue: '' }),
    );
    r = await call('POST', '/system/secrets', { name: 'bad-raw', rawValue: 'not base64!', value: 'x' });
    expect(r.status).to.equal(400);
    expect(r.text).to.contain('"rawValue" must be base64');
    expect((await call('DELETE', '/system/functions', { functionName: 'show-secret' })).status).to.equal(200);
  });

  it('secret remove answers 202 (faas-cli takes only 200/202); a second remove is 404', async () => {
    const r = await call('DELETE', '/system/secrets', { name: 'literal' });
    expectAccepted('secret remove (DELETE /system/secrets)', r);
    expect(r.status).to.equal(202);
    expect((await call('DELETE', '/system/secrets', { name: 'literal' })).status).to.equal(404);
  });

  it('namespace update --label/--annotation: PUT /system/namespace/NAME replaces labels and annotations', async () => {
    // the go-sdk faas-cli uses adds openfaas=1 to labels and annotations
    expectAccepted(
      'namespace create (POST /system/namespace/)',
      await call('POST', '/system/namespace/', {
        name: 'team-z',
        labels: { openfaas: '1', old: 'yes' },
        annotations: { openfaas: '1' },
      }),
    );
    const r = await call('PUT', '/system/namespace/team-z', {
      name: 'team-z',
      labels: { x: 'y', 'com.example.tier': 'gold', openfaas: '1' },
      annotations: { owner: 'ops', openfaas: '1' },
    });
    expectAccepted('namespace update (PUT /system/namespace/NAME)', r);
    expect(r.status).to.equal(202);
    const got = await call('GET', '/system/namespace/team-z');
    expectAccepted('namespace get (GET /system/namespace/NAME)', got);
    expect(got.json()).to.deep.equal({
      name: 'team-z',
      labels: { x: 'y', 'com.example.tier': 'gold', openfaas: '1' },
      annotations: { owner: 'ops', openfaas: '1' },
    });
    const missing = await call('PUT', '/system/namespace/nowhere', { name: 'nowhere', labels: { openfaas: '1' } });
    expect(missing.status).to.equal(404);
    const renamed = await call('PUT', '/system/namespace/team-z', { name: 'team-y', labels: {} });
    expect(renamed.status).to.equal(400);
    expect(renamed.text).to.contain('does not match the namespace in the path');
    expect((await call('PUT', '/system/namespace/Team_Z', { labels: {} })).status).to.be.oneOf([400, 404]);
    // the default namespace can be labelled too
    expect(
      (await call('PUT', '/system/namespace/openfaas-fn', { name: 'openfaas-fn', labels: { openfaas: '1' } })).status,
    ).to.equal(202);
    expect((await call('GET', '/system/namespace/openfaas-fn')).json().labels).to.deep.equal({ openfaas: '1' });
  });

  it('list -n and secret list -n for a namespace that does not exist: 400 saying so, as OpenFaaS providers', async () => {
    for (const path of ['/system/functions?namespace=no-such-ns', '/system/secrets?namespace=no-such-ns']) {
      const r = await call('GET', path);
      expect(r.status, path).to.equal(400);
      expect(r.text, path).to.contain('namespace "no-such-ns" does not exist');
    }
    expectAccepted('list (GET /system/functions)', await call('GET', '/system/functions?namespace=team-z'));
    expect((await call('GET', '/system/functions?namespace=team-z')).json()).to.deep.equal([]);
    expectAccepted('secret list (GET /system/secrets)', await call('GET', '/system/secrets?namespace=team-z'));
  });

  it("namespace remove takes the namespace's secrets (item 4 holds): gone from the list, not mounted after re-creation", async () => {
    expectAccepted(
      'secret create (POST /system/secrets)',
      await call('POST', '/system/secrets', { name: 'old-token', namespace: 'team-z', value: 'from-the-old-team-z' }),
    );
    expect((await call('GET', '/system/secrets?namespace=team-z')).json()).to.deep.equal([
      { name: 'old-token', namespace: 'team-z' },
    ]);
    expectAccepted(
      'namespace remove (DELETE /system/namespace/NAME)',
      await call('DELETE', '/system/namespace/team-z'),
    );
    expect((await call('GET', '/system/secrets?namespace=team-z')).status, 'the namespace is gone').to.equal(400);
    expectAccepted(
      'namespace create (POST /system/namespace/)',
      await call('POST', '/system/namespace/', {
        name: 'team-z',
        labels: { openfaas: '1' },
        annotations: { openfaas: '1' },
      }),
    );
    expect((await call('GET', '/system/secrets?namespace=team-z')).json()).to.deep.equal([]);
    const d = await call(
      'POST',
      '/system/functions',
      deployment('uses-old', {
        namespace: 'team-z',
        envProcess: 'cat /var/openfaas/secrets/old-token',
        secrets: ['old-token'],
      }),
    );
    expect(d.status).to.equal(400);
    expect(d.text).to.contain('secret "old-token" not found in namespace "team-z"');
  });

  it('remove -n NS sends the namespace in the query: that function goes, a namesake elsewhere stays', async () => {
    expectAccepted(
      'deploy (POST /system/functions)',
      await call('POST', '/system/functions', deployment('twin', { namespace: 'team-z' })),
    );
    expectAccepted('deploy (POST /system/functions)', await call('POST', '/system/functions', deployment('twin')));
    const clash = await call('DELETE', '/system/functions?namespace=team-z', {
      functionName: 'twin',
      namespace: 'openfaas-fn',
    });
    expect(clash.status).to.equal(400);
    expect(clash.text).to.contain('differ');
    const r = await call('DELETE', '/system/functions?namespace=team-z', { functionName: 'twin' });
    expectAccepted('remove (DELETE /system/functions)', r);
    expect((await call('GET', '/system/function/twin?namespace=team-z')).status).to.equal(404);
    expect((await call('GET', '/system/function/twin')).status, 'the default namespace keeps its twin').to.equal(200);
    expectAccepted(
      'remove (DELETE /system/functions)',
      await call('DELETE', '/system/functions', { functionName: 'twin' }),
    );
  });

  it('deploy --fprocess cat: a classic function answers through the gateway; its failures are 500 with stderr', async () => {
    // faas-cli deploy --image echo:latest --name cat --fprocess cat: envProcess carries it
    let r = await call('PUT', '/system/functions', deployment('cat', { envProcess: 'cat' }));
    expect(r.status, 'PUT of a new function: faas-cli then POSTs').to.equal(404);
    r = await call('POST', '/system/functions', deployment('cat', { envProcess: 'cat' }));
    expectAccepted('deploy (POST /system/functions)', r);
    await ready('cat');
    r = await h.call('POST', '/function/cat.openfaas-fn', { body: 'hello classic' });
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('hello classic');
    const d = await call('GET', '/system/function/cat?usage=1');
    expectAccepted('describe (GET /system/function/NAME)', d);
    expect(d.json()).to.include({ envProcess: 'cat', availableReplicas: 1 });

    expectAccepted(
      'deploy --update (PUT /system/functions)',
      await call(
        'PUT',
        '/system/functions',
        deployment('cat', { envProcess: `sh -c 'echo "no good: $(cat)" >&2; exit 4'` }),
      ),
    );
    await h.eventually(async () => {
      const f = await h.call('POST', '/function/cat.openfaas-fn', { body: 'input' });
      expect(f.status).to.equal(500);
      expect(f.text).to.equal('exit status 4\nno good: input\n');
    }, 20_000);
    expectAccepted(
      'scale (POST /system/scale-function/NAME)',
      await call('POST', '/system/scale-function/cat', { serviceName: 'cat', replicas: 0 }),
    );
    expectAccepted(
      'remove (DELETE /system/functions)',
      await call('DELETE', '/system/functions', { functionName: 'cat' }),
    );
  });

  it('answers every other read faas-cli makes with a status it accepts', async () => {
    expectAccepted('namespace list (GET /system/namespaces)', await call('GET', '/system/namespaces'));
    expectAccepted('version (GET /system/info)', await call('GET', '/system/info'));
    expectAccepted('secret list (GET /system/secrets)', await call('GET', '/system/secrets'));
    expectAccepted('list (GET /system/functions)', await call('GET', '/system/functions'));
  });
});

describe('gateway: the new and changed routes under tenant scoping', function () {
  this.timeout(60_000);
  const ADMIN = { user: 'admin', password: 'admin-password-15' };
  const basic = (user: string, password: string) => ({
    authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64'),
  });
  let h: GatewayHarness;
  const as = (who: { user: string; password: string }, method: string, path: string, body?: unknown) =>
    h.call(method, path, { body, headers: basic(who.user, who.password) });
  const alice = { user: 'alice', password: 'alice-password-15' };
  const bob = { user: 'bob', password: 'bob-password-15' };

  before(async () => {
    h = await startGatewayHarness({
      env: {
        FASTGSHARE_ADMIN_USER: ADMIN.user,
        FASTGSHARE_ADMIN_PASSWORD: ADMIN.password,
        FASTGSHARE_TENANT_HASH_ROUNDS: '4',
        FASTGSHARE_AUTOSCALE: 'false',
        FASTGSHARE_METERING: 'false',
      },
    });
    for (const [t, ns] of [
      [alice, 'ns-a'],
      [bob, 'ns-b'],
    ] as const)
      expect(
        (await as(ADMIN, 'POST', '/system/tenants', { name: t.user, namespaces: [ns], password: t.password })).status,
      ).to.equal(201);
    expect((await as(alice, 'POST', '/system/functions', deployment('alice-fn'))).status).to.equal(202);
  });
  after(async () => {
    await h?.close();
  });

  it("remove -n: the query's namespace is scoped like the body's", async () => {
    const stolen = await as(bob, 'DELETE', '/system/functions?namespace=ns-a', { functionName: 'alice-fn' });
    expect(stolen.status).to.equal(403);
    expect(stolen.text).to.contain('may only use its own namespaces');
    expect((await as(ADMIN, 'GET', '/system/function/alice-fn?namespace=ns-a')).status).to.equal(200);
    expect(
      (await as(alice, 'DELETE', '/system/functions?namespace=ns-a', { functionName: 'alice-fn' })).status,
    ).to.equal(200);
    expect((await as(ADMIN, 'GET', '/system/function/alice-fn?namespace=ns-a')).status).to.equal(404);
  });

  it("namespace update is the admin's, like create, get and remove; an unknown namespace is scoped before it is looked up", async () => {
    expect(
      (await as(bob, 'PUT', '/system/namespace/ns-b', { name: 'ns-b', labels: { openfaas: '1' } })).status,
    ).to.equal(403);
    expect((await as(alice, 'PUT', '/system/namespace/ns-b', { name: 'ns-b', labels: {} })).status).to.equal(403);
    expect((await h.call('PUT', '/system/namespace/ns-b', { body: { name: 'ns-b', labels: {} } })).status).to.equal(
      401,
    );
    const r = await as(ADMIN, 'PUT', '/system/namespace/ns-b', {
      name: 'ns-b',
      labels: { openfaas: '1', team: 'b' },
      annotations: { openfaas: '1' },
    });
    expect(r.status).to.equal(202);
    // the tenant record of the namespace stays
    expect((await as(ADMIN, 'GET', '/system/namespace/ns-b')).json()).to.deep.equal({
      name: 'ns-b',
      labels: { openfaas: '1', team: 'b' },
      annotations: { openfaas: '1', 'fastgshare/tenant': 'bob' },
    });
    // a tenant learns nothing about namespaces that are not its own, existing or not
    expect((await as(alice, 'GET', '/system/functions?namespace=no-such-ns')).status).to.equal(403);
    expect((await as(alice, 'GET', '/system/secrets?namespace=ns-b')).status).to.equal(403);
    expect((await as(ADMIN, 'GET', '/system/functions?namespace=no-such-ns')).status).to.equal(400);
  });
});
