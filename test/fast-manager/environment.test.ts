import { expect } from 'chai';
import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startHarness, waitFor, waitReady, type Harness } from './harness.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';

describe('fast-manager: replica environment and secrets', function () {
  this.timeout(30_000);
  let h: Harness;
  const SECRET_IN_AGENT = 'FASTGSHARE_TEST_AGENT_ONLY_SECRET';
  before(async () => {
    process.env[SECRET_IN_AGENT] = 'do-not-leak';
    h = await startHarness();
  });
  after(async () => {
    delete process.env[SECRET_IN_AGENT];
    await h.close();
  });

  it('gives a replica its envVars and platform variables but none of the agent environment', async () => {
    await h.apply({ name: 'envy', envVars: { MODEL: 'ocr', PORT: '1', NODE_ENV: 'staging' } }, 1);
    const r = (await waitReady(h, 'envy', 1)).replicas[0]!;
    const env = (await (await fetch(`${r.url}/env`)).json()) as Record<string, string>;
    expect(env.MODEL).to.equal('ocr');
    expect(env.PORT).to.equal(new URL(r.url).port);
    expect(env.NODE_ENV).to.equal('staging');
    expect(env.FASTGSHARE_FUNCTION).to.equal('envy');
    expect(env.FASTGSHARE_NAMESPACE).to.equal('openfaas-fn');
    expect(env.FASTGSHARE_REPLICA_ID).to.equal(r.id);
    // in its sandbox: its secrets where OpenFaaS functions look, its scratch space at /tmp
    expect(env.FASTGSHARE_SECRETS_DIR).to.equal('/var/openfaas/secrets');
    expect(env.TMPDIR).to.equal('/tmp');
    expect(env.PATH!.split(':')[0]).to.equal(join(PLATFORM_ROOT, 'node_modules', '.bin'));
    expect(env.PATH).to.contain(process.env.PATH!.split(':')[0]);
    expect(env.HOME).to.equal('/tmp'); // the agent's home is not in the sandbox
    expect(env).to.not.have.property(SECRET_IN_AGENT);
    // fprocess: the function's command line, as OpenFaaS sets it
    expect(env.fprocess).to.equal('node server.mjs');
    const allowed = [
      'MODEL',
      'PORT',
      'NODE_ENV',
      'HOME',
      'PATH',
      'TMPDIR',
      'PWD',
      'FASTGSHARE_FUNCTION',
      'FASTGSHARE_NAMESPACE',
      'FASTGSHARE_REPLICA_ID',
      'FASTGSHARE_SECRETS_DIR',
      'FASTGSHARE_FORWARD_TOKEN',
      'fprocess',
    ];
    // node itself may add nothing but these; anything else would have leaked from the agent
    expect(Object.keys(env).filter((k) => !allowed.includes(k))).to.deep.equal([]);
  });

  it('runs the fprocess with the bundle as working directory, or envProcess when given', async () => {
    // a deploy-time fprocess that serves $PORT itself says so with mode=http (otherwise it would run once per request,
    // fast-manager/watchdog/mode.ts)
    await h.apply(
      {
        name: 'custom',
        envProcess: `node -e "require('http').createServer((q, s) => s.end(process.cwd() + ' ' + process.argv.length)).listen(process.env.PORT)"`,
        envVars: { mode: 'http' },
      },
      1,
    );
    // the quoted script stays one argument (no shell), and the bundle is the working directory
    const r = (await waitReady(h, 'custom', 1)).replicas[0]!;
    const [cwd, argc] = (await (await fetch(r.url)).text()).split(' ');
    expect(cwd).to.equal(join(h.dataDir, 'images', 'echo', 'latest'));
    expect(argc).to.equal('1');
    await h.call('DELETE', '/v1/functions/openfaas-fn/custom');
  });

  it('writes secrets as 0600 files in a 0700 directory, decoded, and removes them with the replica', async () => {
    const raw = Buffer.from([0, 1, 2, 250, 255]);
    await h.apply(
      {
        name: 'secretive',
        secrets: { 'api-key': Buffer.from('s3cr3t\n').toString('base64'), 'bin.blob': raw.toString('base64') },
      },
      1,
    );
    const r = (await waitReady(h, 'secretive', 1)).replicas[0]!;
    expect(await (await fetch(`${r.url}/secret/api-key`)).text()).to.equal('s3cr3t\n');
    expect(Buffer.from(await (await fetch(`${r.url}/secret/bin.blob`)).arrayBuffer())).to.deep.equal(raw);
    const dir = join(h.dataDir, 'replicas', r.id, 'secrets');
    // given to the replica's own uid, read-only (fast-manager/sandbox/replica-files.ts)
    expect((await stat(dir)).mode & 0o777).to.equal(0o500);
    expect((await readdir(dir)).sort()).to.deep.equal(['api-key', 'bin.blob']);
    for (const f of ['api-key', 'bin.blob']) expect((await stat(join(dir, f))).mode & 0o777).to.equal(0o400);
    await h.call('DELETE', '/v1/functions/openfaas-fn/secretive');
    await waitFor('workspace removed', async () =>
      stat(join(h.dataDir, 'replicas', r.id)).then(
        () => false,
        () => true,
      ),
    );
  });

  it('rejects a secret that is not base64 or has a bad name', async () => {
    const bad = await h.call<{ code: string; message: string }>('PUT', '/v1/functions/openfaas-fn/x', {
      spec: {
        name: 'x',
        namespace: 'openfaas-fn',
        image: 'echo:latest',
        envVars: {},
        labels: {},
        annotations: {},
        secrets: { k: 'not base64!' },
        readOnlyRootFilesystem: false,
      },
      replicas: 1,
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.message).to.contain('spec.secrets.k');
    const badName = await h.call<{ code: string }>('PUT', '/v1/functions/openfaas-fn/x', {
      spec: {
        name: 'x',
        namespace: 'openfaas-fn',
        image: 'echo:latest',
        envVars: {},
        labels: {},
        annotations: {},
        secrets: { '../etc': 'YQ==' },
        readOnlyRootFilesystem: false,
      },
      replicas: 1,
    });
    expect(badName.status).to.equal(400);
    expect(badName.body.code).to.equal('invalid_name');
  });
});
