/**
 * The embedded store is reachable only by the platform's user: by default it listens on a unix
 * socket, mode 0600, in its data dir (0700), and opens no TCP port; another uid cannot connect
 * (EACCES), while the platform connects through mongoose. FASTGSHARE_STORE_PORT opts into TCP.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { readCommonConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { openStore } from '../../../core/store/open-store.ts';
import { startEmbeddedMongo } from '../../../core/store/embedded/server.ts';
import { PLATFORM_ROOT } from '../../../core/version.ts';

/** TCP sockets this process listens on (its fds' socket inodes in /proc/net/tcp*, state 0A = LISTEN). */
function listeningInodes(): Set<string> {
  const mine = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) mine.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const out = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && mine.has(cols[9]!)) out.add(cols[9]!);
    }
  }
  return out;
}

describe('embedded store socket', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fgs-sock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('listens on a 0600 unix socket in a 0700 dir, opens no TCP port, and the platform connects', async () => {
    const before = listeningInodes();
    const store = await openStore({ dataDir: dir, log: silentLogger });
    try {
      const sock = join(dir, 'store', 'mongod.sock');
      const st = await stat(sock);
      expect(st.isSocket()).to.equal(true);
      expect(st.mode & 0o777).to.equal(0o600);
      expect((await stat(join(dir, 'store'))).mode & 0o777).to.equal(0o700);
      expect(store.uri).to.equal(`mongodb://${encodeURIComponent(sock)}/fastgshare`);
      const added = [...listeningInodes()].filter((i) => !before.has(i));
      expect(added, 'new TCP listeners').to.deep.equal([]);
      // (the check can fail: the same store on TCP adds one)
      const tcp = await startEmbeddedMongo({ dataDir: join(dir, 'tcp'), port: 0, log: silentLogger });
      expect([...listeningInodes()].filter((i) => !before.has(i))).to.have.length(1);
      await tcp.close();
      await store.models.Namespace.create({ name: 'sock-ns' }).catch(() => undefined);
      // a plain driver with the same URI works for this user
      const c = new MongoClient(store.uri, { directConnection: true, serverSelectionTimeoutMS: 3_000 });
      try {
        expect((await c.db('fastgshare').command({ ping: 1 })).ok).to.equal(1);
      } finally {
        await c.close();
      }
    } finally {
      await store.close();
    }
    // the socket goes with the server
    await stat(join(dir, 'store', 'mongod.sock')).then(
      () => expect.fail('socket left behind'),
      () => undefined,
    );
  });

  it('refuses another uid (EACCES), even with the socket path in hand', async function () {
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) return this.skip();
    const store = await openStore({ dataDir: dir, log: silentLogger });
    try {
      // let uid 65534 reach the directory's entries, as an attacker who knows the path would need;
      // the socket's own 0600 must still refuse it
      await chmod(dir, 0o711);
      await chmod(join(dir, 'store'), 0o711);
      const sock = join(dir, 'store', 'mongod.sock');
      const probe = `const s=require('net').createConnection(${JSON.stringify(sock)});s.on('connect',()=>{console.log('CONNECTED');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)})`;
      const r = spawnSync(
        'setpriv',
        ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', probe],
        { encoding: 'utf8', cwd: PLATFORM_ROOT, timeout: 10_000 },
      );
      expect(r.stdout.trim(), r.stderr).to.equal('EACCES');
      // with the directory as the platform leaves it (0700), the path cannot even be reached
      await chmod(join(dir, 'store'), 0o700);
      const r2 = spawnSync(
        'setpriv',
        ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', probe],
        { encoding: 'utf8', cwd: PLATFORM_ROOT, timeout: 10_000 },
      );
      expect(r2.stdout.trim(), r2.stderr).to.equal('EACCES');
      // the platform itself is unaffected
      expect(await store.models.Namespace.countDocuments()).to.be.a('number');
    } finally {
      await store.close();
    }
  });

  it('replaces a stale socket file left by a killed server', async () => {
    const first = await startEmbeddedMongo({ dataDir: join(dir, 'store'), log: silentLogger });
    const sock = first.socketPath!;
    await first.close();
    // a server killed with SIGKILL leaves its socket file behind
    spawnSync(
      process.execPath,
      [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ],
      { timeout: 10_000 },
    );
    expect((await stat(sock)).isSocket()).to.equal(true);
    const again = await startEmbeddedMongo({ dataDir: join(dir, 'store'), log: silentLogger });
    try {
      expect((await stat(again.socketPath!)).mode & 0o777).to.equal(0o600);
    } finally {
      await again.close();
    }
  });

  it('serves TCP only when FASTGSHARE_STORE_PORT asks for it', async () => {
    expect(readCommonConfig({}).storePort).to.equal(undefined);
    expect(readCommonConfig({ FASTGSHARE_STORE_PORT: '0' }).storePort).to.equal(0);
    expect(() => readCommonConfig({ FASTGSHARE_STORE_PORT: 'x' })).to.throw(/FASTGSHARE_STORE_PORT/);
    const store = await openStore({ dataDir: dir, storePort: 0, log: silentLogger });
    try {
      expect(store.uri).to.match(/^mongodb:\/\/127\.0\.0\.1:\d+\/fastgshare$/);
    } finally {
      await store.close();
    }
  });

  it('says to shorten the data dir when the socket path is too long for a unix socket', async () => {
    const long = join(dir, 'x'.repeat(120));
    const err = await startEmbeddedMongo({ dataDir: long, log: silentLogger }).catch((e: Error) => e);
    expect((err as Error).message)
      .to.contain('FASTGSHARE_DATA_DIR')
      .and.contain('107');
  });
});
