/**
 * The agent's replica records file (fast-manager/records/replica-records.ts): records survive a
 * restart and the next agent reaps the orphans; the file is replaced atomically (a temporary file
 * or a truncated/corrupt main file never crashes the agent and is reported), mode 0600; writes of
 * one replica stay in order; bursts are coalesced; flush() waits; failed writes are retried.
 * And one agent per data dir (fast-manager/records/data-dir-lock.ts).
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureSink, createLogger } from '../../core/logger.ts';
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { createProcReader } from '../../fast-manager/usage/proc.ts';
import { writeFileAtomic } from '../../core/fs/atomic-file.ts';
import {
  createReplicaRecords,
  REPLICA_RECORDS_FILE,
  replicaRecordsPath,
  type ReplicaRecordsFile,
  type ReplicaRecordsOptions,
} from '../../fast-manager/records/replica-records.ts';
import { AGENT_LOCK_FILE, lockAgentDataDir, processStart } from '../../fast-manager/records/data-dir-lock.ts';
import { fakeReplica, pidAlive, readRecords, startHarness, waitFor, waitReady } from './harness.ts';

const proc = createProcReader();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const status = (id: string, over: Partial<ReplicaStatus> = {}): ReplicaStatus => ({
  id,
  name: 'echo',
  namespace: 'openfaas-fn',
  node: 'n1',
  url: 'http://127.0.0.1:1',
  pid: null,
  state: 'starting',
  restarts: 0,
  startedAt: '2024-01-01T00:00:00.000Z',
  usage: { cpu: 0, totalMemoryBytes: 0 },
  ...over,
});

describe('fast-manager: replica records file', function () {
  this.timeout(20_000);
  let dir: string;
  let sink: CaptureSink;
  const children: ChildProcess[] = [];
  const make = (over: Partial<ReplicaRecordsOptions> = {}) =>
    createReplicaRecords({
      dataDir: dir,
      node: 'n1',
      proc,
      log: createLogger({ sink, level: 'debug' }),
      killTimeoutMs: 1_000,
      ...over,
    });
  const logged = (level: string, text: string) =>
    sink.records.filter((r) => r.level === level && r.message.includes(text));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-records-'));
    sink = new CaptureSink();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the records across a restart: the next agent kills the replicas still running, spares a reused pid and empties the file', async () => {
    const a = fakeReplica('r-a');
    const b = fakeReplica('r-b');
    const other = fakeReplica('someone-else'); // a reused pid: another process, not r-c
    children.push(a, b, other);
    const first = make();
    expect(await first.reapOrphans()).to.deep.equal({ killed: [], removed: 0 });
    first.save(status('r-a', { pid: a.pid!, state: 'ready' }), 40001);
    first.save(status('r-b', { pid: b.pid!, state: 'ready' }), 40002);
    first.save(status('r-c', { pid: other.pid!, state: 'ready' }), 40003);
    first.save(status('r-gone', { pid: 2 ** 22 + 7, state: 'backoff' }), null);
    first.save(status('r-stopped', { pid: a.pid!, state: 'ready' }), 40004);
    first.remove('r-stopped');
    await first.flush();
    // the agent dies here: its records are on disk
    const onDisk = await readRecords(dir);
    expect(onDisk.map((r) => r.replicaId)).to.deep.equal(['r-a', 'r-b', 'r-c', 'r-gone']);
    expect(onDisk[0]).to.deep.equal({
      replicaId: 'r-a',
      node: 'n1',
      namespace: 'openfaas-fn',
      name: 'echo',
      pid: a.pid,
      port: 40001,
      state: 'ready',
      restarts: 0,
      startedAt: '2024-01-01T00:00:00.000Z',
      lastExit: null,
    });

    const second = make();
    const r = await second.reapOrphans();
    expect(r.killed.sort()).to.deep.equal(['r-a', 'r-b']);
    expect(r.removed).to.equal(4);
    await waitFor('orphans dead', () => !pidAlive(a.pid!) && !pidAlive(b.pid!));
    expect(pidAlive(other.pid!)).to.equal(true);
    expect(await readRecords(dir)).to.deep.equal([]);
    expect(logged('warn', 'killing a replica left running by a previous agent')).to.have.length(2);
    // and a third start finds nothing to do
    expect(await make().reapOrphans()).to.deep.equal({ killed: [], removed: 0 });
  });

  it('does not take the records of its own replicas (saved before the reap) for stale ones', async () => {
    const mine = fakeReplica('r-mine');
    children.push(mine);
    const first = make();
    first.save(status('r-mine', { pid: mine.pid!, state: 'ready' }), 1);
    await first.flush();
    const r = await first.reapOrphans();
    expect(r).to.deep.equal({ killed: [], removed: 0 });
    expect(pidAlive(mine.pid!)).to.equal(true);
    expect((await readRecords(dir)).map((x) => x.replicaId)).to.deep.equal(['r-mine']);
  });

  it('writes the file 0600 whatever the umask, and a missing data dir is made', async () => {
    const old = process.umask(0);
    try {
      const nested = join(dir, 'not', 'yet');
      const records = make({ dataDir: nested });
      records.save(status('r1'), null);
      await records.flush();
      expect((await stat(replicaRecordsPath(nested))).mode & 0o777).to.equal(0o600);
      expect((await readRecords(nested)).map((x) => x.replicaId)).to.deep.equal(['r1']);
    } finally {
      process.umask(old);
    }
  });

  it('never reads a leftover temporary file as the records: removes it and says so', async () => {
    const replica = fakeReplica('r-temp');
    children.push(replica);
    const good: ReplicaRecordsFile = { format: 1, node: 'n1', replicas: [] };
    await writeFile(replicaRecordsPath(dir), JSON.stringify(good));
    const temp = `${REPLICA_RECORDS_FILE}.tmp-424242-3`;
    const inTemp: ReplicaRecordsFile = {
      format: 1,
      node: 'n1',
      replicas: [
        {
          replicaId: 'r-temp',
          node: 'n1',
          namespace: 'openfaas-fn',
          name: 'echo',
          pid: replica.pid!,
          port: 1,
          state: 'ready',
          restarts: 0,
          startedAt: '',
          lastExit: null,
        },
      ],
    };
    await writeFile(join(dir, temp), JSON.stringify(inTemp)); // written, not yet renamed when the agent died
    // half-written
    await writeFile(join(dir, `${REPLICA_RECORDS_FILE}.tmp-424243-1`), JSON.stringify(inTemp).slice(0, -9));
    const r = await make().reapOrphans();
    expect(r).to.deep.equal({ killed: [], removed: 0, tempFiles: [temp, `${REPLICA_RECORDS_FILE}.tmp-424243-1`] });
    expect(pidAlive(replica.pid!)).to.equal(true);
    expect(await readdir(dir)).to.deep.equal([REPLICA_RECORDS_FILE]);
    expect(logged('warn', 'removed temporary files of an interrupted write')).to.have.length(1);
  });

  for (const [what, content] of [
    ['truncated', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['empty', () => ''],
    ['binary garbage', () => '\u0000\u0001\u00ff{{'],
    ['of an unknown format', (text: string) => text.replace(/"format": *1/, '"format": 99')],
    ['of the wrong shape', () => JSON.stringify({ format: 1, node: 'n1', replicas: 'no' })],
  ] as const) {
    it(`starts from an empty set when the file is ${what}: logs an error, keeps the file aside and writes a good one again`, async () => {
      const replica = fakeReplica('r-x');
      children.push(replica);
      const first = make();
      first.save(status('r-x', { pid: replica.pid!, state: 'ready' }), 1);
      await first.flush();
      const text = await readFile(replicaRecordsPath(dir), 'utf8');
      const bad = content(text);
      await writeFile(replicaRecordsPath(dir), bad);

      const second = make();
      const r = await second.reapOrphans();
      expect(r.killed).to.deep.equal([]);
      expect(r.removed).to.equal(0);
      expect(r.unreadable).to.be.a('string').and.not.equal('');
      expect(pidAlive(replica.pid!)).to.equal(true); // nothing to go by: not reaped, but said so
      const errors = logged('error', 'the replica records file is unreadable');
      expect(errors).to.have.length(1);
      expect(errors[0]!.fields.reason).to.equal(r.unreadable);
      const aside = errors[0]!.fields.keptAs as string;
      expect(await readFile(aside, 'utf8')).to.equal(bad);
      // the main file is good again and the agent goes on writing it
      expect(await readRecords(dir)).to.deep.equal([]);
      second.save(status('r-y'), null);
      await second.flush();
      expect((await readRecords(dir)).map((x) => x.replicaId)).to.deep.equal(['r-y']);
    });
  }

  it('skips (and reports) single unreadable entries, reaping the others', async () => {
    const replica = fakeReplica('r-ok');
    children.push(replica);
    await writeFile(
      replicaRecordsPath(dir),
      JSON.stringify({
        format: 1,
        node: 'n1',
        replicas: [{ nonsense: true }, { replicaId: 'r-ok', pid: replica.pid }, { replicaId: 'r-bad-pid', pid: 'x' }],
      }),
    );
    const r = await make().reapOrphans();
    expect(r).to.deep.equal({ killed: ['r-ok'], removed: 1 });
    expect(logged('warn', 'skipped unreadable entries')[0]!.fields).to.include({ skipped: 2, kept: 1 });
  });

  it('the agent starts with a corrupt records file and says so', async () => {
    await writeFile(replicaRecordsPath(dir), '{"format":1,"node":"n1","replicas":[{"replicaId":"r1","pi');
    const h = await startHarness({ dataDir: dir });
    try {
      expect((await h.call('GET', '/v1/node')).status).to.equal(200);
      expect(
        h.sink.records.some((r) => r.level === 'error' && r.message.includes('the replica records file is unreadable')),
      ).to.equal(true);
      await h.apply({ name: 'echo' }, 1);
      await waitFor('a record of the new replica', async () => (await readRecords(dir)).length === 1);
    } finally {
      await h.close();
    }
  });

  it('keeps the writes of one replica in order, one write at a time, and ends with its latest state', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const written: ReplicaRecordsFile[] = [];
    const records = make({
      minWriteIntervalMs: 5,
      async writeFile(file, data) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(Math.random() * 15); // slow, uneven writes
        await writeFileAtomic(file, data);
        written.push(JSON.parse(data) as ReplicaRecordsFile);
        inFlight--;
      },
    });
    const states = ['starting', 'ready', 'unhealthy', 'backoff'] as const;
    for (let i = 0; i < 60; i++) {
      records.save(status('r1', { restarts: i, state: states[i % states.length]!, pid: 1000 + i }), 2000 + i);
      if (i % 3 === 0) records.save(status('r2', { restarts: i }), null);
      if (i % 7 === 0) await sleep(Math.random() * 10);
    }
    records.remove('r2');
    await records.flush();
    expect(maxInFlight).to.equal(1);
    // every write holds a newer (or the same) state of r1 than the one before it
    const seen = written.map((f) => f.replicas.find((r) => r.replicaId === 'r1')!.restarts);
    expect(seen).to.deep.equal([...seen].sort((x, y) => x - y));
    const last = await readRecords(dir);
    expect(last).to.have.length(1);
    expect(last[0]).to.include({ replicaId: 'r1', restarts: 59, state: states[59 % 4], pid: 1059, port: 2059 });
    expect(written.at(-1)!.replicas).to.deep.equal(last);
  });

  it('coalesces a write storm: a lone change is written at once, a burst at most once per interval', async () => {
    let writes = 0;
    const counting = (minWriteIntervalMs: number) =>
      make({
        minWriteIntervalMs,
        async writeFile(file, data) {
          writes++;
          await writeFileAtomic(file, data);
        },
      });
    // a lone change does not wait for the interval (10 s here)
    counting(10_000).save(status('r0'), null);
    await waitFor('the lone change written', () => writes === 1, 2_000, 2);
    writes = 0;
    const records = counting(100);
    const started = Date.now();
    for (let i = 0; i < 1000; i++) records.save(status(`r${i % 50}`, { restarts: i }), i);
    while (Date.now() - started < 500) {
      for (let i = 0; i < 20; i++) records.save(status(`r${i}`, { restarts: 5000 + i }), i);
      await sleep(1);
    }
    await records.flush();
    const elapsed = Date.now() - started;
    // ~ one write per 100 ms (plus the flush's), where one per change would be thousands
    expect(writes)
      .to.be.at.least(2)
      .and.at.most(Math.ceil(elapsed / 100) + 2);
    expect((await readRecords(dir)).find((r) => r.replicaId === 'r19')?.restarts).to.equal(5019);
  });

  it('flush() waits for the pending writes, without waiting out the coalescing interval', async () => {
    const records = make({
      minWriteIntervalMs: 5_000,
      async writeFile(file, data) {
        await sleep(30);
        await writeFileAtomic(file, data);
      },
    });
    records.save(status('r1'), null);
    records.save(status('r2'), null); // in the interval after r1's write started
    const t0 = Date.now();
    await records.flush();
    expect(Date.now() - t0).to.be.below(1_000);
    expect((await readRecords(dir)).map((r) => r.replicaId)).to.deep.equal(['r1', 'r2']);
    records.remove('r1');
    await records.flush();
    expect((await readRecords(dir)).map((r) => r.replicaId)).to.deep.equal(['r2']);
  });

  it('logs a failed write once and retries it until it succeeds', async () => {
    let failures = 3;
    const records = make({
      retryMs: 20,
      async writeFile(file, data) {
        if (failures > 0) {
          failures--;
          throw new Error('disk full');
        }
        await writeFileAtomic(file, data);
      },
    });
    records.save(status('r1'), null);
    await records.flush(); // resolves after a failed attempt; does not throw
    await waitFor('written after retries', async () => (await readRecords(dir)).length === 1, 2_000);
    expect(failures).to.equal(0);
    expect(logged('warn', 'cannot write the replica records file')).to.have.length(1);
    expect(logged('info', 'replica records file written again')).to.have.length(1);
  });

  it('fails the reap (so the agent does not start) when the emptied file cannot be written', async () => {
    await writeFile(replicaRecordsPath(dir), JSON.stringify({ format: 1, node: 'n1', replicas: [] }));
    const records = make({
      async writeFile() {
        throw new Error('read-only file system');
      },
    });
    await records.reapOrphans().then(
      () => expect.fail('should fail'),
      (err: Error) => expect(err.message).to.equal('read-only file system'),
    );
  });
});

describe('fast-manager: one node agent per data dir', function () {
  this.timeout(20_000);
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-lock-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a second agent on a data dir in use (it would reap the first one's replicas), and frees the dir on close", async () => {
    const first = await startHarness({ dataDir: dir });
    try {
      await first.apply({ name: 'echo' }, 1);
      const replica = (await waitReady(first, 'echo', 1)).replicas[0]!;
      await waitFor('its record', async () => (await readRecords(dir))[0]?.state === 'ready');
      await startHarness({ dataDir: dir }).then(
        async (h) => {
          await h.close();
          expect.fail('the second agent started');
        },
        (err: Error) =>
          expect(err.message).to.contain(`the data dir ${dir} is in use by the node agent in process ${process.pid}`),
      );
      // the first agent's replica and records are untouched
      expect((await first.fn('echo'))?.replicas[0]).to.include({ id: replica.id, pid: replica.pid, state: 'ready' });
      expect(pidAlive(replica.pid!)).to.equal(true);
      expect((await readRecords(dir)).map((r) => r.replicaId)).to.deep.equal([replica.id]);
    } finally {
      await first.close();
    }
    expect(await readdir(dir)).to.not.include(AGENT_LOCK_FILE);
    const again = await startHarness({ dataDir: dir });
    await again.close();
  });

  it('takes over the lock of an agent that is gone, or whose pid another process now has', async () => {
    const gone = fakeReplica('x');
    await new Promise((r) => {
      gone.once('exit', r);
      gone.kill('SIGKILL');
    });
    await writeFile(join(dir, AGENT_LOCK_FILE), JSON.stringify({ pid: gone.pid, start: '12345' }));
    await (await lockAgentDataDir(dir)).release();
    const reused = fakeReplica('y');
    children.push(reused);
    await waitFor('running', () => processStart(reused.pid!) !== undefined);
    await writeFile(join(dir, AGENT_LOCK_FILE), JSON.stringify({ pid: reused.pid, start: '1' }));
    const lock = await lockAgentDataDir(dir);
    expect(JSON.parse(await readFile(join(dir, AGENT_LOCK_FILE), 'utf8'))).to.deep.equal({
      pid: process.pid,
      start: processStart('self'),
    });
    await lock.release();
    // a live holder keeps it
    await writeFile(join(dir, AGENT_LOCK_FILE), JSON.stringify({ pid: reused.pid, start: processStart(reused.pid!) }));
    await lockAgentDataDir(dir).then(
      () => expect.fail('took a live lock'),
      (err: Error) => expect(err.message).to.contain(`in use by the node agent in process ${reused.pid}`),
    );
  });
});
