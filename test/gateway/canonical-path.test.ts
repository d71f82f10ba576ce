/**
 * One canonical path, against a real gateway with auth on (embedded store, node agent, echo
 * replicas): every route the gateway's routers define (read from the routers themselves) ×
 * spellings of its path (canonical, upper case, mixed case, percent-encoded letters, trailing
 * '/', '//', '.', double encoding, `name.namespace` in the path, the other tenant's
 * `?namespace=`) × {admin, owner alice (ns-a), other tenant bob (ns-b), anonymous}. Bob aims
 * every request at alice's functions, secrets, namespace and tenant record. Then the same for
 * the invocation routes, error messages without server paths, and the data unchanged after all.
 */
import { expect } from 'chai';
import http from 'node:http';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { startGatewayHarness, type GatewayHarness } from './harness.ts';
import { TENANT_ROUTES } from '../../gateway/tenants/scope.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN = { user: 'admin', password: 'admin-password-1' };
const ALICE = { user: 'alice', password: 'alice-password-1' };
const BOB = { user: 'bob', password: 'bob-password-1' };
const ENV_MARKER = 'alice-env-marker-7f3a';
const SECRET_VALUE = 'alice-secret-value-91c2';
const basic = (u: { user: string; password: string }) =>
  'Basic ' + Buffer.from(`${u.user}:${u.password}`).toString('base64');

type Who = 'admin' | 'alice' | 'bob' | 'anonymous';
const AUTH: Record<Who, string | undefined> = {
  admin: basic(ADMIN),
  alice: basic(ALICE),
  bob: basic(BOB),
  anonymous: undefined,
};
const WHO: Who[] = ['admin', 'alice', 'bob', 'anonymous'];

interface Route {
  method: string;
  /** The router's pattern, e.g. /system/function/:name */
  pattern: string;
}

/** Every route of the routers in gateway/routes/ and the explain route, read from their stacks. */
async function discoverRoutes(): Promise<Route[]> {
  // deps are only captured by the route handlers, never called while the routers are built
  const stub: unknown = new Proxy(function () {}, {
    get: (_t, k) => (k === 'then' ? undefined : stub),
    apply: () => stub,
  });
  const files = readdirSync(join(ROOT, 'gateway', 'routes'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(ROOT, 'gateway', 'routes', f))
    .concat(join(ROOT, 'gateway', 'autoscale', 'explain-route.ts'));
  const out: Route[] = [];
  for (const f of files) {
    const mod = (await import(f)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(mod)) {
      if (!/^create\w*Routes?$/.test(k) || typeof v !== 'function') continue;
      const router = (v as (...a: unknown[]) => Router)(stub, stub);
      for (const layer of (
        router as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> }
      ).stack) {
        if (!layer.route) continue;
        for (const m of Object.keys(layer.route.methods))
          if (m !== '_all') out.push({ method: m.toUpperCase(), pattern: layer.route.path });
      }
    }
  }
  return out;
}

