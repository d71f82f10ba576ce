/**
 * The CLI as a real child process against a running gateway + node agent + embedded store:
 * build, login, deploy, list, describe, invoke, remove.
 */
import { expect } from 'chai';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { readGatewayConfig, readNodeConfig } from '../../core/config.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { silentLogger } from '../../core/logger.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { startNodeAgent, type NodeAgent } from '../../fast-manager/main.ts';
import { startGateway, type Gateway } from '../../gateway/main.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { runCli } from './cli-process.ts';

const PASSWORD = 'e2e-password-123';

describe('fastgshare CLI end to end (real processes)', function () {
  this.timeout(60_000);
  let testStore: TestStore;
  let root: string;
  let project: string;
  let images: ImageStore;
  let agent: NodeAgent;
  let gateway: Gateway;
  let env: Record<string, string>;

  before(async () => {
    testStore = await startTestStore();
    root = await mkdtemp(join(tmpdir(), 'fastgshare-cli-e2e-'));
    const dataDir = join(root, 'data');
    images = new ImageStore({ root: join(dataDir, 'images') });
    agent = await startNodeAgent({
      config: readNodeConfig(
        { FASTGSHARE_DATA_DIR: join(root, 'node'), FASTGSHARE_NODE_PORT: '0', FASTGSHARE_DRAIN_TIMEOUT_MS: '2000' },
        `cli-e2e-${process.pid}`,
      ),
      images,
      log: silentLogger,
      registry: new Registry(),
      tuning: { drainGraceMs: 150, startPollMs: 30, healthIntervalMs: 200, usageIntervalMs: 200 },
    });
    gateway = await startGateway({
      config: readGatewayConfig({
        PORT: '0',
        FASTGSHARE_HOST: '127.0.0.1',
        FASTGSHARE_DATA_DIR: dataDir,
        FASTGSHARE_ADMIN_PASSWORD: PASSWORD,
        FASTGSHARE_READY_TIMEOUT_MS: '8000',
      }),
      store: testStore.store,
      nodes: [createHttpNodeAgentClient(agent.url, { token: agent.token })],
      log: silentLogger,
      registry: new Registry(),
      tuning: { reconcileMs: 500, pollMs: 100, countFlushMs: 200 },
    });
    project = join(root, 'project');
    await mkdir(project);
    await cp(join(PLATFORM_ROOT, 'functions', 'echo'), join(project, 'echo'), { recursive: true });
    await writeFile(
      join(project, 'stack.yml'),
      `version: 1.0\nprovider:\n  name: openfaas\n  gateway: ${gateway.url}\nfunctions:\n  echo:\n    lang: node-http\n    handler: ./echo\n    image: e2e/echo:1\n    labels:\n      com.openfaas.scale.min: "1"\n`,
    );
    env = { HOME: join(root, 'home'), OPENFAAS_CONFIG: join(root, 'openfaas'), FASTGSHARE_DATA_DIR: dataDir };
  });

  after(async () => {
    await gateway?.close();
    await agent?.close();
    await testStore?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  const cli = (args: string[], stdin?: string) => runCli(args, { cwd: project, env, stdin });

  async function waitReady(): Promise<void> {
    const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${gateway.url}/system/function/echo`, { headers: { authorization: auth } });
      if (res.ok && ((await res.json()) as { availableReplicas: number }).availableReplicas > 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('echo did not become ready');
  }

  it('builds the stack into the image store', async () => {
    const r = await cli(['build']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('[echo] build context written to build/echo');
    expect(r.stdout).to.contain('[echo] image e2e/echo:1 stored');
    const bundle = await images.resolve('e2e/echo:1');
    expect(bundle.manifest.fprocess).to.equal('node --import tsx index.ts');
  });

  it('refuses to deploy without credentials and says to log in', async () => {
    const r = await cli(['deploy']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('run `fastgshare login');
  });

  it('logs in with --password-stdin into the faas-cli config file, rejecting a wrong password', async () => {
    const wrong = await cli(['login', '-g', gateway.url, '-u', 'admin', '--password-stdin'], 'not-the-password\n');
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.contain('either the user name or the password is incorrect');
    const r = await cli(['login', '-g', gateway.url, '-u', 'admin', '--password-stdin'], `${PASSWORD}\n`);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`credentials saved for admin ${gateway.url}`);
    const doc = parse(await readFile(join(root, 'openfaas', 'config.yml'), 'utf8'));
    expect(doc.auths).to.deep.equal([
      { gateway: gateway.url, auth: 'basic', token: Buffer.from(`admin:${PASSWORD}`).toString('base64') },
    ]);
  });

  it('deploys, lists, describes and invokes the function', async () => {
    const deploy = await cli(['deploy']);
    expect(deploy.code, deploy.stderr).to.equal(0);
    expect(deploy.stdout).to.contain('Deploying: echo.');
    expect(deploy.stdout).to.contain(`URL: ${gateway.url}/function/echo`);
    await waitReady();

    const list = await cli(['list']);
    expect(list.code, list.stderr).to.equal(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^Function\s+Invocations\s+Replicas$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/))).to.deep.equal([['echo', '0', '1']]);

    const describe = await cli(['describe', 'echo']);
    expect(describe.stdout).to.match(/Status:\s+Ready/);
    expect(describe.stdout).to.match(/Image:\s+e2e\/echo:1/);

    const invoke = await cli(['invoke', 'echo', '-H', 'Content-Type: text/x-e2e'], 'hello from the CLI');
    expect(invoke.code, invoke.stderr).to.equal(0);
    expect(invoke.stdout).to.equal('hello from the CLI');
    const get = await cli(['invoke', 'echo', '-m', 'GET', '--query', 'a=1', '--query', 'b=2']);
    expect(JSON.parse(get.stdout)).to.deep.include({ method: 'GET', path: '/', query: { a: '1', b: '2' } });
  });

  it('reports a failed invocation on stderr with exit code 1', async () => {
    const r = await cli(['invoke', 'nope'], 'x');
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/unexpected status code: 404/);
  });

  it('removes the function, and says so when there is none', async () => {
    const r = await cli(['remove', 'echo']);
    expect(r.code, r.stderr).to.equal(0);
    const list = await cli(['list']);
    expect(list.stdout.trim().split('\n')).to.have.length(1);
    const again = await cli(['remove', 'echo']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('No existing function to remove');
  });

  it('says the gateway is unreachable and how to start one', async () => {
    const r = await cli(['list', '-g', 'http://127.0.0.1:9']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('cannot reach the gateway at http://127.0.0.1:9: is `fastgshare up` running?');
  });
});
