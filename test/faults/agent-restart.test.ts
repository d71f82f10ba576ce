/**
 * The node agent process killed (SIGKILL) and started again on the same port, name and data
 * directory, with the gateway running: the function ends up with exactly the replicas it asked
 * for, the processes the dead agent left behind are gone (never two sets), and calls work.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readGatewayConfig } from '../../core/config.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { silentLogger } from '../../core/logger.ts';
import { startGateway, type Gateway } from '../../gateway/main.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import { nodeCredential } from '../../gateway/nodes/node-token.ts';
import { ECHO_FIXTURE } from '../gateway/harness.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { eventually } from '../helpers/eventually.ts';
import { freePort } from '../../bench/lib/platform.ts';
import { startAgentProcess, type AgentProcess } from './agent-process.ts';

import { readFileSync } from 'node:fs';

/** Running (a zombie waiting to be reaped counts as gone). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe('fault: the node agent restarted', function () {
  this.timeout(60_000);
  let ts: TestStore;
  let dir: string;
  let agent: AgentProcess | undefined;
  let gateway: Gateway | undefined;
  let agentEnv: Record<string, string>;

  before(async () => {
    ts = await startTestStore();
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-fault-agent-'));
    await new ImageStore({ root: join(dir, 'node', 'images') }).put('echo:latest', ECHO_FIXTURE, {
      fprocess: 'node server.mjs',
      language: 'test',
    });
    agentEnv = {
      MONGODB_URI: ts.store.uri,
      FASTGSHARE_DATA_DIR: join(dir, 'node'),
      FASTGSHARE_NODE_PORT: String(await freePort()),
      FASTGSHARE_NODE_NAME: `fault-node-${process.pid}`,
      FASTGSHARE_DRAIN_TIMEOUT_MS: '1000',
    };
    agent = await startAgentProcess(agentEnv);
    gateway = await startGateway({
      config: readGatewayConfig({
        PORT: '0',
        FASTGSHARE_HOST: '127.0.0.1',
        FASTGSHARE_DATA_DIR: dir,
        FASTGSHARE_READY_TIMEOUT_MS: '5000',
      }),
      store: ts.store,
      nodes: [
        createHttpNodeAgentClient(agent.url, { token: nodeCredential({ dataDir: agentEnv.FASTGSHARE_DATA_DIR! }) }),
      ],
      log: silentLogger,
      registry: new Registry(),
      tuning: { reconcileMs: 300, pollMs: 50, countFlushMs: 200 },
    });
  });
  after(async () => {
    await gateway?.close();
    await agent?.kill('SIGTERM');
    await ts?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('ends with exactly the replicas asked for, none left over from the dead agent', async () => {
    const deploy = await fetch(`${gateway!.url}/system/functions`, {
      method: 'POST',
      body: JSON.stringify({
        service: 'pair',
        image: 'echo:latest',
        labels: { 'com.openfaas.scale.min': '2' },
        annotations: {},
      }),
    });
    expect(deploy.status).to.equal(202);
    const readyReplicas = async () => {
      const fns = await createHttpNodeAgentClient(agent!.url, {
        token: nodeCredential({ dataDir: agentEnv.FASTGSHARE_DATA_DIR! }),
      }).listFunctions();
      return fns.find((f) => f.name === 'pair')?.replicas ?? [];
    };
    const first = await eventually(
      async () => {
        const r = await readyReplicas();
        expect(r.filter((x) => x.state === 'ready')).to.have.length(2);
        return r;
      },
      20_000,
      100,
    );
    const oldPids = first.map((r) => r.pid!);

    await agent!.kill('SIGKILL');
    agent = await startAgentProcess(agentEnv);

    const second = await eventually(
      async () => {
        const r = await readyReplicas();
        expect(r.filter((x) => x.state === 'ready')).to.have.length(2);
        return r;
      },
      30_000,
      100,
    );
    expect(second, 'never more than asked for').to.have.length(2);
    for (const r of second) {
      expect(r.pid).to.be.a('number');
      expect(alive(r.pid!)).to.equal(true);
    }
    // whatever the restarted agent did with the old processes, none runs beside the new set
    const adopted = second.filter((r) => oldPids.includes(r.pid!)).length;
    await eventually(
      async () => {
        for (const pid of oldPids)
          if (!second.some((r) => r.pid === pid)) expect(alive(pid), `old replica ${pid} was stopped`).to.equal(false);
      },
      10_000,
      100,
    );
    expect(adopted + second.filter((r) => !oldPids.includes(r.pid!)).length).to.equal(2);

    const res = await eventually(
      async () => {
        const r = await fetch(`${gateway!.url}/function/pair`, { method: 'POST', body: 'after restart' });
        expect(r.status).to.equal(200);
        return r.json() as Promise<{ body: string }>;
      },
      10_000,
      100,
    );
    expect(res.body).to.equal('after restart');
    // the gateway learns of ready replicas by polling the agent (every 50 ms here): the call above
    // needed one of them, the count may trail it by one poll
    await eventually(
      async () => {
        const status = (await (await fetch(`${gateway!.url}/system/function/pair`)).json()) as {
          replicas: number;
          availableReplicas: number;
        };
        expect(status.availableReplicas).to.equal(2);
      },
      5_000,
      100,
    );
  });
});
