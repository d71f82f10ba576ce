import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ManualClock, systemClock } from '../../../core/clock.ts';
import { createDeviceTimelines } from '../../../fast-manager/timeline/recorder.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { createTokenMeter, type TokenMeter } from '../../../fast-manager/sharing/meter.ts';
import { createTokenServer, type TokenServer } from '../../../fast-manager/sharing/token-server.ts';
import { connectTokenClient, TokenChannelError } from '../../../templates/onnx-node/runtime/token-client.ts';
import { eventually } from '../../helpers/eventually.ts';

const KEY = (id: string) => `key-of-${id}-0123456789`;
const share = (quotaRequest: number, quotaLimit: number, partition = 100) => ({ quotaRequest, quotaLimit, partition });

/** Sends raw lines and collects the server's replies (for protocol errors the client never makes). */
async function raw(socketPath: string, lines: string[]): Promise<Record<string, unknown>[]> {
  const s = createConnection(socketPath);
  let text = '';
  s.setEncoding('utf8');
  s.on('data', (c: string) => (text += c));
  await new Promise((r) => s.once('connect', r));
  for (const l of lines) s.write(`${l}\n`);
  await new Promise((r) => s.once('close', r));
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/**
 * A token server on a manual clock, with the device timeline as the test's barrier: `seen(kind, n)`
 * waits until the server has handled the n-th event of that kind (messages cross a real socket).
 */
async function manualServer() {
  const dir = await mkdtemp(join(tmpdir(), 'fg-tokens-manual-'));
  const clock = new ManualClock(1_000_000);
  const registry = new Registry();
  const meter = createTokenMeter(registry, clock);
  const timeline = createDeviceTimelines({ clock, capacity: 1000 });
  const server = await createTokenServer({
    socketPath: join(dir, 't.sock'),
    clock,
    log: createLogger({ sink: new CaptureSink() }),
    meter,
    timeline,
    scheduler: { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 5 },
  });
  const count = (kind: string) => timeline.snapshot('emulated').events.filter((e) => e.kind === kind).length;
  return {
    clock,
    registry,
    meter,
    server,
    /** Events of that kind the server has handled so far. */
    count,
    async seen(kind: string, n: number) {
      await eventually(async () => expect(count(kind), `${kind} events`).to.be.at.least(n), 5000);
    },
    /** Lets messages already sent be handled (a grant would be a message back to the client). */
    async settle() {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('token channel (server + client over a unix socket)', function () {
  this.timeout(15_000);
  let dir: string;
  let server: TokenServer;
  let meter: TokenMeter;
  let registry: Registry;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fg-tokens-'));
    registry = new Registry();
    meter = createTokenMeter(registry, systemClock);
    server = await createTokenServer({
      socketPath: join(dir, 'run', 't.sock'),
      clock: systemClock,
      log: createLogger({ sink: new CaptureSink() }),
      meter,
      scheduler: { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 5 },
    });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('grants a registered replica a token and charges the held time by its own clock', async () => {
    // on a manual clock: the held time is exactly what the clock moved, whatever the machine does
    const m = await manualServer();
    m.server.register('r1', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('r1') });
    const c = await connectTokenClient({ socketPath: m.server.socketPath, replicaId: 'r1', key: KEY('r1') });
    try {
      expect(c.device).to.equal('emulated');
      expect(c.windowMs).to.equal(1000);
      const g = await c.acquire();
      expect(g.quotaMs).to.equal(50); // base quota before any burst is known
      expect(m.server.holders('emulated').map((h) => h.id)).to.deep.equal(['r1']);
      m.clock.advance(30);
      c.release();
      await m.seen('release', 1);
      expect(m.server.holders('emulated')).to.have.length(0);
      const u = m.meter.replica('r1')!;
      expect(u.tokensGranted).to.equal(1);
      expect(u.heldSeconds).to.equal(0.03);
      expect(u.deviceSeconds).to.be.closeTo(u.heldSeconds, 1e-9);
      expect(await m.registry.metrics()).to.match(/fastgshare_token_grants_total\{function_name="f.ns"\} 1/);
    } finally {
      c.close();
      await m.close();
    }
  });

  it('asks a holder to yield once when another replica waits for the device, and not when no one waits', async () => {
    const m = await manualServer();
    m.server.register('a', { function: 'a.ns', device: 'emulated', share: share(0.5, 1, 60), key: KEY('a') });
    m.server.register('b', { function: 'b.ns', device: 'emulated', share: share(0.5, 1, 60), key: KEY('b') });
    const a = await connectTokenClient({ socketPath: m.server.socketPath, replicaId: 'a', key: KEY('a') });
    const b = await connectTokenClient({ socketPath: m.server.socketPath, replicaId: 'b', key: KEY('b') });
    let yields = 0;
    a.onYield(() => yields++);
    try {
      await a.acquire();
      m.clock.advance(20); // no timer falls due (a's token runs out at 50 ms)
      await m.settle();
      expect(yields, 'nobody waits: a keeps its token in peace').to.equal(0);
      const waiting = b.acquire(); // 60 % + 60 % do not fit: b waits, a is asked to yield
      await eventually(async () => expect(yields).to.equal(1), 5000);
      // a's token runs out while b still waits: that pass finds b blocked again, and a has been asked already
      m.clock.advance(40);
      expect(m.server.expiries).to.equal(1);
      await m.settle();
      expect(yields, 'once per token').to.equal(1);
      a.release();
      await waiting;
      expect(m.server.holders('emulated').map((h) => h.id)).to.deep.equal(['b']);
    } finally {
      a.close();
      b.close();
      await m.close();
    }
  });

  it('refuses an unregistered replica id with a clear error', async () => {
    server.register('r1', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('r1') });
    const err = await connectTokenClient({
      socketPath: server.socketPath,
      replicaId: 'nobody',
      key: KEY('nobody'),
    }).catch((e) => e);
    expect(err).to.be.instanceOf(TokenChannelError);
    expect(err.code).to.equal('not_found');
    expect(err.message).to.include('replica nobody is not registered');
  });

  it('says what is wrong when the socket is missing', async () => {
    const err = await connectTokenClient({ socketPath: join(dir, 'nope.sock'), replicaId: 'r1', key: KEY('r1') }).catch(
      (e) => e,
    );
    expect(err).to.be.instanceOf(TokenChannelError);
    expect(err.message).to.include('does not exist').and.include('nope.sock');
  });

  it('answers protocol errors and closes', async () => {
    expect((await raw(server.socketPath, ['{"op":"acquire"}']))[0]).to.include({ op: 'error', code: 'bad_request' });
    expect((await raw(server.socketPath, ['not json']))[0]!.message).to.include('not valid JSON');
  });

  it("releases a dead replica's token at once so a waiter gets it", async () => {
    // on a manual clock that stays put, a's token never runs out: b can only get the device through a's close
    const m = await manualServer();
    m.server.register('a', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('a') });
    m.server.register('b', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('b') });
    const a = await connectTokenClient({ socketPath: m.server.socketPath, replicaId: 'a', key: KEY('a') });
    const b = await connectTokenClient({ socketPath: m.server.socketPath, replicaId: 'b', key: KEY('b') });
    try {
      await a.acquire();
      let got = false;
      const pb = b.acquire().then((g) => ((got = true), g));
      await m.seen('acquire', 2);
      await m.settle();
      expect(got, 'b waits while a holds the only partition').to.equal(false);
      a.close(); // the connection goes: a's token is released, a leaves the scheduler
      await pb;
      expect(m.server.expiries, "not at the expiry of a's token").to.equal(0);
      expect(m.server.holders('emulated').map((h) => h.id)).to.deep.equal(['b']);
    } finally {
      a.close();
      b.close();
      await m.close();
    }
  });

  it('does not let a holder that never releases exceed its limit: the overrun is charged', async () => {
    const m = await manualServer();
    m.server.register('a', { function: 'f.ns', device: 'emulated', share: share(0.2, 0.2), key: KEY('a') });
    const a = await connectTokenClient({ socketPath: m.server.socketPath, replicaId: 'a', key: KEY('a') });
    try {
      const g = await a.acquire();
      expect(g.quotaMs).to.equal(50);
      m.clock.advance(300); // overruns its 50 ms token: nothing is pre-empted, the expiry only counts
      expect(m.server.expiries).to.equal(1);
      expect(m.server.holders('emulated').map((h) => h.id)).to.deep.equal(['a']);
      a.release();
      await m.seen('release', 1);
      let granted = false;
      void a.acquire().then(() => (granted = true));
      await m.seen('acquire', 2);
      // charged 300 ms of a 200 ms/window limit: no token until that use slides out of the window
      // (held 0-300, so at most 200 - minQuota 5 = 195 ms of it may be in the window: at 1105)
      m.clock.advance(800); // a pass at the window slide would run inside advance(): none grants yet
      expect(m.count('grant'), 'still over its limit at 1100 ms').to.equal(1);
      await m.settle();
      expect(granted).to.equal(false);
      m.clock.advance(10);
      await m.seen('grant', 2);
      await eventually(
        async () => expect(granted, 'granted at 1110 ms, once 190 ms of its use is left in the window').to.equal(true),
        5000,
      );
    } finally {
      a.close();
      await m.close();
    }
  });

  it('applies a changed share in place (same id)', async () => {
    server.register('a', { function: 'f.ns', device: 'emulated', share: share(0.1, 0.1), key: KEY('a') });
    const a = await connectTokenClient({ socketPath: server.socketPath, replicaId: 'a', key: KEY('a') });
    expect((await a.acquire()).quotaMs).to.equal(50);
    a.release();
    server.register('a', { function: 'f.ns', device: 'emulated', share: share(0.03, 0.03), key: KEY('a') });
    expect((await a.acquire()).quotaMs).to.be.at.most(30); // clamped to request·W
    a.release();
    a.close();
  });

  it('reconnects after the connection drops and re-sends a pending acquire', async () => {
    server.register('a', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('a') });
    server.register('b', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('b') });
    const b = await connectTokenClient({ socketPath: server.socketPath, replicaId: 'b', key: KEY('b') });
    const a = await connectTokenClient({
      socketPath: server.socketPath,
      replicaId: 'a',
      key: KEY('a'),
      reconnectBaseMs: 10,
    });
    await b.acquire();
    const pa = a.acquire();
    // the server drops a's connection while a waits (unregister closes it); a is admitted again
    server.unregister('a');
    server.register('a', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('a') });
    b.release();
    const g = await pa;
    expect(g.quotaMs).to.be.above(0);
    a.close();
    b.close();
  });

  it('serves many back-to-back acquire/release cycles, each granted and charged once (its latency is measured by bench:sharing)', async () => {
    server.register('a', { function: 'f.ns', device: 'emulated', share: share(1, 1), key: KEY('a') });
    const a = await connectTokenClient({ socketPath: server.socketPath, replicaId: 'a', key: KEY('a') });
    for (let i = 0; i < 500; i++) {
      const g = await a.acquire({ burstMs: 1 });
      expect(g.quotaMs).to.be.above(0);
      a.release();
    }
    a.close();
    await eventually(async () => {
      expect(meter.replica('a')!.tokensGranted).to.equal(500);
      expect(server.holders('emulated')).to.have.length(0);
    }, 5000);
  });

  it("refuses a hello with another replica's id and a wrong or missing key, and the victim keeps its channel", async () => {
    server.register('victim', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('victim') });
    const victim = await connectTokenClient({ socketPath: server.socketPath, replicaId: 'victim', key: KEY('victim') });
    for (const hello of [
      { op: 'hello', replicaId: 'victim' },
      { op: 'hello', replicaId: 'victim', key: '' },
      { op: 'hello', replicaId: 'victim', key: KEY('victim').slice(0, -1) },
      { op: 'hello', replicaId: 'victim', key: `${KEY('victim')}x` },
      { op: 'hello', replicaId: 'victim', key: 12345 },
    ]) {
      const replies = await raw(server.socketPath, [JSON.stringify(hello), '{"op":"acquire"}']);
      expect(replies, JSON.stringify(hello)).to.have.length(1); // the error, then the server closed: no grant
      expect(replies[0]).to.include({ op: 'error', code: 'unauthorized' });
      expect(String(replies[0]!.message)).to.contain('FASTGSHARE_TOKEN_KEY');
    }
    // the impostor's attempts did not push the victim off: it still gets tokens on its connection
    const g = await victim.acquire();
    expect(g.quotaMs).to.be.above(0);
    victim.release();
    expect(meter.replica('victim')!.tokensGranted).to.equal(1);
    // and the client side ends for good on a wrong key
    const err = await connectTokenClient({
      socketPath: server.socketPath,
      replicaId: 'victim',
      key: 'not-the-key',
    }).catch((e) => e);
    expect(err).to.be.instanceOf(TokenChannelError);
    expect(err.code).to.equal('unauthorized');
    victim.close();
  });

  it('needs a key to register a replica; a share update keeps it; a new key cuts the old process off', async () => {
    expect(() => server.register('k', { function: 'f.ns', device: 'emulated', share: share(0.5, 1) })).to.throw(
      /without a key/,
    );
    server.register('k', { function: 'f.ns', device: 'emulated', share: share(0.5, 1), key: KEY('k') });
    server.register('k', { function: 'f.ns', device: 'emulated', share: share(0.4, 1) }); // share update, key kept
    const c = await connectTokenClient({
      socketPath: server.socketPath,
      replicaId: 'k',
      key: KEY('k'),
      reconnectBaseMs: 10,
    });
    expect((await c.acquire()).quotaMs).to.be.above(0);
    c.release();
    // the replica's process is replaced (a new launch, a new key): the old key is refused from then on
    server.register('k', {
      function: 'f.ns',
      device: 'emulated',
      share: share(0.4, 1),
      key: 'a-brand-new-key-0123456789',
    });
    const pending = c.acquire();
    const err = await pending.catch((e) => e);
    expect(err).to.be.instanceOf(TokenChannelError);
    expect(err.code).to.equal('unauthorized');
    c.close();
  });
});
