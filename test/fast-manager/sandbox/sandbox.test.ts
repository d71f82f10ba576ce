/**
 * The replica sandbox (fast-manager/sandbox/) from inside: a hostile fixture replica
 * (test/fixtures/sandbox/probe) reports what it can see and reach; each attack must fail.
 * Needs root, bubblewrap and cgroups (the README's set-up installs them).
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHarness, useAgentHarness, waitFor, type Harness } from '../harness.ts';
import type { ReplicaStatus } from '../../../core/contracts/node-agent.ts';
import { PLATFORM_ROOT } from '../../../core/version.ts';

const PROBE_BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sandbox', 'probe');
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Probe {
  uid: number;
  gid: number;
  groups: number[];
  caps: Record<string, string>;
  noNewPrivs: string;
  mounts: string[];
  env: Record<string, string>;
  pids: number[];
  cwd: string;
  read: Record<string, { ok: boolean; entries?: string[]; text?: string; error?: string }>;
  wrote: Record<string, { ok: boolean; error?: string }>;
  secrets: { ok: boolean; entries?: string[] };
  tmp: { ok: boolean };
}

async function deployProbe(
  h: Harness,
  name: string,
  namespace: string,
  extra: Record<string, unknown> = {},
): Promise<ReplicaStatus> {
  if (!(await h.images.exists('probe:latest')))
    await h.images.put('probe:latest', PROBE_BUNDLE, { fprocess: 'node server.mjs', language: 'test' });
  await h.apply({ name, namespace, image: 'probe:latest', ...extra }, 1);
  return waitFor(
    `${name} ready`,
    async () => {
      const f = await h.fn(name, namespace);
      const r = f?.replicas[0];
      return r?.state === 'ready' ? r : undefined;
    },
    15_000,
  );
}

async function probe(r: ReplicaStatus, paths: string[], writes: string[] = []): Promise<Probe> {
  const res = await fetch(
    `${r.url}/probe?paths=${encodeURIComponent(paths.join(','))}&write=${encodeURIComponent(writes.join(','))}`,
  );
  return (await res.json()) as Probe;
}

describe('fast-manager sandbox: what a replica can reach', function () {
  this.timeout(60_000);
  const ctx = useAgentHarness();

  it('runs each replica as its own unprivileged uid with its namespace gid, no capabilities and no_new_privs', async () => {
    const a = await deployProbe(ctx.h, 'alice-fn', 'ns-a', { secrets: { 'db-password': b64('alice-secret') } });
    const a2 = await deployProbe(ctx.h, 'alice-fn2', 'ns-a');
    const b = await deployProbe(ctx.h, 'bob-fn', 'ns-b', { secrets: { 'bob-key': b64('bob-secret') } });
    const [pa, pa2, pb] = await Promise.all([probe(a, []), probe(a2, []), probe(b, [])]);
    for (const p of [pa, pa2, pb]) {
      expect(p.uid).to.be.within(100_000, 165_535);
      expect(p.groups.filter((g) => g !== p.gid)).to.deep.equal([]);
      expect(p.caps).to.deep.equal({
        inh: '0000000000000000',
        prm: '0000000000000000',
        eff: '0000000000000000',
        bnd: '0000000000000000',
        amb: '0000000000000000',
      });
      expect(p.noNewPrivs).to.equal('1');
    }
    expect(new Set([pa.uid, pa2.uid, pb.uid]).size).to.equal(3);
    expect(pa.gid).to.equal(pa2.gid);
    expect(pa.gid).to.not.equal(pb.gid);
    // the host sees the server process under that uid too
    const hostUid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${a.pid}/status`, 'utf8'))?.[1]);
    expect(hostUid).to.equal(0); // bwrap's monitor stays root on the host side…
    const serverPids = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          return (
            readFileSync(`/proc/${n}/stat`, 'utf8').split(') ')[1]!.split(' ')[2] === String(a.pid) &&
            /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${n}/status`, 'utf8'))?.[1] === String(pa.uid)
          );
        } catch {
          return false;
        }
      });
    expect(serverPids.length).to.be.greaterThan(0); // …the replica's code runs as its uid
  });

  it('shows only its bundle, scratch, secrets and the platform code: not the data dir, other replicas, the agent env or processes', async () => {
    const a = (await ctx.h.fn('alice-fn', 'ns-a'))!.replicas[0]!;
    const b = (await ctx.h.fn('bob-fn', 'ns-b'))!.replicas[0]!;
    const dataDir = ctx.h.dataDir;
    const attacks = [
      join(dataDir, 'replicas'),
      join(dataDir, 'replicas', b.id, 'secrets', 'bob-key'),
      join(dataDir, 'replicas', b.id),
      `/proc/${b.pid}/environ`,
      '/proc/1/environ',
      `/proc/${process.pid}/environ`,
      '/etc/shadow',
      '/root',
      '/home',
      '/var/openfaas/secrets/bob-key',
    ];
    const p = await probe(
      a,
      [...attacks, dataDir, join(dataDir, 'images')],
      ['planted.js', join(a.id, '..', 'planted2.js'), join(PLATFORM_ROOT, 'planted.js'), '/usr/planted'],
    );
    for (const path of attacks.filter((x) => x !== '/proc/1/environ'))
      expect(p.read[path], path).to.include({ ok: false });
    // the data dir's path shows at most the empty folders above its bundle and sockets, never its content
    expect(p.read[dataDir]!.entries ?? []).to.satisfy((e: string[]) =>
      e.every((n) => n === 'images' || n === 'run' || n === 'model-cache'),
    );
    expect(p.read[join(dataDir, 'images')]!.entries ?? []).to.deep.equal(['probe']);
    // pid 1 is bubblewrap's reaper inside its own pid namespace (root-owned: unreadable), never the host's init
    expect(p.read['/proc/1/environ']!.ok).to.equal(false);
    expect(Math.max(...p.pids)).to.be.lessThan(20);
    for (const w of Object.values(p.wrote)) expect(w.ok).to.equal(false);
    expect(p.tmp.ok).to.equal(true);
    expect(p.secrets).to.deep.equal({ ok: true, entries: ['db-password'] });
    expect(p.env.FASTGSHARE_SECRETS_DIR).to.equal('/var/openfaas/secrets');
    expect(p.env.TMPDIR).to.equal('/tmp');
    // nothing of the agent's own environment besides PATH
    const allowed = /^(PATH|HOME|PWD|NODE_ENV|PORT|TMPDIR|fprocess|FASTGSHARE_[A-Z_]+)$/;
    expect(Object.keys(p.env).filter((k) => !allowed.test(k))).to.deep.equal([]);
    // only the mounts the sandbox made: no /sys, no host /tmp, no data dir
    expect(p.mounts).to.not.include('/sys');
    expect(
      p.mounts.some(
        (m) => m.startsWith(dataDir) && !m.startsWith(join(dataDir, 'images')) && !m.startsWith(join(dataDir, 'run')),
      ),
    ).to.equal(false);
    // its own secret files: its uid, 0400, in a 0500 folder
    const secretsDir = join(dataDir, 'replicas', a.id, 'secrets');
    expect(statSync(secretsDir).mode & 0o777).to.equal(0o500);
    expect(statSync(join(secretsDir, 'db-password')).mode & 0o777).to.equal(0o400);
    expect(statSync(dataDir).mode & 0o777).to.equal(0o700);
  });

  it('kills a memory bomb in the kernel at limits.memory and says why', async () => {
    const r = await deployProbe(ctx.h, 'bomb-mem', 'ns-a', { limits: { memory: '96Mi' } });
    await fetch(`${r.url}/alloc?mb=400`).catch(() => undefined);
    const killed = await waitFor(
      'OOM kill',
      async () => {
        const x = (await ctx.h.fn('bomb-mem', 'ns-a'))?.replicas[0];
        return x && x.restarts >= 1 ? x : undefined;
      },
      15_000,
      20,
    );
    expect(killed.lastExit?.signal).to.equal('SIGKILL');
    expect(killed.lastExit?.reason).to.match(/^killed: memory limit 96Mi exceeded \(used/);
    expect((await ctx.h.call('GET', '/healthz')).status).to.equal(200);
  });

  it('stops a fork bomb at pids.max and the node stays healthy', async () => {
    const r = await deployProbe(ctx.h, 'bomb-fork', 'ns-b');
    const res = await fetch(`${r.url}/fork?n=2000`).catch(() => undefined);
    const out = res ? ((await res.json()) as { started: number }) : undefined;
    if (out) expect(out.started).to.be.below(256);
    // the agent still answers and other replicas still serve
    const other = (await ctx.h.fn('alice-fn', 'ns-a'))!.replicas[0]!;
    expect((await fetch(`${other.url}/_/health`)).status).to.equal(200);
    expect((await ctx.h.call('GET', '/healthz')).status).to.equal(200);
    await ctx.h.apply({ name: 'bomb-fork', namespace: 'ns-b', image: 'probe:latest' }, 0);
  });
});

describe('fast-manager sandbox: start-up check and FASTGSHARE_SANDBOX=off', function () {
  this.timeout(60_000);
  const ctx = useAgentHarness({ perTest: true });

  it('refuses to start replicas when bubblewrap is missing, saying how to fix it', async () => {
    await ctx.h.close();
    ctx.h = await startHarness({ env: { FASTGSHARE_SANDBOX_BWRAP: '/nonexistent/bwrap' } });
    const res = await ctx.h.call<{ message?: string; error?: string }>('PUT', '/v1/functions/openfaas-fn/echo', {
      spec: { name: 'echo', namespace: 'openfaas-fn', image: 'echo:latest' },
      replicas: 1,
    });
    expect(res.status).to.equal(503);
    expect(JSON.stringify(res.body)).to.match(
      /bubblewrap.*not installed.*apt-get install -y bubblewrap.*FASTGSHARE_SANDBOX=off/,
    );
    expect(
      ctx.h.sink.records.some((e) => e.level === 'error' && /replica sandbox does not work/.test(e.message)),
    ).to.equal(true);
  });

  it('runs replicas unconfined with FASTGSHARE_SANDBOX=off, warning at start and at each replica start', async () => {
    await ctx.h.close();
    ctx.h = await startHarness({ env: { FASTGSHARE_SANDBOX: 'off' } });
    const r = await deployProbe(ctx.h, 'open', 'openfaas-fn');
    const p = await probe(r, [ctx.h.dataDir]);
    expect(p.uid).to.equal(0);
    expect(p.read[ctx.h.dataDir]!.ok).to.equal(true);
    const warns = ctx.h.sink.records.filter((e) => e.level === 'warn').map((e) => e.message);
    expect(warns.some((m) => /SANDBOX IS OFF/.test(m))).to.equal(true);
    expect(warns.some((m) => /WITHOUT a sandbox/.test(m))).to.equal(true);
  });
});
