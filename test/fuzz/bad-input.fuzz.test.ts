/**
 * Seeded, bounded fuzzing of the deployment API and the invoke routes with malformed input:
 * wrong types, huge fields, invalid names, path tricks, NUL bytes, truncated bodies, wrong
 * content types. Every answer must be a 4xx with a message (never a 5xx, never a hang), and
 * the gateway must stay healthy. Replay a failure with FUZZ_SEED=<seed> (printed on failure).
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';
import { REDIS_URL, deleteQueueKeys, uniquePrefix } from '../gateway/async/redis-keys.ts';
import { seeded, type Random } from './random.ts';
import { rawRequest } from './raw-http.ts';

// the one place a test reads the environment: an explicit replay seed
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const CASES = 250;

const TRICKS = [
  '../',
  '..%2f',
  '%2e%2e',
  '%2e%2e%2f',
  '..\\',
  '%00',
  '\u0000',
  '/etc/passwd',
  '%c0%ae%c0%ae',
  '....//',
  '%252e%252e',
  '\u202e',
  ' ',
  '\t',
  '%',
  '%zz',
  '.',
  '..',
  '-',
  '_x',
  'A'.repeat(300),
  'UPPER',
  'name.',
  '.ns',
  'a..b',
  '😀',
];
const BAD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  true,
  [],
  {},
  [1, 2],
  { a: 1 },
  '',
  ' ',
  '\u0000',
  'x'.repeat(70_000),
  ['a', 1],
  { 'nvidia.com/gpu': {} },
];

function trickyName(r: Random): string {
  const parts = Array.from({ length: 1 + r.int(3) }, () => r.pick(TRICKS));
  return r.chance(0.5) ? 'echo' + parts.join('') : parts.join('');
}

function validDeployment(): Record<string, unknown> {
  return {
    service: 'fz-ok',
    image: 'echo:latest',
    labels: {},
    annotations: {},
    envVars: { A: '1' },
    limits: { memory: '128Mi', cpu: '100m' },
  };
}

/** A deployment made invalid in one or more ways, each of which must be refused. */
function badDeployment(r: Random): unknown {
  const kind = r.int(6);
  if (kind === 0) return r.pick(BAD_VALUES.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)));
  const d = validDeployment();
  const fields = [
    'service',
    'image',
    'namespace',
    'envProcess',
    'envVars',
    'constraints',
    'secrets',
    'labels',
    'annotations',
    'limits',
    'requests',
    'readOnlyRootFilesystem',
  ];
  const rounds = 1 + r.int(3);
  for (let i = 0; i < rounds; i++) {
    switch (kind) {
      case 1: // a required field with a wrong type or missing
        r.chance(0.3) ? delete d[r.pick(['service', 'image'])] : (d[r.pick(['service', 'image'])] = r.pick(BAD_VALUES));
        break;
      case 2: // an invalid name / image / namespace, with path tricks
        d[r.pick(['service', 'image', 'namespace'])] = trickyName(r);
        if (d.service === 'echo' || d.image === 'echo') d.service = '../echo';
        break;
      case 3: // wrong types in optional fields
        d[r.pick(fields.slice(3))] = r.pick([0, 1.5, true, 'str', [null], { x: { y: 1 } }, ['a', { b: 1 }]]);
        d.service = r.chance(0.5) ? d.service : 'Bad_Name';
        // '' means unset (faas-cli sends it)
        if (d.service === 'fz-ok') d.limits = { memory: r.pick(['lots', '-1Mi', '1Zi', 12, 'Mi']) };
        break;
      case 4: // bad resource quantities and scale labels
        d[r.pick(['limits', 'requests'])] = {
          memory: r.pick(['lots', '-5', '1.5.5Mi', 'Mi', '9'.repeat(400)]),
          cpu: r.pick(['fast', '-1', '1e999', '', 'm']),
        };
        break;
      default: // bad annotations (GPU share, SLO) and scale labels
        d.labels = {
          'com.openfaas.scale.min': r.pick(['x', '-1', '1.5', '99999999999']),
          'com.openfaas.scale.max': r.pick(['0', 'y']),
        };
        d.annotations = {
          'fastgshare/gpu_quota_request': r.pick(['2', '-1', 'half', '']),
          'fastgshare/gpu_sm_partition': r.pick(['0', '101', 'x']),
        };
    }
  }
  return d;
}

