/**
 * The timeline over the wire, against a real node agent and gateway (auth on): the agent's
 * GET /v1/devices/:device/timeline needs its token (401 without), refuses bad queries and unknown
 * devices; the gateway's /system/devices/:node/:device/timeline is the admin's (a tenant gets 403);
 * `fastgshare timeline <device>` writes a self-contained page with a lane per replica.
 */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readGatewayConfig, readNodeConfig } from '../../../core/config.ts';
import { ManualClock, systemClock } from '../../../core/clock.ts';
import { ImageStore } from '../../../core/images/image-store.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { DeviceTimeline } from '../../../core/contracts/node-agent.ts';
import { startNodeAgent, type NodeAgent } from '../../../fast-manager/main.ts';
import { createDeviceTimelines, type DeviceTimelines } from '../../../fast-manager/timeline/recorder.ts';
import { startGateway, type Gateway } from '../../../gateway/main.ts';
import { createHttpNodeAgentClient } from '../../../gateway/node-client.ts';
import { main } from '../../../cli/main.ts';
import { startTestStore, tempDir, type TestStore } from '../../helpers/store.ts';

const PASSWORD = 'admin-password-1';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('device timeline routes and CLI', function () {
  this.timeout(30_000);
  let ts: TestStore;
  let dir: { dir: string; cleanup(): Promise<void> };
  let agent: NodeAgent;
  let gw: Gateway;
  let timeline: DeviceTimelines;
  let clock: ManualClock;
  let tenantAuth: string;
  const node = `timeline-${process.pid}`;

  before(async () => {
    ts = await startTestStore();
    dir = await tempDir();
    // the timeline on a clock the test moves (the agent's own clock is the system's: start from its time)
    clock = new ManualClock(systemClock.now());
    timeline = createDeviceTimelines({ clock, capacity: 1000 });
    agent = await startNodeAgent({
      config: readNodeConfig({ FASTGSHARE_DATA_DIR: join(dir.dir, 'node'), FASTGSHARE_NODE_PORT: '0' }, node),
      images: new ImageStore({ root: join(dir.dir, 'images') }),
      log: silentLogger,
      registry: new Registry(),
      timeline,
    });
    gw = await startGateway({
      config: readGatewayConfig({
        PORT: '0',
        FASTGSHARE_HOST: '127.0.0.1',
        FASTGSHARE_DATA_DIR: join(dir.dir, 'gw'),
        FASTGSHARE_ADMIN_PASSWORD: PASSWORD,
        FASTGSHARE_READY_TIMEOUT_MS: '0',
        FASTGSHARE_TENANT_HASH_ROUNDS: '4',
      }),
      store: ts.store,
      nodes: [createHttpNodeAgentClient(agent.url, { token: agent.token })],
      log: silentLogger,
      registry: new Registry(),
    });
    const t = await fetch(`${gw.url}/system/tenants`, {
      method: 'POST',
      headers: { authorization: basic('admin', PASSWORD), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'acme', password: 'acme-secret-pw' }),
    });
    expect(t.status, await t.text()).to.equal(201);
    tenantAuth = basic('acme', 'acme-secret-pw');
    // what the token server and the emulated device record while two replicas share the device
    timeline.replica('emulated', {
      id: 'bert-r1',
      function: 'bert.openfaas-fn',
      partition: 50,
      quotaRequest: 0.6,
      quotaLimit: 1,
    });
    timeline.replica('emulated', {
      id: 'resnet-r2',
      function: 'resnet50.openfaas-fn',
      partition: 12,
      quotaRequest: 0.4,
      quotaLimit: 1,
    });
    const d = timeline.device('emulated');
    d.acquire('bert-r1', 50, 10);
    d.grant('bert-r1', 50, 20, 0.2);
    d.acquire('resnet-r2', 12);
    d.grant('resnet-r2', 12, 20, 0.1);
    const b1 = d.batchStart(1, 50, 8);
    const b2 = d.batchStart(2, 12, 3);
    clock.advance(5);
    d.batchEnd(b2, 3);
    d.batchEnd(b1, 8);
    d.release('bert-r1', 50, 6, 5.5);
    d.release('resnet-r2', 12, 6);
    clock.advance(1); // the window's end is after the last event
  });
  after(async () => {
    await gw?.close();
    await agent?.close();
    await ts?.cleanup();
    await dir?.cleanup();
  });

  it('agent: serves the timeline with its token, 401 without, 400 for a bad query, 404 for an unknown device', async () => {
    const get = (path: string, auth?: string) =>
      fetch(agent.url + path, { headers: auth ? { authorization: auth } : {} });
    const bearer = `Bearer ${agent.token}`;
    const ok = await get('/v1/devices/emulated/timeline?last=60000', bearer);
    expect(ok.status).to.equal(200);
    const tl = (await ok.json()) as DeviceTimeline;
    expect(tl.device).to.equal('emulated');
    expect(tl.events.map((e) => e.kind)).to.deep.equal([
      'acquire',
      'grant',
      'acquire',
      'grant',
      'batch-start',
      'batch-start',
      'batch-end',
      'batch-end',
      'release',
      'release',
    ]);
    expect(tl.events.filter((e) => e.kind === 'batch-start').map((e) => e.replica)).to.deep.equal([
      'bert-r1',
      'resnet-r2',
    ]);
    expect(tl.window.to - tl.window.from).to.equal(60_000);
    const since = (await (
      await get(`/v1/devices/emulated/timeline?since=${tl.window.to + 1}`, bearer)
    ).json()) as DeviceTimeline;
    expect(since.events).to.deep.equal([]);
    expect(since.open.waiting).to.deep.equal([]);
    const cpu = await get('/v1/devices/cpu/timeline', bearer);
    expect(cpu.status).to.equal(200);
    expect(((await cpu.json()) as DeviceTimeline).events).to.deep.equal([]);

    for (const auth of [undefined, 'Bearer nope', basic('admin', PASSWORD)]) {
      const r = await get('/v1/devices/emulated/timeline', auth);
      expect(r.status, String(auth)).to.equal(401);
      expect(await r.text()).not.to.contain('bert');
    }
    for (const q of ['since=abc', 'last=-5', 'since=1&last=2', 'from=3', 'since=1&since=2']) {
      const r = await get(`/v1/devices/emulated/timeline?${q}`, bearer);
      expect(r.status, q).to.equal(400);
      expect(((await r.json()) as { message: string }).message, q).to.match(/since|last|query parameter/);
    }
    const unknown = await get('/v1/devices/emulated:7/timeline', bearer);
    expect(unknown.status).to.equal(404);
    expect(((await unknown.json()) as { message: string }).message)
      .to.contain('not on this node')
      .and.contain('cpu')
      .and.contain('emulated');
  });

  it('gateway: the admin reads a node device timeline; a tenant gets 403 and nothing of it', async () => {
    const get = (path: string, auth?: string) => fetch(gw.url + path, { headers: auth ? { authorization: auth } : {} });
    const admin = await get(`/system/devices/${node}/emulated/timeline?last=60000`, basic('admin', PASSWORD));
    expect(admin.status).to.equal(200);
    expect(((await admin.json()) as DeviceTimeline).events).to.have.length(10);
    const devices = await get('/system/devices', basic('admin', PASSWORD));
    expect(
      ((await devices.json()) as { node: string; devices: { id: string }[] }[]).map((n) => [
        n.node,
        n.devices.map((d) => d.id).includes('emulated'),
      ]),
    ).to.deep.equal([[node, true]]);
    for (const path of [
      `/system/devices/${node}/emulated/timeline`,
      '/system/devices',
      `/SYSTEM/devices/${node}/emulated/timeline`,
      `/system//devices/${node}/emulated/timeline`,
    ]) {
      const r = await get(path, tenantAuth);
      expect(r.status, path).to.be.oneOf(path.startsWith('/system/devices') ? [403] : [400, 403, 404]);
      expect(await r.text()).not.to.contain('bert');
    }
    expect((await get(`/system/devices/${node}/emulated/timeline`)).status).to.equal(401);
    const nope = await get('/system/devices/no-such-node/emulated/timeline', basic('admin', PASSWORD));
    expect(nope.status).to.equal(404);
    expect(await nope.text())
      .to.contain('no-such-node')
      .and.contain(node);
  });

  it('CLI: `timeline emulated` writes a page with a lane per replica, Σ partition and the waste table', async () => {
    let out = '';
    let err = '';
    const io = {
      stdout: { write: (s: string | Uint8Array) => (out += s.toString()) },
      stderr: { write: (s: string | Uint8Array) => (err += s.toString()) },
      stdin: Readable.from([]),
    };
    const run = (argv: string[], user = 'admin', password = PASSWORD) =>
      main({
        argv: [...argv, '-g', gw.url, '--username', user, '--password', password],
        env: { OPENFAAS_CONFIG: join(dir.dir, 'cfg') },
        io,
        cwd: dir.dir,
        home: dir.dir,
        stopSignal: () => new Promise(() => {}),
      });
    const code = await run(['timeline', 'emulated', '--since', '1m', '-o', 'tl.html']);
    expect(code, err).to.equal(0);
    expect(out).to.contain(`Device emulated on ${node}`).and.contain('idle with work waiting').and.contain('tl.html');
    const page = await readFile(join(dir.dir, 'tl.html'), 'utf8');
    expect(page).to.match(/^<!doctype html>/);
    expect(page.match(/<g class="lane"/g)).to.have.length(2);
    expect(page).to.contain('data-lane="bert-r1"').and.contain('data-lane="resnet-r2"');
    expect(page).to.contain('bert.openfaas-fn').and.contain('<polyline class="sum"').and.contain('waste accounting');
    expect(page, 'self-contained').not.to.match(/<script|src="http|href="http/);
    err = '';
    expect(await run(['timeline', 'emulated', '--since', 'soon'])).to.equal(1);
    expect(err).to.contain('--since');
    err = '';
    expect(await run(['timeline', 'emulated', '-o', 'x.html'], 'acme', 'acme-secret-pw')).to.equal(1);
    expect(err).to.match(/only the admin|may not/);
  });
});
