/**
 * Credentials stay with the platform, against a real gateway, node agent, store and Redis:
 * the echo replica (which answers with the headers it got) never sees a caller's credentials or
 * the gateway's internal ones; tenants' invoke-only API keys (create, list, revoke; never
 * /system); async calls keep nothing secret in Redis and still run with the submitter's
 * authority; failed logins are answered 429 with Retry-After after the free failures.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { IssuedApiKey, IssuedCredentials } from '../../core/contracts/tenants.ts';
import { asyncKeys } from '../../gateway/async/keys.ts';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';
import { startCallbackServer, type CallbackServer } from '../gateway/async/callback-server.ts';
import { REDIS_URL, deleteQueueKeys, uniquePrefix } from '../gateway/async/redis-keys.ts';

const ADMIN = { user: 'admin', password: 'admin-password-1' };
const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const adminAuth = basic(ADMIN.user, ADMIN.password);

/** Every key under the queue's prefix with its whole value, whatever its type. */
async function dumpQueue(prefix: string): Promise<Map<string, string>> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const out = new Map<string, string>();
  try {
    let cursor = '0';
    do {
      const [next, found] = await r.scan(
        cursor,
        'MATCH',
        asyncKeys({ prefix, queue: 'async-invocations' }).pattern(),
        'COUNT',
        500,
      );
      cursor = next;
      for (const k of found) {
        const type = await r.type(k);
        const value =
          type === 'string'
            ? await r.get(k)
            : type === 'hash'
              ? await r.hgetall(k)
              : type === 'list'
                ? await r.lrange(k, 0, -1)
                : type === 'set'
                  ? await r.smembers(k)
                  : type === 'zset'
                    ? await r.zrange(k, 0, -1)
                    : type === 'stream'
                      ? await r.xrange(k, '-', '+')
                      : `(${type})`;
        // plain text (hash fields as field=value), so a stored JSON document reads as written
        out.set(
          k,
          value && typeof value === 'object' && !Array.isArray(value)
            ? Object.entries(value)
                .map(([f, v]) => `${f}=${v}`)
                .join('\n')
            : Array.isArray(value)
              ? value.flat(3).join('\n')
              : String(value),
        );
      }
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return out;
}

describe('tenants: credentials stay with the platform', function () {
  this.timeout(60_000);
  const prefix = uniquePrefix('creds');
  let h: GatewayHarness;
  let cb: CallbackServer;
  let acme: IssuedCredentials;
  let acmeAuth: string;
  let globexAuth: string;
  let acmeKey: IssuedApiKey;

  const as = (
    auth: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    h.call(method, path, {
      body,
      headers: {
        ...(auth ? { authorization: auth } : {}),
        ...(body === undefined || typeof body === 'string' ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
    });

  before(async () => {
    cb = await startCallbackServer();
    h = await startGatewayHarness({
      env: {
        FASTGSHARE_ADMIN_USER: ADMIN.user,
        FASTGSHARE_ADMIN_PASSWORD: ADMIN.password,
        FASTGSHARE_TENANT_HASH_ROUNDS: '4',
        FASTGSHARE_LOGIN_FREE_FAILURES: '3',
        FASTGSHARE_LOGIN_BACKOFF_MS: '1000',
        REDIS_URL,
        FASTGSHARE_ASYNC_PREFIX: prefix,
        FASTGSHARE_CALLBACK_ALLOW: '127.0.0.1/32',
      },
    });
    acme = (await as(adminAuth, 'POST', '/system/tenants', { name: 'acme' })).json();
    acmeAuth = basic('acme', acme.password);
    expect(
      (await as(adminAuth, 'POST', '/system/tenants', { name: 'globex', password: 'globex-secret-pw' })).status,
    ).to.equal(201);
    globexAuth = basic('globex', 'globex-secret-pw');
    for (const [service, annotations] of [
      ['echo', { 'fastgshare/invoke_auth': 'tenant' }],
      ['open', {}],
    ] as const) {
      const r = await as(acmeAuth, 'POST', '/system/functions', { service, image: 'echo:latest', annotations });
      expect(r.status, r.text).to.equal(202);
    }
    await h.eventually(
      async () => expect((await as(acmeAuth, 'POST', '/function/open.acme', 'x')).status).to.equal(200),
      20_000,
    );
    await h.eventually(
      async () => expect((await as(acmeAuth, 'POST', '/function/echo.acme', 'x')).status).to.equal(200),
      20_000,
    );
  });
  after(async () => {
    await h?.close();
    await cb?.close();
    await deleteQueueKeys(prefix);
  });

  it("API keys: a tenant creates its own (shown once), lists them without the key, and the admin manages any tenant's", async () => {
    const r = await as(acmeAuth, 'POST', '/system/tenant/keys', { name: 'ci' });
    expect(r.status, r.text).to.equal(201);
    expect(r.headers.get('cache-control')).to.equal('no-store');
    acmeKey = r.json();
    expect(acmeKey).to.include({ tenant: 'acme', name: 'ci' });
    expect(acmeKey.key).to.match(new RegExp(`^fgk_${acmeKey.id}_[A-Za-z0-9_-]{43}$`));
    const byAdmin = await as(adminAuth, 'POST', '/system/tenants/acme/keys', {});
    expect(byAdmin.status, byAdmin.text).to.equal(201);
    const list = await as(acmeAuth, 'GET', '/system/tenant/keys');
    expect(list.json().map((k: { id: string }) => k.id)).to.deep.equal([acmeKey.id, byAdmin.json().id]);
    expect(list.text).not.to.contain(acmeKey.key.slice(21)).and.not.to.contain('secretHash');
    expect((await as(adminAuth, 'GET', '/system/tenants/acme/keys')).json()).to.deep.equal(list.json());
    expect((await as(globexAuth, 'GET', '/system/tenant/keys')).json(), "globex sees none of acme's").to.deep.equal([]);
    // the admin revokes the second one
    expect((await as(adminAuth, 'DELETE', `/system/tenants/acme/keys/${byAdmin.json().id}`)).status).to.equal(200);
    expect(h.sink.lines().join('\n')).not.to.contain(acmeKey.key.slice(21));
  });

  it('API keys: bad requests and attacks are refused', async () => {
    expect((await as(acmeAuth, 'POST', '/system/tenant/keys', { name: 'has space' })).status).to.equal(400);
    expect(
      (await as(acmeAuth, 'POST', '/system/tenant/keys', { tenant: 'globex' })).status,
      'no field names another tenant',
    ).to.equal(400);
    expect(
      (await as(adminAuth, 'POST', '/system/tenant/keys', {})).status,
      'the admin has no keys of its own',
    ).to.equal(400);
    expect(
      (await as(globexAuth, 'POST', '/system/tenants/acme/keys', {})).status,
      "a tenant cannot make another's keys",
    ).to.equal(403);
    expect((await as(globexAuth, 'GET', '/system/tenants/acme/keys')).status).to.equal(403);
    expect(
      (await as(globexAuth, 'DELETE', `/system/tenant/keys/${acmeKey.id}`)).status,
      "nor revoke another's",
    ).to.equal(404);
    expect((await as(acmeAuth, 'DELETE', '/system/tenant/keys/not-an-id')).status).to.equal(400);
    expect((await as(adminAuth, 'POST', '/system/tenants/nobody/keys', {})).status).to.equal(404);
    // a key opens no /system route, not even the tenant's own
    expect((await as(`Bearer ${acmeKey.key}`, 'GET', '/system/functions')).status).to.equal(401);
    expect((await as(`Bearer ${acmeKey.key}`, 'POST', '/system/tenant/keys', {})).status).to.equal(401);
    const doc = await h.testStore.store.models.TenantKey.findOne({ keyId: acmeKey.id }).lean();
    expect(JSON.stringify(doc)).not.to.contain(acmeKey.key.slice(21));
  });

  it('invocation credentials are consumed by the gateway: the replica sees no Authorization and no internal header', async () => {
    const calls: Array<[string, string | undefined, Record<string, string>]> = [
      ['/function/echo.acme', acmeAuth, {}],
      ['/function/echo.acme', `Bearer ${acmeKey.key}`, {}],
      ['/function/echo.acme', adminAuth, {}],
      ['/function/open.acme', acmeAuth, {}],
      ['/function/open.acme', `Bearer ${acmeKey.key}`, {}],
      [
        '/function/open.acme',
        'Bearer some-token-a-caller-sends',
        {
          'x-fastgshare-internal-auth': 'forged',
          'x-fastgshare-on-behalf-of': 'admin',
          'proxy-authorization': 'Basic eDp5',
        },
      ],
    ];
    for (const [path, auth, extra] of calls) {
      const r = await as(auth, 'POST', path, 'hello', extra);
      expect(r.status, `${path} ${auth}`).to.equal(200);
      const seen = r.json().headers as Record<string, string>;
      expect(seen, `${path} ${auth}`).not.to.have.any.keys(
        'authorization',
        'proxy-authorization',
        'x-fastgshare-internal-auth',
        'x-fastgshare-on-behalf-of',
      );
      expect(JSON.stringify(r.json()), 'nothing of the credential anywhere')
        .not.to.contain(acme.password)
        .and.not.to.contain(acmeKey.key.slice(21));
      expect(seen['x-call-id'], 'the end-to-end headers still arrive').to.be.a('string');
    }
  });

  it("keys reach only their tenant's functions; forged internal headers buy nothing", async () => {
    const globexKey: IssuedApiKey = (await as(globexAuth, 'POST', '/system/tenant/keys', {})).json();
    expect((await as(`Bearer ${globexKey.key}`, 'POST', '/function/echo.acme', 'x')).status).to.equal(403);
    expect(
      (
        await as(undefined, 'POST', '/function/echo.acme', 'x', {
          'x-fastgshare-internal-auth': 'forged',
          'x-fastgshare-on-behalf-of': 'tenant:acme',
        })
      ).status,
    ).to.equal(401);
    expect(
      (await as(undefined, 'POST', '/function/echo.acme', 'x', { 'x-fastgshare-on-behalf-of': 'admin' })).status,
    ).to.equal(401);
    // a revoked key stops at once
    expect((await as(globexAuth, 'DELETE', `/system/tenant/keys/${globexKey.id}`)).status).to.equal(200);
    expect(
      (await as(`Bearer ${globexKey.key}`, 'POST', '/function/open.acme', 'x')).status,
      'a public function ignores credentials',
    ).to.equal(200);
    expect((await as(`Bearer ${globexKey.key}`, 'POST', '/async-function/echo.acme', 'x')).status).to.equal(401);
    // a correct login clears the failures these made from this address
    expect((await as(adminAuth, 'GET', '/system/info')).status).to.equal(200);
  });

  it('async: authenticated at submission, run with that authority, and nothing secret left in Redis', async () => {
    const submitted: string[] = [];
    for (const auth of [acmeAuth, `Bearer ${acmeKey.key}`]) {
      const r = await as(auth, 'POST', '/async-function/echo.acme/p?q=1', 'async body', {
        'X-Callback-Url': cb.url,
        'X-Custom': 'kept',
      });
      expect(r.status, r.text).to.equal(202);
      submitted.push(r.headers.get('x-call-id')!);
    }
    expect(
      (await as(undefined, 'POST', '/async-function/echo.acme', 'x', { 'X-Callback-Url': cb.url })).status,
      'no credentials: refused at submission',
    ).to.equal(401);
    for (const id of submitted) {
      const [got] = await h.eventually(async () => {
        const c = cb.forCall(id);
        expect(c).to.have.length(1);
        return c;
      }, 20_000);
      expect(got!.headers['x-function-status'], "the tenant-only function ran with the submitter's authority").to.equal(
        '200',
      );
      const echoed = JSON.parse(got!.body);
      expect(echoed.headers).to.include({ 'x-custom': 'kept' });
      expect(echoed.headers).not.to.have.any.keys(
        'authorization',
        'x-fastgshare-internal-auth',
        'x-fastgshare-on-behalf-of',
      );
    }
    const dump = await dumpQueue(prefix);
    const all = [...dump.entries()].map(([k, v]) => `${k} ${v}`).join('\n');
    // the job is there (so this reads what was stored) and names the tenant, not its credentials
    expect(all).to.contain(submitted[0]!).and.to.contain('"caller":{"kind":"tenant","name":"acme"}');
    for (const secret of [acme.password, acmeAuth.slice(6), acmeKey.key, acmeKey.key.slice(21)])
      expect(all, 'a credential in Redis').not.to.contain(secret);
    expect(all.toLowerCase()).not.to.contain('authorization');
  });

  it('throttles failed logins from one address: 429 with Retry-After, no answer on the password until then; a success clears it', async () => {
    expect((await as(adminAuth, 'GET', '/system/info')).status).to.equal(200); // clears this address
    for (let i = 0; i < 3; i++)
      expect((await as(basic('acme', `guess-${i}-password`), 'GET', '/system/functions')).status).to.equal(401);
    const t = await as(acmeAuth, 'GET', '/system/functions');
    expect(t.status, 'even the right password waits').to.equal(429);
    expect(t.headers.get('retry-after')).to.equal('1');
    expect(t.headers.get('x-fastgshare-error')).to.equal('too_many_requests');
    expect(t.text).to.contain('retry in 1 s');
    expect(
      (await as(basic('nobody', 'whatever-pw-1'), 'GET', '/system/functions')).status,
      'the whole address waits',
    ).to.equal(429);
    expect((await as(acmeAuth, 'POST', '/function/echo.acme', 'x')).status, 'invocations with a password too').to.equal(
      429,
    );
    // once the wait is over the right password works again, and clears the record
    await h.eventually(
      async () => expect((await as(acmeAuth, 'GET', '/system/functions')).status).to.equal(200),
      5_000,
    );
    expect((await as(basic('acme', 'one-more-wrong'), 'GET', '/system/functions')).status).to.equal(401);
    expect((await as(acmeAuth, 'GET', '/system/functions')).status).to.equal(200);
  });
});
