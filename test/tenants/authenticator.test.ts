/**
 * The authenticator on a real store with a counting password hasher (real bcrypt on worker
 * threads): every rejection costs exactly one hash check whoever is named; failures are throttled
 * per user and per source with backoff, a success clears it; API keys open invocations only; the
 * internal credential speaks for the caller a job was accepted as.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../core/clock.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { createNamespaces } from '../../gateway/control/namespaces.ts';
import { createTenantStore, type TenantStore } from '../../gateway/tenants/tenant-store.ts';
import { createApiKeyStore, type ApiKeyStore } from '../../gateway/tenants/api-keys.ts';
import { createPasswordHasher, type PasswordHasher } from '../../gateway/tenants/password-hasher.ts';
import { createLoginThrottle } from '../../gateway/tenants/login-throttle.ts';
import { createInternalCredential } from '../../gateway/tenants/internal-credential.ts';
import {
  createAuthenticator,
  sourceOf,
  type Authenticator,
  type AuthOutcome,
} from '../../gateway/tenants/system-auth.ts';
import { INTERNAL_AUTH_HEADER, ON_BEHALF_HEADER } from '../../gateway/proxy/headers.ts';

const basic = (user: string, pass: string) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const ADMIN = { user: 'root', password: 'admin-password-1' };

describe('authenticator: equal-cost rejections, throttling, API keys, internal credential', function () {
  this.timeout(30_000);
  let ts: TestStore;
  let real: PasswordHasher;
  let clock: ManualClock;
  let tenants: TenantStore;
  let keys: ApiKeyStore;
  let auth: Authenticator;
  const internal = createInternalCredential();
  const checks = { verify: 0, dummy: 0 };
  const counted = (): PasswordHasher => ({
    hash: (p) => real.hash(p),
    verify: (p, h) => (checks.verify++, real.verify(p, h)),
    verifyDummy: (p) => (checks.dummy++, real.verifyDummy(p)),
    close: () => real.close(),
  });
  const total = () => checks.verify + checks.dummy;
  let alicePassword = '';

  before(async () => {
    ts = await startTestStore();
    real = createPasswordHasher({ rounds: 4, threads: 1 });
    clock = new ManualClock(5_000_000);
    const hasher = counted();
    keys = createApiKeyStore({ models: ts.store.models, clock });
    tenants = createTenantStore({
      models: ts.store.models,
      namespaces: createNamespaces(ts.store.models),
      clock,
      hasher,
      keys,
      cacheTtlMs: 0,
    });
    alicePassword = (await tenants.create({ name: 'alice' })).password;
    await tenants.create({ name: 'bob', password: 'bob-password-123' });
    auth = createAuthenticator({
      admin: ADMIN,
      tenants,
      keys,
      hasher,
      throttle: createLoginThrottle({ freeFailures: 3, backoffMs: 2000, backoffMaxMs: 60_000, clock }),
      internal,
    });
  });
  after(async () => {
    await real?.close();
    await ts?.cleanup();
  });

  const sys = (authorization: string | undefined, source = '10.0.0.1') => auth.system({ authorization, source });
  const kind = (o: AuthOutcome) => o.kind;

  it('stores passwords only as bcrypt hashes (made by the password hasher)', async () => {
    const doc = await ts.store.models.Tenant.findOne({ name: 'alice' }).lean();
    expect(doc?.passwordHash).to.match(/^\$2[aby]\$04\$/);
    expect(JSON.stringify(doc)).not.to.contain(alicePassword);
  });

  it('every rejection does exactly one hash check: unknown user, tenant with a wrong password, the admin name with a wrong password', async () => {
    const cases: Array<[string, string, 'verify' | 'dummy']> = [
      ['nobody', 'some-password-1', 'dummy'],
      ['Not.A.Tenant', 'some-password-1', 'dummy'],
      ['alice', 'wrong-password-1', 'verify'],
      [ADMIN.user, 'wrong-password-1', 'dummy'],
    ];
    for (const [user, pw, which] of cases) {
      const before = { ...checks };
      const o = await sys(basic(user, pw), `10.9.0.${cases.findIndex((c) => c[0] === user)}`);
      expect(o, user).to.deep.include({ kind: 'rejected' });
      expect(total() - (before.verify + before.dummy), `${user}: one check`).to.equal(1);
      expect(checks[which] - before[which], `${user}: ${which}`).to.equal(1);
      if (o.kind === 'rejected')
        expect(o.message, 'the same answer whoever was named').to.contain('wrong user name or password');
    }
  });

  it('accepts the admin without a hash check and tenants with one', async () => {
    const n = total();
    expect(await sys(basic(ADMIN.user, ADMIN.password), '10.8.0.1')).to.deep.equal({
      kind: 'ok',
      principal: { kind: 'admin' },
    });
    expect(total()).to.equal(n);
    const o = await sys(basic('alice', alicePassword), '10.8.0.2');
    expect(o).to.deep.equal({ kind: 'ok', principal: { kind: 'tenant', name: 'alice', namespaces: ['alice'] } });
    expect(total()).to.equal(n + 1);
    expect(kind(await sys(undefined))).to.equal('anonymous');
    expect(kind(await sys('Bearer'))).to.equal('anonymous');
  });

  it('throttles after the free failures (429 with a retry time), without hashing; other users and sources go on', async () => {
    const src = '192.0.2.10';
    for (let i = 0; i < 3; i++) expect(kind(await sys(basic('bob', `guess-number-${i}`), src))).to.equal('rejected');
    const n = total();
    const t = await sys(basic('bob', 'bob-password-123'), src);
    expect(t).to.deep.equal({ kind: 'throttled', retryAfterSeconds: 2 });
    expect(total(), 'no hash check while throttled').to.equal(n);
    expect(
      kind(await sys(basic('bob', 'bob-password-123'), '192.0.2.99')),
      'the same user from another source',
    ).to.equal('throttled');
    expect(kind(await sys(basic('alice', 'wrong-password-x'), src)), 'another user from the same source').to.equal(
      'throttled',
    );
    expect(kind(await sys(basic('alice', alicePassword), '192.0.2.50')), 'another user from another source').to.equal(
      'ok',
    );
    // after the wait one more failure doubles it; a success clears both
    clock.advance(2000);
    expect(kind(await sys(basic('bob', 'still-wrong-pw'), src))).to.equal('rejected');
    expect(await sys(basic('bob', 'bob-password-123'), src)).to.deep.equal({ kind: 'throttled', retryAfterSeconds: 4 });
    clock.advance(4000);
    expect(kind(await sys(basic('bob', 'bob-password-123'), src))).to.equal('ok');
    expect(kind(await sys(basic('bob', 'wrong-again-1'), src))).to.equal('rejected');
    expect(kind(await sys(basic('bob', 'bob-password-123'), src)), 'counting started again after the success').to.equal(
      'ok',
    );
  });

  it('API keys: invoke only, never /system; stored as SHA-256 of the secret; a revoked key stops at once', async () => {
    const k = await keys.create('alice', 'ci');
    expect(k.key).to.match(/^fgk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const doc = await ts.store.models.TenantKey.findOne({ keyId: k.id }).lean();
    const secret = k.key.slice(21);
    expect(doc?.secretHash).to.equal(createHash('sha256').update(secret).digest('hex'));
    expect(JSON.stringify(doc)).not.to.contain(secret);
    const n = total();
    expect(await auth.invoke({ authorization: `Bearer ${k.key}`, source: '10.7.0.1' })).to.deep.equal({
      kind: 'ok',
      principal: { kind: 'tenant', name: 'alice', namespaces: ['alice'] },
    });
    expect(total(), 'a key costs no password check').to.equal(n);
    expect(kind(await auth.system({ authorization: `Bearer ${k.key}`, source: '10.7.0.1' }))).to.equal('rejected');
    // the old "Bearer tenant.password" form is gone: a password is not a key
    expect(kind(await auth.invoke({ authorization: `Bearer alice.${alicePassword}`, source: '10.7.0.2' }))).to.equal(
      'rejected',
    );
    expect(kind(await auth.system({ authorization: `Bearer alice.${alicePassword}`, source: '10.7.0.2' }))).to.equal(
      'rejected',
    );
    // a tampered secret, an unknown id
    const tampered = k.key.slice(0, -1) + (k.key.endsWith('A') ? 'B' : 'A');
    expect(kind(await auth.invoke({ authorization: `Bearer ${tampered}`, source: '10.7.0.3' }))).to.equal('rejected');
    expect(
      kind(await auth.invoke({ authorization: `Bearer fgk_0000000000000000_${secret}`, source: '10.7.0.3' })),
    ).to.equal('rejected');
    await keys.revoke('alice', k.id);
    expect(kind(await auth.invoke({ authorization: `Bearer ${k.key}`, source: '10.7.0.4' }))).to.equal('rejected');
  });

  it('bad keys from one source are throttled too', async () => {
    const src = '10.6.0.1';
    for (let i = 0; i < 3; i++)
      expect(
        kind(await auth.invoke({ authorization: `Bearer fgk_${'1'.repeat(16)}_${'x'.repeat(43)}`, source: src })),
      ).to.equal('rejected');
    expect(kind(await auth.invoke({ authorization: 'Bearer anything', source: src }))).to.equal('throttled');
  });

  it('a revoked key of a removed tenant does not come back when the name is reused', async () => {
    const t = await tenants.create({ name: 'carol' });
    const k = await keys.create('carol');
    expect(t.password).to.be.a('string');
    await tenants.remove('carol');
    expect(await ts.store.models.TenantKey.countDocuments({ tenant: 'carol' })).to.equal(0);
    await tenants.create({ name: 'carol' });
    expect(kind(await auth.invoke({ authorization: `Bearer ${k.key}`, source: '10.5.0.1' }))).to.equal('rejected');
  });

  it('the internal credential speaks for the caller stored with a job, as that caller is now', async () => {
    const h = internal.headers({ kind: 'tenant', name: 'alice' });
    const as = (headers: Record<string, string>) =>
      auth.invoke({
        authorization: undefined,
        source: '127.0.0.1',
        internal: headers[INTERNAL_AUTH_HEADER],
        onBehalfOf: headers[ON_BEHALF_HEADER],
      });
    expect(await as(h)).to.deep.equal({
      kind: 'ok',
      principal: { kind: 'tenant', name: 'alice', namespaces: ['alice'] },
    });
    expect(await as(internal.headers({ kind: 'admin' }))).to.deep.equal({ kind: 'ok', principal: { kind: 'admin' } });
    expect(kind(await as(internal.headers({ kind: 'anonymous' })))).to.equal('anonymous');
    expect(kind(await as({ ...h, [INTERNAL_AUTH_HEADER]: 'forged' }))).to.equal('rejected');
    expect(
      kind(await as(createInternalCredential().headers({ kind: 'admin' }))),
      "another process's credential",
    ).to.equal('rejected');
    expect(kind(await as(internal.headers({ kind: 'tenant', name: 'ghost' }))), 'a tenant removed since').to.equal(
      'anonymous',
    );
  });

  it('throttles by the socket address, IPv6 by its /64', () => {
    expect(sourceOf('::ffff:192.0.2.1')).to.equal('192.0.2.1');
    expect(sourceOf('192.0.2.1')).to.equal('192.0.2.1');
    expect(sourceOf('2001:db8:1:2:aaaa::1')).to.equal('2001:db8:1:2::/64');
    expect(sourceOf('2001:db8:1:2:ffff:ffff:ffff:ffff')).to.equal('2001:db8:1:2::/64');
    expect(sourceOf('::1')).to.equal('0:0:0:0::/64');
    expect(sourceOf(undefined)).to.equal('unknown');
  });
});