describe('bad input (seeded fuzzing)', function () {
  this.timeout(60_000);
  const prefix = uniquePrefix('fuzz');
  let h: GatewayHarness;
  let failures: string[] = [];
  beforeEach(() => {
    failures = [];
  });

  before(async () => {
    h = await startGatewayHarness({
      env: {
        REDIS_URL,
        FASTGSHARE_ASYNC_PREFIX: prefix,
        FASTGSHARE_READY_TIMEOUT_MS: '500',
        FASTGSHARE_MAX_BODY_BYTES: String(256 * 1024),
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
    await deleteQueueKeys(prefix);
  });

  const expect4xx = (what: string, status: number, text: string) => {
    if (status < 400 || status > 499 || text.trim() === '')
      failures.push(`${what} → ${status} ${JSON.stringify(text.slice(0, 200))}`);
  };

  it(`refuses ${CASES} malformed deployments with a 4xx and a message (seed ${SEED})`, async () => {
    const r = seeded(SEED);
    for (let i = 0; i < CASES; i++) {
      const body = badDeployment(r);
      const method = r.pick(['POST', 'PUT']);
      const asText = JSON.stringify(body);
      const contentType = r.pick([
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        undefined,
      ]);
      const res = await fetch(`${h.gateway.url}/system/functions`, {
        method,
        body: asText,
        headers: contentType ? { 'content-type': contentType } : {},
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      // PUT of a (valid-looking) unknown function is a 404: also a 4xx with a message
      expect4xx(`#${i} ${method} ${asText.slice(0, 150)} (${contentType})`, res.status, text);
    }
    expect(failures, `seed ${SEED}:\n${failures.join('\n')}`).to.deep.equal([]);
  });

  it('refuses broken JSON, truncated bodies, oversize bodies and bad shapes on every /system write', async () => {
    const r = seeded(SEED + 1);
    const valid = JSON.stringify(validDeployment());
    const broken = [
      '{',
      '{"service":',
      valid.slice(0, valid.length - 3),
      '[]',
      'null',
      '"str"',
      '42',
      '{"service":"a","image":"echo:latest"}}',
      '\u0000{}',
      '{"__proto__":{"service":"x"}}',
      'x'.repeat(2 * 1024 * 1024),
    ];
    const routes: Array<[string, string]> = [
      ['POST', '/system/functions'],
      ['PUT', '/system/functions'],
      ['DELETE', '/system/functions'],
      ['POST', '/system/scale-function/echo'],
      ['POST', '/system/namespace'],
      ['POST', '/system/secrets'],
      ['PUT', '/system/secrets'],
    ];
    for (const [method, path] of routes) {
      for (const b of broken) {
        const res = await fetch(`${h.gateway.url}${path}`, {
          method,
          body: b,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(5000),
        });
        expect4xx(`${method} ${path} ${JSON.stringify(b.slice(0, 60))}`, res.status, await res.text());
      }
      // a body cut short: the client says 400 bytes, sends 20, and stops sending
      const cut = await rawRequest(
        h.gateway.port,
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n${valid.slice(0, 20)}`,
        { endAfterWrite: true },
      );
      if (!cut.closed) expect4xx(`${method} ${path} truncated`, cut.status, cut.text);
    }
    for (const name of Array.from({ length: 30 }, () => trickyName(r))) {
      for (const [method, path] of [
        ['GET', `/system/function/${encodeURIComponent(name)}`],
        ['DELETE', '/system/functions'],
        ['POST', `/system/scale-function/${encodeURIComponent(name)}`],
      ] as const) {
        const body =
          method === 'GET'
            ? undefined
            : JSON.stringify({ functionName: name, serviceName: name, replicas: r.pick([1, -1, 'x', 1e9, null]) });
        const res = await fetch(`${h.gateway.url}${path}`, { method, body, signal: AbortSignal.timeout(5000) });
        expect4xx(`${method} ${path} ${body ?? ''}`, res.status, await res.text());
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });

  it('refuses bad function names and path tricks on /function and /async-function, raw and encoded', async () => {
    const r = seeded(SEED + 2);
    for (let i = 0; i < 120; i++) {
      const route = r.pick(['/function/', '/async-function/']);
      const name = trickyName(r);
      const encoded = r.chance(0.5)
        ? encodeURIComponent(name)
        : name.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
      const method = r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
      const body = method === 'GET' ? '' : r.pick(['', 'x', '{"a":1}', '\u0000\u0001']);
      const raw = `${method} ${route}${encoded} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
      const a = await rawRequest(h.gateway.port, raw);
      // "echo" followed by "/..." tricks reaches echo's sub-path; anything else is not a function
      if (a.status === 200 || a.status === 202) {
        // ('echo.' means the default namespace, as in OpenFaaS)
        let first = encoded.split(/[/?]/)[0]!;
        try {
          first = decodeURIComponent(first);
        } catch {
          /* not valid percent-encoding: cannot have been accepted as a name */
        }
        if (!['echo', 'echo.', 'echo.openfaas-fn'].includes(first))
          failures.push(`${method} ${route}${encoded} → ${a.status}`);
        continue;
      }
      expect4xx(`${method} ${route}${encoded}`, a.status, a.text);
    }
    // NUL bytes and control characters in the request line itself, and bodies cut short
    for (const line of [
      'GET /function/ec\u0000ho HTTP/1.1',
      'POST /function/echo\u0001 HTTP/1.1',
      'POST /async-function/%00 HTTP/1.1',
      'GET /function/../system/functions HTTP/1.1',
    ]) {
      const a = await rawRequest(h.gateway.port, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
      if (!a.closed) expect4xx(JSON.stringify(line), a.status, a.text || 'x');
    }
    const cut = await rawRequest(
      h.gateway.port,
      `POST /async-function/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly-this`,
      { endAfterWrite: true },
    );
    if (!cut.closed) expect4xx('async truncated body', cut.status, cut.text);
    const big = await fetch(`${h.gateway.url}/async-function/echo`, {
      method: 'POST',
      body: new Uint8Array(2 * 1024 * 1024),
      signal: AbortSignal.timeout(5000),
    });
    expect4xx('async oversize body', big.status, await big.text());
    for (const cb of ['::', 'file:///etc/passwd', 'http://', 'gopher://x', 'x'.repeat(5000)]) {
      const res = await fetch(`${h.gateway.url}/async-function/echo`, {
        method: 'POST',
        body: 'x',
        headers: { 'X-Callback-Url': cb },
        signal: AbortSignal.timeout(5000),
      });
      expect4xx(`callback ${cb.slice(0, 40)}`, res.status, await res.text());
    }
    expect(failures, `seed ${SEED}:\n${failures.join('\n')}`).to.deep.equal([]);
  });

  it('stays healthy: /healthz 200 and a normal invocation still works', async () => {
    expect((await h.call('GET', '/healthz')).status).to.equal(200);
    const res = await h.call('POST', '/function/echo', { body: 'still here' });
    expect(res.status).to.equal(200);
    expect(res.json().body).to.equal('still here');
    const list = (await h.call('GET', '/system/functions')).json() as Array<{ name: string }>;
    expect(list.map((f) => f.name)).to.deep.equal(['echo']);
  });
});
