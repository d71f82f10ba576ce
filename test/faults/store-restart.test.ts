/**
 * The store restarted (the embedded server closed and started again on the same port and data
 * directory) under a running gateway: mongoose reconnects on its own; a write made while the
 * store is away either fails with a clear 503 or, when the store returns in time, is really
 * stored; never reported as done and lost.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readGatewayConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../core/store/embedded/server.ts';
import { openStore, type Store } from '../../core/store/open-store.ts';
import { startGateway, type Gateway } from '../../gateway/main.ts';

describe('fault: the store restarted', function () {
  this.timeout(40_000);
  let dir: string;
  let server: EmbeddedMongo | undefined;
  let store: Store | undefined;
  let gateway: Gateway | undefined;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-fault-store-'));
    server = await startEmbeddedMongo({ dataDir: join(dir, 'store'), port: 0, log: silentLogger });
    port = server.port;
    store = await openStore({ mongoUri: `${server.uri}/fastgshare`, dataDir: dir, log: silentLogger });
    gateway = await startGateway({
      config: readGatewayConfig({ PORT: '0', FASTGSHARE_HOST: '127.0.0.1', FASTGSHARE_DATA_DIR: dir }),
      store,
      nodes: [],
      log: silentLogger,
      registry: new Registry(),
      tuning: { reconcileMs: 60_000, pollMs: 1000, countFlushMs: 60_000 },
    });
  });
  after(async () => {
    await gateway?.close();
    await store?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const createNs = (name: string) =>
    fetch(`${gateway!.url}/system/namespace`, {
      method: 'POST',
      body: JSON.stringify({ name }),
      headers: { 'content-type': 'application/json' },
    });
  const names = async () => ((await (await fetch(`${gateway!.url}/system/namespaces`)).json()) as string[]).sort();

  it('fails writes clearly while the store is away, and reconnects when it is back', async () => {
    expect((await createNs('before')).status).to.equal(201);

    await server!.close();
    server = undefined;
    const t0 = Date.now();
    const during = await createNs('during-long');
    const text = await during.text();
    expect(during.status, text).to.equal(503);
    expect(text).to.match(/store/i);
    expect(Date.now() - t0, 'bounded, not a hang').to.be.lessThan(12_000);

    server = await startEmbeddedMongo({ dataDir: join(dir, 'store'), port, log: silentLogger });
    const after = await (async () => {
      const end = Date.now() + 15_000;
      for (;;) {
        const r = await createNs('after');
        if (r.status === 201 || Date.now() > end) return r;
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    expect(after.status).to.equal(201);
    expect(await names()).to.deep.equal(['after', 'before', 'openfaas-fn']);
  });

  it('a write made during a short outage is either stored or refused, never lost', async () => {
    await server!.close();
    server = undefined;
    const pending = createNs('during-short');
    // the outage's length, not a wait for a result: either answer passes, whenever the write reaches the store
    await new Promise((r) => setTimeout(r, 1000));
    server = await startEmbeddedMongo({ dataDir: join(dir, 'store'), port, log: silentLogger });
    const r = await pending;
    expect(r.status).to.be.oneOf([201, 503]);
    const stored = (await names()).includes('during-short');
    expect(stored, `answered ${r.status}`).to.equal(r.status === 201);
  });
});
