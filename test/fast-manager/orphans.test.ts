import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { ImageStore } from '../../core/images/image-store.ts';
import { ECHO_BUNDLE, fakeReplica, makeSpec, pidAlive, readRecords, startHarness, waitFor } from './harness.ts';
import { NODE_TOKEN_FILE, type FunctionReplicas } from '../../core/contracts/node-agent.ts';
import {
  REPLICA_RECORDS_FILE,
  replicaRecordsPath,
  type ReplicaRecord,
  type ReplicaRecordsFile,
} from '../../fast-manager/records/replica-records.ts';

const AGENT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'agent-process.ts');

const record = (replicaId: string, pid: number, node: string): ReplicaRecord => ({
  replicaId,
  node,
  namespace: 'openfaas-fn',
  name: 'echo',
  pid,
  port: 1,
  state: 'ready',
  restarts: 0,
  startedAt: new Date().toISOString(),
  lastExit: null,
});

describe('fast-manager: restart after an agent died', function () {
  this.timeout(40_000);
  let dataDir: string;
  const children: ChildProcess[] = [];
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fastgshare-orphans-'));
    await new ImageStore({ root: join(dataDir, 'images') }).put('echo:latest', ECHO_BUNDLE, {
      fprocess: 'node server.mjs',
      language: 'test',
    });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps its records in a file of its data dir across a crash; the next agent kills the replicas left running and drops the records, sparing unrelated processes', async () => {
    const node = 'orphan-node';
    const child = spawn(process.execPath, ['--import', 'tsx', AGENT_SCRIPT, dataDir, node], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`agent process exited with ${code}`)));
    });
    // the agent made its API token in its data dir at start
    const authorization = `Bearer ${(await readFile(join(dataDir, NODE_TOKEN_FILE), 'utf8')).trim()}`;
    const put = await fetch(`${url}/v1/functions/openfaas-fn/echo`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ spec: makeSpec({ name: 'echo' }), replicas: 2 }),
    });
    expect(put.status).to.equal(200);
    const ready = await waitFor(
      'replicas ready in the child agent',
      async () => {
        const fns = (await (
          await fetch(`${url}/v1/functions`, { headers: { authorization } })
        ).json()) as FunctionReplicas[];
        const f = fns[0];
        return f && f.replicas.length === 2 && f.replicas.every((r) => r.state === 'ready') ? f : undefined;
      },
      15_000,
    );
    await waitFor(
      'records written',
      async () => (await readRecords(dataDir)).filter((r) => r.state === 'ready').length === 2,
    );

    // the agent dies without stopping its replicas; its records stay on disk
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const pids = ready.replicas.map((r) => r.pid!);
    expect(pids.every(pidAlive)).to.equal(true);
    const left = await readRecords(dataDir);
    expect(left.map((r) => [r.replicaId, r.pid, r.node, r.state]).sort()).to.deep.equal(
      ready.replicas.map((r) => [r.id, r.pid, node, 'ready']).sort(),
    );
    expect((await stat(replicaRecordsPath(dataDir))).mode & 0o777).to.equal(0o600);

    // a stale record whose pid now belongs to some other process must not get that process killed
    const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    children.push(bystander);
    // a replica recorded under the node's earlier name (same data dir, e.g. the hostname changed) is still this data
    // dir's orphan
    const renamed = fakeReplica('echo-renamed');
    children.push(renamed);
    const file = JSON.parse(await readFile(replicaRecordsPath(dataDir), 'utf8')) as ReplicaRecordsFile;
    file.replicas.push(
      record('echo-stale', bystander.pid!, node),
      record('echo-renamed', renamed.pid!, 'old-node-name'),
    );
    await writeFile(replicaRecordsPath(dataDir), JSON.stringify(file));
    // a temporary file of an interrupted write is never read as records: the replica it names is spared
    const inTemp = fakeReplica('echo-in-temp');
    children.push(inTemp);
    const temp = `${REPLICA_RECORDS_FILE}.tmp-999999-1`;
    await writeFile(
      join(dataDir, temp),
      JSON.stringify({ format: 1, node, replicas: [record('echo-in-temp', inTemp.pid!, node)] }),
    );
    await waitFor('fake replicas running', () => [renamed, inTemp].every((c) => pidAlive(c.pid!)));

    const h = await startHarness({ node, dataDir });
    try {
      for (const pid of pids) expect(pidAlive(pid), `replica ${pid}`).to.equal(false);
      expect(pidAlive(renamed.pid!), 'replica recorded under the earlier node name').to.equal(false);
      expect(pidAlive(bystander.pid!), 'bystander').to.equal(true);
      expect(pidAlive(inTemp.pid!), 'process named only in a temporary file').to.equal(true);
      expect(await readRecords(dataDir)).to.deep.equal([]);
      expect((await readdir(dataDir)).filter((n) => n.startsWith(`${REPLICA_RECORDS_FILE}.`))).to.deep.equal([]);
      const lines = h.sink.lines();
      expect(lines.filter((l) => l.includes('killing a replica left running by a previous agent'))).to.have.length(3);
      expect(
        lines.some((l) => l.includes('removed temporary files of an interrupted write') && l.includes(temp)),
      ).to.equal(true);
      expect(lines.some((l) => l.includes('removed stale replica records') && l.includes('removed=4'))).to.equal(true);
      expect(await h.fn('echo')).to.equal(undefined);
    } finally {
      await h.close();
    }
  });
});
