/**
 * The sandbox's network rule (fast-manager/sandbox/network-policy.ts) with the real nftables:
 * a process running as a replica uid cannot open a connection to a listener on this host
 * (loopback or the host's own address), while the same connection from a uid outside the range
 * works, an allowed CIDR passes, and answers on connections made TO the replica uid still flow.
 * The table is removed on close.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import { silentLogger } from '../../../core/logger.ts';
import { applyNetworkPolicy, renderRuleset, type NetworkPolicy } from '../../../fast-manager/sandbox/network-policy.ts';

const run = promisify(execFile);
const UID_BASE = 171_000; // a range of its own, apart from agents other tests start
const UID_COUNT = 16;

/** Connects as `uid` from a child process; resolves with 'connected' or the error code. */
async function connectAs(uid: number, host: string, port: number): Promise<string> {
  const script = `const s=require('net').connect(${port},${JSON.stringify(host)});s.on('connect',()=>{console.log('connected');s.destroy()});s.on('error',e=>console.log(e.code))`;
  const { stdout } = await run(
    'setpriv',
    ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', process.execPath, '-e', script],
    { timeout: 10_000 },
  );
  return stdout.trim();
}

function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

describe('sandbox network rule (nftables)', function () {
  this.timeout(30_000);
  let server: Server;
  let port: number;
  let policy: NetworkPolicy | undefined;

  before(async function () {
    server = createServer((s) => {
      s.on('error', () => {}); // clients hang up at once
      s.end('hello\n');
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await policy?.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('renders a rule matching the replica uid range, with allowed CIDRs before the refusals', () => {
    const text = renderRuleset({
      table: 'inet t',
      uidBase: 100_000,
      uidCount: 65_536,
      allow: ['10.1.0.0/16', '2001:db8::/32'],
    });
    expect(text).to.contain('meta skuid 100000-165535 jump replica');
    expect(text.indexOf('ip daddr { 10.1.0.0/16 } accept'))
      .to.be.greaterThan(-1)
      .and.lessThan(text.indexOf('fib daddr type local'));
    expect(text).to.contain('ip6 daddr { 2001:db8::/32 } accept');
    expect(text)
      .to.match(/ip daddr \{[^}]*127\.0\.0\.0\/8[^}]*\} reject/)
      .and.to.match(/ip6 daddr \{[^}]*::ffff:0:0\/96[^}]*\} reject/);
    expect(text).to.contain('ct state established,related accept');
  });

  it('refuses connections from replica uids to this host, lets other uids and allowed CIDRs through, and is removed on close', async () => {
    const uid = UID_BASE + 3;
    expect(await connectAs(uid, '127.0.0.1', port)).to.equal('connected'); // no rule yet
    policy = await applyNetworkPolicy({
      nft: 'nft',
      uidBase: UID_BASE,
      uidCount: UID_COUNT,
      allow: [],
      log: silentLogger,
    });
    const listed = execFileSync('nft', ['list', 'table', ...policy.table.split(' ')]).toString();
    expect(listed).to.contain(`meta skuid ${UID_BASE}-${UID_BASE + UID_COUNT - 1}`);
    expect(await connectAs(uid, '127.0.0.1', port)).to.equal('EHOSTUNREACH');
    expect(await connectAs(uid, '127.0.0.2', port)).to.equal('EHOSTUNREACH');
    const own = hostAddress();
    if (own) expect(await connectAs(uid, own, port)).to.equal('EHOSTUNREACH');
    expect(await connectAs(UID_BASE + UID_COUNT, '127.0.0.1', port), 'a uid outside the range').to.equal('connected');
    expect(await connectAs(65_534, '127.0.0.1', port), 'nobody').to.equal('connected');
    await policy.close();
    const table = policy.table;
    policy = undefined;
    expect(execFileSync('nft', ['list', 'tables']).toString()).not.to.contain(table.split(' ')[1]);
    expect(await connectAs(uid, '127.0.0.1', port)).to.equal('connected');

    policy = await applyNetworkPolicy({
      nft: 'nft',
      uidBase: UID_BASE,
      uidCount: UID_COUNT,
      allow: ['127.0.0.1/32'],
      log: silentLogger,
    });
    expect(await connectAs(uid, '127.0.0.1', port), 'allowed CIDR').to.equal('connected');
    expect(await connectAs(uid, '127.0.0.2', port), 'outside the allowed CIDR').to.equal('EHOSTUNREACH');
  });

  it('still answers connections made to a replica uid (established traffic passes)', async () => {
    policy ??= await applyNetworkPolicy({
      nft: 'nft',
      uidBase: UID_BASE,
      uidCount: UID_COUNT,
      allow: [],
      log: silentLogger,
    });
    const uid = UID_BASE + 5;
    // a listener running as the replica uid; the test (root) connects to it and reads its answer
    const child = execFile('setpriv', [
      '--reuid',
      String(uid),
      '--regid',
      String(uid),
      '--clear-groups',
      process.execPath,
      '-e',
      "const s=require('net').createServer(c=>c.end('from-replica\\n')).listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ]);
    try {
      const replicaPort = await new Promise<number>((resolve, reject) => {
        child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      });
      const { stdout } = await run(
        process.execPath,
        [
          '-e',
          `const s=require('net').connect(${replicaPort},'127.0.0.1');s.on('data',d=>{process.stdout.write(d);s.destroy()});s.on('error',e=>console.log(e.code))`,
        ],
        { timeout: 10_000 },
      );
      expect(stdout.trim()).to.equal('from-replica');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