/** What each request aims at: alice's things, with a hostile body where the route takes one. */
function target(r: Route): { path: string; query: string; body?: Record<string, unknown> } {
  const name = r.pattern.startsWith('/system/namespace/')
    ? 'ns-a'
    : r.pattern.startsWith('/system/tenants/')
      ? 'alice'
      : 'alice-fn';
  const path = r.pattern.replace(':name', name);
  const key = `${r.method} ${r.pattern}`;
  const q = (s: string) => s;
  switch (key) {
    case 'GET /system/functions':
    case 'GET /system/function/:name':
    case 'GET /system/secrets':
    case 'GET /system/explain/:name':
      return { path, query: q('namespace=ns-a') };
    case 'POST /system/functions':
      return {
        path,
        query: '',
        body: { service: 'alice-fn', image: 'echo:latest', namespace: 'ns-a', envVars: { PWNED: '1' } },
      };
    case 'PUT /system/functions':
      return {
        path,
        query: '',
        body: { service: 'alice-fn', image: 'echo:latest', namespace: 'ns-a', envVars: { PWNED: '1' } },
      };
    case 'DELETE /system/functions':
      return { path, query: '', body: { functionName: 'alice-fn', namespace: 'ns-a' } };
    case 'POST /system/scale-function/:name':
      return { path, query: q('namespace=ns-a'), body: { serviceName: 'alice-fn', replicas: 3, namespace: 'ns-a' } };
    case 'POST /system/secrets':
      return { path, query: '', body: { name: 'planted', value: 'x', namespace: 'ns-a' } };
    case 'PUT /system/secrets':
      return { path, query: '', body: { name: 'alice-secret', value: 'overwritten', namespace: 'ns-a' } };
    case 'DELETE /system/secrets':
      return { path, query: '', body: { name: 'alice-secret', namespace: 'ns-a' } };
    case 'GET /system/logs':
      return { path, query: q('name=alice-fn&namespace=ns-a') };
    case 'POST /system/namespace':
      return { path, query: '', body: { name: 'ns-evil' } };
    case 'POST /system/tenants':
      return { path, query: '', body: { name: 'evil', namespaces: ['ns-a'] } };
    case 'PUT /system/tenants/:name/limits':
      return { path, query: '', body: { maxReplicas: 1000 } };
    case 'GET /system/cost':
    case 'GET /system/cost/report':
      return { path, query: '' };
    default:
      // routes added later: aimed at alice by their path alone, with her namespace in the query
      return {
        path,
        query:
          r.pattern.includes(':name') &&
          !r.pattern.startsWith('/system/tenants') &&
          !r.pattern.startsWith('/system/namespace')
            ? q('namespace=ns-a')
            : '',
        body: r.method === 'GET' || r.method === 'HEAD' ? undefined : {},
      };
  }
}

type Kind = 'same' | 'case' | 'malformed' | 'unrouted' | 'qualified' | 'other-ns';
interface Variant {
  label: string;
  kind: Kind;
  url: string;
}

const encodeFirstLetter = (seg: string) =>
  seg && /^[a-z]/.test(seg) ? '%' + seg.charCodeAt(0).toString(16) + seg.slice(1) : seg;
