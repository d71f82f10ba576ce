import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { ECHO_BUNDLE, makeSpec, pidAlive, startHarness, waitFor } from './harness.ts';
import { NODE_TOKEN_FILE, type FunctionReplicas } from '../../core/contracts/node-agent.ts';

const AGENT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'agent-process.ts');

describe('fast-manager: restart after an agent died', function () {
  this.timeout(40_000);
  let ts: TestStore;
  let dataDir: string;
  let child: ChildProcess | undefined;
  let bystander: ChildProcess | undefined;
  before(async () => {
    ts = await startTestStore();
    dataDir = await mkdtemp(join(tmpdir(), 'fastgshare-orphans-'));
    await new ImageStore({ root: join(dataDir, 'images') }).put('echo:latest', ECHO_BUNDLE, { fprocess: 'node server.mjs', language: 'test' });
  });
  after(async () => {
    child?.kill('SIGKILL');
    bystander?.kill('SIGKILL');
    await ts.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('kills the replicas a dead agent left running and removes their records, sparing unrelated processes', async () => {
    const node = 'orphan-node';
    child = spawn(process.execPath, ['--import', 'tsx', AGENT_SCRIPT, ts.store.uri, dataDir, node], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolve);
      child!.once('exit', (code) => reject(new Error(`agent process exited with ${code}`)));
    });
    // the agent made its API token in its data dir at start
    const authorization = `Bearer ${(await readFile(join(dataDir, NODE_TOKEN_FILE), 'utf8')).trim()}`;
    const put = await fetch(`${url}/v1/functions/openfaas-fn/echo`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ spec: makeSpec({ name: 'echo' }), replicas: 2 }) });
    expect(put.status).to.equal(200);
    const ready = await waitFor('replicas ready in the child agent', async () => {
      const fns = (await (await fetch(`${url}/v1/functions`, { headers: { authorization } })).json()) as FunctionReplicas[];
      const f = fns[0];
      return f && f.replicas.length === 2 && f.replicas.every((r) => r.state === 'ready') ? f : undefined;
    }, 15_000);
    await waitFor('records written', async () => (await ts.store.models.Replica.countDocuments({ node, state: 'ready' })) === 2);

    // the agent dies without stopping its replicas
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const pids = ready.replicas.map((r) => r.pid!);
    expect(pids.every(pidAlive)).to.equal(true);

    // a stale record whose pid now belongs to some other process must not get that process killed
    bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    await ts.store.models.Replica.create({ replicaId: 'echo-stale', node, namespace: 'openfaas-fn', name: 'echo', pid: bystander.pid, port: 1, state: 'ready' });
    // records of other nodes are not this agent's business
    await ts.store.models.Replica.create({ replicaId: 'other-node-replica', node: 'another-node', namespace: 'openfaas-fn', name: 'echo', pid: bystander.pid, port: 1, state: 'ready' });

    const h = await startHarness(ts.store, { node, dataDir });
    try {
      for (const pid of pids) expect(pidAlive(pid), `replica ${pid}`).to.equal(false);
      expect(pidAlive(bystander.pid!)).to.equal(true);
      expect(await ts.store.models.Replica.countDocuments({ node })).to.equal(0);
      expect(await ts.store.models.Replica.countDocuments({ node: 'another-node' })).to.equal(1);
      expect(h.sink.lines().filter((l) => l.includes('killing a replica left running by a previous agent'))).to.have.length(2);
      expect((await h.fn('echo'))).to.equal(undefined);
    } finally {
      await h.close();
    }
  });
});
