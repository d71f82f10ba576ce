import { expect } from 'chai';
import { createNamespaceGids, createUidPool } from '../../../fast-manager/sandbox/id-pool.ts';
import { bwrapOptions, sandboxCommand } from '../../../fast-manager/sandbox/mount-plan.ts';

describe('fast-manager sandbox: ids and mount plan', () => {
  it('hands out unique uids from the range, takes them back, and refuses when all are used', () => {
    const pool = createUidPool({ base: 100_000, count: 16 }, () => 0.99);
    const got = Array.from({ length: 16 }, () => pool.acquire());
    expect(new Set(got).size).to.equal(16);
    for (const u of got) expect(u).to.be.within(100_000, 100_015);
    expect(() => pool.acquire()).to.throw(/all 16 sandbox uids .* FASTGSHARE_SANDBOX_UID_COUNT/);
    pool.release(got[3]!);
    expect(pool.acquire()).to.equal(got[3]);
  });

  it('gives each namespace a stable gid of its own', () => {
    const a = createNamespaceGids({ base: 100_000, count: 65_536 });
    const b = createNamespaceGids({ base: 100_000, count: 65_536 });
    expect(a.of('ns-a')).to.equal(b.of('ns-a'));
    expect(a.of('ns-a')).to.not.equal(a.of('ns-b'));
    const tiny = createNamespaceGids({ base: 10, count: 2 });
    expect(new Set([tiny.of('x'), tiny.of('y')]).size).to.equal(2);
    expect(() => tiny.of('z')).to.throw(/in use/);
  });

  it('hides the data dir under a tmpfs and shows the bundle, scratch, secrets and sockets at their paths, environment on the pipe', () => {
    const opts = bwrapOptions({
      platformRoot: '/srv/fg',
      dataDir: '/srv/fg/.fastgshare',
      bundleDir: '/srv/fg/.fastgshare/images/echo/latest',
      scratchDir: '/srv/fg/.fastgshare/replicas/r1/tmp',
      secretsDir: '/srv/fg/.fastgshare/replicas/r1/secrets',
      binds: [{ path: '/srv/fg/.fastgshare/model-cache/ns-a', access: 'rw', group: 'namespace' }],
      env: { PORT: '9000', SECRET_LOOKING: 'x y' },
      uid: 100_001,
      gid: 100_002,
      argv: ['node', 'index.ts'],
      setpriv: '/usr/bin/setpriv',
    });
    const s = opts.join(' ');
    expect(s).to.contain('--ro-bind /srv/fg /srv/fg --perms 0755 --tmpfs /srv/fg/.fastgshare');
    expect(s).to.contain('--bind /srv/fg/.fastgshare/replicas/r1/tmp /tmp');
    expect(s).to.contain('--ro-bind /srv/fg/.fastgshare/replicas/r1/secrets /var/openfaas/secrets');
    expect(s).to.contain('--perms 0755 --dir /srv/fg/.fastgshare/images');
    expect(s).to.contain('--ro-bind /srv/fg/.fastgshare/images/echo/latest /srv/fg/.fastgshare/images/echo/latest');
    expect(s).to.contain('--bind /srv/fg/.fastgshare/model-cache/ns-a /srv/fg/.fastgshare/model-cache/ns-a');
    // the tmpfs comes before what is mounted inside it
    expect(s.indexOf('--tmpfs /srv/fg/.fastgshare')).to.be.lessThan(
      s.indexOf('--ro-bind /srv/fg/.fastgshare/images/echo/latest'),
    );
    expect(s).to.contain('--unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup --clearenv');
    expect(opts.slice(opts.indexOf('SECRET_LOOKING') - 1, opts.indexOf('SECRET_LOOKING') + 2)).to.deep.equal([
      '--setenv',
      'SECRET_LOOKING',
      'x y',
    ]);
    expect(s).to.not.contain('--bind / ');
    expect(
      sandboxCommand({ uid: 100_001, gid: 100_002, argv: ['node', 'index.ts'], setpriv: '/usr/bin/setpriv' }),
    ).to.deep.equal([
      '/usr/bin/setpriv',
      '--reuid',
      '100001',
      '--regid',
      '100002',
      '--clear-groups',
      '--no-new-privs',
      '--bounding-set',
      '-all',
      '--inh-caps',
      '-all',
      '--',
      'node',
      'index.ts',
    ]);
  });
});