const capitalize = (seg: string) => seg.replace(/(^|-)([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase());

/** The spellings of one route's path (and its query). */
function variants(r: Route, t: { path: string; query: string }): Variant[] {
  const qs = t.query ? `?${t.query}` : '';
  const segs = t.path.split('/');
  const last = segs.length - 1;
  const v: Variant[] = [
    { label: 'canonical', kind: 'same', url: t.path + qs },
    { label: 'percent-encoded letters', kind: 'same', url: segs.map(encodeFirstLetter).join('/') + qs },
    {
      label: 'encoded first segment',
      kind: 'same',
      url: '/' + encodeFirstLetter(segs[1]!) + '/' + segs.slice(2).join('/') + qs,
    },
    { label: 'trailing slash', kind: 'same', url: t.path + '/' + qs },
    { label: 'upper case', kind: 'case', url: t.path.toUpperCase() + qs },
    { label: 'mixed case', kind: 'case', url: segs.map(capitalize).join('/') + qs },
    {
      label: 'last word upper',
      kind: 'case',
      url: segs.map((s, i) => (i === last ? s.toUpperCase() : s)).join('/') + qs,
    },
    {
      label: 'encoded upper case',
      kind: 'case',
      url: '/%' + (segs[1]!.charCodeAt(0) - 32).toString(16) + segs[1]!.slice(1) + '/' + segs.slice(2).join('/') + qs,
    },
    { label: 'double slash', kind: 'malformed', url: '/' + segs[1] + '//' + segs.slice(2).join('/') + qs },
    { label: 'leading double slash', kind: 'malformed', url: '/' + t.path + qs },
    { label: 'dot segment', kind: 'malformed', url: '/' + segs[1] + '/./' + segs.slice(2).join('/') + qs },
    { label: 'encoded dot-dot', kind: 'malformed', url: '/' + segs[1] + '/x/%2e%2e/' + segs.slice(2).join('/') + qs },
    { label: 'bad percent-encoding', kind: 'malformed', url: '/' + segs[1] + '/%zz' + segs.slice(2).join('/') + qs },
    {
      label: 'double-encoded',
      kind: 'unrouted',
      url: '/%25' + segs[1]!.charCodeAt(0).toString(16) + segs[1]!.slice(1) + '/' + segs.slice(2).join('/') + qs,
    },
  ];
  if (r.pattern.includes(':name')) {
    const qualified =
      r.pattern.startsWith('/system/namespace/') || r.pattern.startsWith('/system/tenants/')
        ? t.path.replace(/\/(ns-a|alice)(\/|$)/, '/$1.ns-a$2')
        : t.path.replace('/alice-fn', '/alice-fn.ns-a');
    v.push({ label: 'name.namespace', kind: 'qualified', url: qualified });
    v.push({
      label: 'name.namespace, other namespace in query',
      kind: 'qualified',
      url: qualified + '?namespace=ns-b',
    });
  }
  if (t.query.includes('namespace=ns-a'))
    v.push({ label: 'namespace given twice', kind: 'other-ns', url: t.path + '?' + t.query + '&namespace=ns-b' });
  return v;
}

interface Raw {
  status: number;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** A request with the path exactly as written (fetch would normalise it). */
function raw(base: string, method: string, path: string, auth: string | undefined, body?: unknown): Promise<Raw> {
  const u = new URL(base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        agent,
        headers: {
          ...(auth ? { authorization: auth } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs `jobs` with at most `n` at once. */
async function pool<T>(jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

const isSelfRoute = (pattern: string) => pattern === '/system/tenant' || pattern.startsWith('/system/tenant/');
const isTenantRoute = (method: string, path: string) =>
  TENANT_ROUTES.some((x) => x.method === method && x.path.test(path));
const ALICE_MARKERS = ['alice-fn', 'alice-secret', ENV_MARKER, SECRET_VALUE, ALICE.password, '"ns-a"'];

describe('gateway: one canonical path for routing, auth and the tenant scope', function () {
  this.timeout(180_000);
  let h: GatewayHarness;
  let routes: Route[];
  const call = (who: Who, method: string, path: string, body?: unknown) =>
    raw(h.gateway.url, method, path, AUTH[who], body);

  /** Alice's and everyone's durable state, without fields that move by themselves. */
  const snapshot = async () => {
    const m = h.testStore.store.models;
    const clean = (docs: Array<Record<string, unknown>>) =>
      JSON.stringify(
        docs
          .map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !/At$|^invocationCount$|^__v$/.test(k))))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      );
    return {
      functions: clean(await m.Function.find({ namespace: { $in: ['ns-a', 'openfaas-fn'] } }).lean()),
      secrets: clean(await m.Secret.find({ namespace: { $in: ['ns-a', 'openfaas-fn'] } }).lean()),
      namespaces: clean(await m.Namespace.find({}).lean()),
      alice: clean(await m.Tenant.find({ name: 'alice' }).lean()),
      tenants: (await m.Tenant.find({}).lean()).map((t) => t.name).sort(),
    };
  };

  before(async () => {
    routes = await discoverRoutes();
    h = await startGatewayHarness({
      env: {
        FASTGSHARE_ADMIN_USER: ADMIN.user,
        FASTGSHARE_ADMIN_PASSWORD: ADMIN.password,
        FASTGSHARE_TENANT_HASH_ROUNDS: '4',
        FASTGSHARE_AUTOSCALE: 'false',
        FASTGSHARE_METERING: 'false',
      },
    });
    const as = (who: Who, method: string, path: string, body?: unknown) =>
      h.call(method, path, {
        body,
        headers: { authorization: AUTH[who]!, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      });
    for (const [t, ns] of [
      [ALICE, 'ns-a'],
      [BOB, 'ns-b'],
    ] as const) {
      const r = await as('admin', 'POST', '/system/tenants', { name: t.user, namespaces: [ns], password: t.password });
      expect(r.status, r.text).to.equal(201);
    }
    const d1 = await as('alice', 'POST', '/system/functions', {
      service: 'alice-fn',
      image: 'echo:latest',
      envVars: { ALICE_TOKEN: ENV_MARKER },
      annotations: { 'fastgshare/invoke_auth': 'tenant' },
    });
    expect(d1.status, d1.text).to.equal(202);
    const s1 = await as('alice', 'POST', '/system/secrets', { name: 'alice-secret', value: SECRET_VALUE });
    expect(s1.status, s1.text).to.equal(201);
    const d2 = await as('bob', 'POST', '/system/functions', { service: 'bob-fn', image: 'echo:latest' });
    expect(d2.status, d2.text).to.equal(202);
    await h.eventually(async () => {
      const r = await as('admin', 'GET', '/system/function/alice-fn?namespace=ns-a');
      expect(r.status).to.equal(200);
      expect(r.json().availableReplicas).to.equal(1);
    }, 30_000);
  });
  after(async () => {
    agent.destroy();
    await h?.close();
  });

  it('finds every /system route in the routers, the tenant routes among them', () => {
    const keys = routes.map((r) => `${r.method} ${r.pattern}`);
    for (const k of [
      'GET /system/functions',
      'POST /system/functions',
      'PUT /system/functions',
      'DELETE /system/functions',
      'GET /system/function/:name',
      'POST /system/scale-function/:name',
      'GET /system/secrets',
      'POST /system/secrets',
      'PUT /system/secrets',
      'DELETE /system/secrets',
      'GET /system/logs',
      'GET /system/namespaces',
      'POST /system/namespace',
      'GET /system/namespace/:name',
      'DELETE /system/namespace/:name',
      'GET /system/info',
      'POST /system/tenants',
      'GET /system/tenants',
      'GET /system/tenants/:name',
      'DELETE /system/tenants/:name',
      'POST /system/tenants/:name/rotate',
      'GET /system/tenant',
      'GET /system/cost',
      'GET /system/cost/report',
      'GET /system/explain/:name',
      'POST /system/profiles/:name',
      'GET /system/profiles/:name',
      'GET /metrics',
      'GET /healthz',
    ]) {
      expect(keys, k).to.include(k);
    }
    // every route a tenant may use is a real route (a scope entry for a route that is not there would hide a typo)
    for (const tr of TENANT_ROUTES)
      expect(
        routes.some((r) => r.method === tr.method && tr.path.test(target(r).path)),
        String(tr.path),
      ).to.equal(true);
  });

  it('routes and scopes every spelling of every route the same way, for the admin, the owner, another tenant and no one', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    const jobs: Array<() => Promise<void>> = [];
    for (const r of routes.filter((x) => x.pattern !== '/healthz')) {
      const t = target(r);
      const mutating = r.method !== 'GET' && r.method !== 'HEAD';
      const vs = variants(r, t);
      for (const who of WHO) {
        // the admin and alice must not change their own data here: their state-changing calls
        // are sent only in spellings that are refused before any handler runs
        const mine = who === 'admin' || who === 'alice';
        const selected = vs.filter(
          (v) => !(mine && mutating && (v.kind === 'same' || v.kind === 'qualified' || v.kind === 'other-ns')),
        );
        jobs.push(async () => {
          const results = new Map<string, Raw>();
          for (const v of selected) {
            const res = await call(who, r.method, v.url, t.body);
            results.set(v.label, res);
            const say = (m: string) =>
              failures.push(
                `${who} ${r.method} ${v.url} (${v.label}): ${m} [${res.status} ${res.body.slice(0, 160).trim()}]`,
              );
            if (res.status >= 500 && res.status !== 501) say('server error');
            if (/\n\s+at .+:\d+:\d+/.test(res.body)) say('stack trace in the answer');
            if (v.kind === 'case' && res.status !== 404) say('a case variant must be a 404');
            if (v.kind === 'malformed' && res.status !== 400) say('a malformed path must be a 400');
            if (v.kind === 'unrouted' && res.status !== 404) say('a double-encoded path must be a 404');
            if (
              (v.kind === 'same' || v.kind === 'qualified' || v.kind === 'other-ns') &&
              who === 'anonymous' &&
              res.status !== 401
            )
              say('anonymous must get 401');
            if (who === 'bob' && res.status >= 200 && res.status < 300) {
              // a tenant may change its own record (/system/tenant/...: its API keys), nothing else
              if (mutating && !isSelfRoute(r.pattern)) say('another tenant changed something');
              for (const m of ALICE_MARKERS) if (res.body.includes(m)) say(`another tenant read alice's data (${m})`);
            }
            if (
              who === 'bob' &&
              v.kind !== 'case' &&
              v.kind !== 'malformed' &&
              v.kind !== 'unrouted' &&
              !isTenantRoute(r.method, t.path) &&
              res.status !== 403 &&
              res.status !== 401
            ) {
              say('an admin-only route must be a 403 for a tenant');
            }
          }
          // every spelling that is routed is routed as the canonical one: same answer
          const canonical = results.get('canonical');
          if (canonical) {
            for (const label of ['percent-encoded letters', 'encoded first segment', 'trailing slash']) {
              const other = results.get(label);
              if (other && other.status !== canonical.status)
                failures.push(
                  `${who} ${r.method} ${r.pattern}: "${label}" answered ${other.status} where the canonical path answered ${canonical.status}`,
                );
            }
            if (
              who === 'admin' &&
              (canonical.status === 401 || canonical.status === 403 || canonical.body.includes('no route for'))
            ) {
              failures.push(
                `admin ${r.method} ${t.path}: the canonical path must work for the admin [${canonical.status} ${canonical.body.slice(0, 120)}]`,
              );
            }
          }
        });
      }
    }
    await pool(jobs, 6);
    expect(failures, failures.slice(0, 40).join('\n')).to.deep.equal([]);
    expect(await snapshot()).to.deep.equal(before);
  });

  it('answers the admin and the owner on the canonical paths with the data itself', async () => {
    const list = await call('admin', 'GET', '/system/functions?namespace=ns-a');
    expect(list.status).to.equal(200);
    expect(JSON.parse(list.body).map((f: { name: string }) => f.name)).to.deep.equal(['alice-fn']);
    const own = await call('alice', 'GET', '/%73ystem/%66unctions');
    expect(own.status).to.equal(200);
    expect(JSON.parse(own.body)[0]).to.include({ name: 'alice-fn', namespace: 'ns-a' });
    expect(own.body).to.contain(ENV_MARKER);
    const bobs = await call('bob', 'GET', '/system/functions');
    expect(JSON.parse(bobs.body).map((f: { name: string }) => f.name)).to.deep.equal(['bob-fn']);
    const scaled = await call('admin', 'POST', '/system/scale-function/alice-fn?namespace=ns-a', {
      serviceName: 'alice-fn',
      replicas: 1,
    });
    expect(scaled.status).to.equal(202);
    for (const who of ['admin', 'alice'] as const) {
      const secrets = await call(who, 'GET', '/system/secrets?namespace=ns-a');
      expect(secrets.status).to.equal(200);
      expect(secrets.body).to.contain('alice-secret');
    }
  });

  it("refuses the issue's probes: another tenant through /SYSTEM/... gets a 404 and nothing of alice's", async () => {
    for (const path of [
      '/SYSTEM/functions?namespace=ns-a',
      '/System/Functions?namespace=ns-a',
      '/system/FUNCTIONS?namespace=ns-a',
      '/SYSTEM/function/alice-fn?namespace=ns-a',
      '/SYSTEM/logs?name=alice-fn&namespace=ns-a',
      '/SYSTEM/secrets?namespace=ns-a',
    ]) {
      const r = await call('bob', 'GET', path);
      expect(r.status, path).to.equal(404);
      expect(r.body, path).not.to.contain(ENV_MARKER);
    }
    for (const path of [
      '/system/%66unctions?namespace=ns-a',
      '/%73ystem/functions?namespace=ns-a',
      '/system/function/%61lice-fn?namespace=ns-a',
    ]) {
      const r = await call('bob', 'GET', path);
      expect(r.status, path).to.equal(403);
      expect(r.body).to.contain('may only use its own namespaces');
    }
    const planted = await call('bob', 'POST', '/SYSTEM/secrets', { name: 'planted', value: 'x', namespace: 'ns-a' });
    expect(planted.status).to.equal(404);
    const scaled = await call('bob', 'POST', '/system/scale-function/%61lice-fn?namespace=ns-a', { replicas: 5 });
    expect(scaled.status).to.equal(403);
  });

  it('applies invoke auth to every URL form that reaches a function, and 404s or 400s the rest', async () => {
    const forms: Array<{ url: string; kind: 'same' | 'case' | 'malformed' }> = [
      { url: '/function/alice-fn.ns-a', kind: 'same' },
      { url: '/function/alice-fn.ns-a/', kind: 'same' },
      { url: '/function/alice-fn.ns-a/sub/path?x=1', kind: 'same' },
      { url: '/%66unction/alice-fn.ns-a', kind: 'same' },
      { url: '/function/%61lice-fn.ns-a', kind: 'same' },
      { url: '/function/alice-fn.%6es-a', kind: 'same' },
      { url: '/function/alice-fn%2ens-a', kind: 'same' },
      { url: 'http://example.com/function/alice-fn.ns-a', kind: 'same' },
      { url: '/FUNCTION/alice-fn.ns-a', kind: 'case' },
      { url: '/Function/alice-fn.ns-a', kind: 'case' },
      { url: '/function/ALICE-FN.ns-a', kind: 'case' },
      { url: '/function/alice-fn.NS-A', kind: 'case' },
      { url: '/function//alice-fn.ns-a', kind: 'malformed' },
      { url: '//function/alice-fn.ns-a', kind: 'malformed' },
      { url: '/function/alice-fn%2F..%2F', kind: 'malformed' },
      { url: '/function/%zz', kind: 'malformed' },
    ];
    const expected: Record<Who, number> = { admin: 200, alice: 200, bob: 403, anonymous: 401 };
    for (const { url, kind } of forms) {
      for (const who of WHO) {
        const r = await call(who, 'POST', url, { hello: who });
        const want = kind === 'case' ? 404 : kind === 'malformed' ? 400 : expected[who];
        expect(r.status, `${who} POST ${url}: ${r.body.slice(0, 200)}`).to.equal(want);
        if (want === 200) {
          const echoed = JSON.parse(r.body) as { body: string; path: string };
          expect(echoed.body).to.equal(JSON.stringify({ hello: who }));
          if (url.includes('/sub/path')) expect(echoed.path).to.equal('/sub/path');
        }
      }
      // async submissions take the same path (async is off here: 501 once auth passed)
      const asyncUrl = url.replace('function', 'async-function').replace('%66unction', '%61sync-function');
      const a = {
        bob: await call('bob', 'POST', asyncUrl, {}),
        anonymous: await call('anonymous', 'POST', asyncUrl, {}),
        alice: await call('alice', 'POST', asyncUrl, {}),
      };
      const want = kind === 'case' ? [404, 404, 404] : kind === 'malformed' ? [400, 400, 400] : [403, 401, 501];
      expect([a.bob.status, a.anonymous.status, a.alice.status], asyncUrl).to.deep.equal(want);
    }
  });

  it('never answers a malformed path with a 500 or a stack trace', async () => {
    for (const path of [
      '/system/%',
      '/system/%e0%80',
      '/system/function/%c0%af',
      '/%',
      '/function/%',
      '/async-function/%ff',
      '/system/functions%00',
      '/metrics%',
    ]) {
      for (const who of ['anonymous', 'bob'] as const) {
        const r = await call(who, 'GET', path);
        expect(r.status, path).to.equal(400);
        expect(r.body).to.match(/percent-encoding|control character/);
      }
    }
    expect(h.sink.lines().join('\n')).not.to.match(/URIError/);
  });

  it('tells non-admins what is wrong without server paths; the admin reads the message in full', async () => {
    const deploy = (who: Who) =>
      call(who, 'POST', '/system/functions', { service: 'missing-img', image: 'no-such-image:latest' });
    const asAlice = await deploy('alice');
    expect(asAlice.status, asAlice.body).to.be.within(400, 499);
    expect(asAlice.body).to.contain('no-such-image');
    expect(asAlice.body)
      .not.to.contain(tmpdir())
      .and.not.to.match(/fastgshare-gw-/);
    const asAdmin = await call('admin', 'POST', '/system/functions', {
      service: 'missing-img',
      image: 'no-such-image:latest',
      namespace: 'ns-a',
    });
    expect(asAdmin.status).to.equal(asAlice.status);
    expect(asAdmin.body).to.contain('no-such-image');
    // the same message, the admin's with the image store's directory, alice's with a placeholder
    expect(asAdmin.body).to.match(/fastgshare-gw-[^/]+\/images/);
    expect(asAlice.body).to.contain('<server path>');
    expect(asAlice.body.replace('<server path>', '')).to.equal(asAdmin.body.replace(/\(\/[^)]*\)/, '()'));
  });

  it('keeps /healthz open and serves /metrics to the admin only on the public port', async () => {
    expect((await call('anonymous', 'GET', '/healthz')).status).to.equal(200);
    expect((await call('anonymous', 'GET', '/metrics')).status).to.equal(401);
    expect((await call('bob', 'GET', '/metrics')).status).to.equal(403);
    const m = await call('admin', 'GET', '/metrics');
    expect(m.status).to.equal(200);
    expect(m.body).to.contain('process_cpu_user_seconds_total');
    const scraped = await fetch(`${h.gateway.metricsUrl}/metrics`);
    expect(scraped.status).to.equal(200);
  });
});
