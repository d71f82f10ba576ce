/**
 * Classic OpenFaaS functions on a real node agent: a function whose process does not serve HTTP
 * (`faas-cli deploy --fprocess cat`, a bundle whose Dockerfile runs the classic watchdog, or
 * `mode=serializing`) runs under the built-in forking watchdog as the replica's process, in the
 * replica's sandbox (its uid, its view of the files, its secrets at /var/openfaas/secrets), sees
 * `fprocess`, and fails with the reason in its log when it cannot run. With FASTGSHARE_SANDBOX=off
 * the secrets stay in the replica's work dir, named by FASTGSHARE_SECRETS_DIR.
 */
import { expect } from 'chai';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORWARD_TOKEN_HEADER, type ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { startHarness, waitFor, waitReady, type Harness } from './harness.ts';

const WORDCOUNT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'classic', 'wordcount');

/** A call to the replica as the gateway makes it (with the replica's forward token). */
async function invoke(
  r: ReplicaStatus,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(r.url + path, {
    method: 'POST',
    body,
    headers: { [FORWARD_TOKEN_HEADER]: r.forwardToken ?? '', ...headers },
  });
  return { status: res.status, text: await res.text() };
}

const secret = (s: string) => Buffer.from(s).toString('base64');

describe('fast-manager: classic-watchdog functions (one process per request, in the sandbox)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { FASTGSHARE_REPLICA_START_TIMEOUT_MS: '20000' } });
    await h.images.put('wordcount:latest', WORDCOUNT, { fprocess: 'python3 handler.py', language: 'python3' });
  });
  after(async () => {
    await h?.close();
  });

  it('runs `--fprocess cat` on an HTTP image per request instead of crash-looping', async () => {
    await h.apply({ name: 'cat', envProcess: 'cat' }, 1);
    const r = (await waitReady(h, 'cat', 1, 20_000)).replicas[0]!;
    expect(await invoke(r, '/', 'hello from faas-cli invoke')).to.deep.equal({
      status: 200,
      text: 'hello from faas-cli invoke',
    });
    // no token, no answer: the watchdog guards the replica's port like the templates' runtime
    expect((await fetch(r.url, { method: 'POST', body: 'x' })).status).to.equal(403);
    const logs = await h.logs('name=cat&tail=20');
    expect(logs.map((l) => l.text).join('\n')).to.contain(
      'replica runs "cat" once per request under the built-in watchdog',
    );
    expect(r.restarts).to.equal(0);
    await h.call('DELETE', '/v1/functions/openfaas-fn/cat');
  });

  it("forks inside the replica's sandbox: its own uid, fprocess and Http_* set, no forward token, not the agent's token", async () => {
    await h.apply(
      {
        name: 'probe',
        envProcess: `sh -c 'echo "uid=$(id -u)"; echo "fprocess=$fprocess"; echo "path=$Http_Path"; echo "secrets=$FASTGSHARE_SECRETS_DIR"; echo "token=$FASTGSHARE_FORWARD_TOKEN"; cat "$DATA/node-agent.token" >/dev/null 2>&1 && echo data=visible || echo data=hidden'`,
        envVars: { DATA: h.dataDir },
      },
      1,
    );
    const r = (await waitReady(h, 'probe', 1, 20_000)).replicas[0]!;
    const res = await invoke(r, '/sub?x=1', '');
    expect(res.status).to.equal(200);
    const seen = Object.fromEntries(
      res.text
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Number(seen.uid)).to.be.greaterThan(0);
    expect(seen.fprocess).to.match(/^sh -c 'echo "uid=/);
    expect(seen.path).to.equal('/sub');
    expect(seen.secrets).to.equal('/var/openfaas/secrets');
    expect(seen.token).to.equal('');
    expect(seen.data).to.equal('hidden');
    await h.call('DELETE', '/v1/functions/openfaas-fn/probe');
  });

  it('runs a Python bundle whose Dockerfile uses the classic watchdog; it reads its secret at /var/openfaas/secrets/<name>', async () => {
    await h.apply({ name: 'wordcount', image: 'wordcount:latest', secrets: { 'api-key': secret('k3y-value\n') } }, 1);
    const r = (await waitReady(h, 'wordcount', 1, 20_000)).replicas[0]!;
    const ok = await invoke(r, '/count', JSON.stringify({ text: 'a b c d', secret: 'api-key' }), {
      'x-call-id': 'c-1',
    });
    expect(ok.status).to.equal(200);
    expect(JSON.parse(ok.text)).to.deep.include({
      words: 4,
      method: 'POST',
      path: '/count',
      callId: 'c-1',
      fprocess: 'python3 handler.py',
      secret: 'k3y-value\n',
      forwardToken: null,
    });
    const bad = await invoke(r, '/', '{broken');
    expect(bad.status).to.equal(500);
    expect(bad.text)
      .to.match(/^exit status 1\n/)
      .and.to.contain('JSONDecodeError');
    await h.call('DELETE', '/v1/functions/openfaas-fn/wordcount');
  });

  it('honours mode=serializing from the environment, and refuses mode=static with the reason in the log', async () => {
    await h.apply(
      { name: 'upper', envProcess: `sh -c 'tr a-z A-Z'`, envVars: { mode: 'serializing', exec_timeout: '2s' } },
      1,
    );
    const r = (await waitReady(h, 'upper', 1, 20_000)).replicas[0]!;
    expect(await invoke(r, '/', 'shout')).to.deep.equal({ status: 200, text: 'SHOUT' });
    await h.call('DELETE', '/v1/functions/openfaas-fn/upper');

    await h.apply({ name: 'static', envVars: { mode: 'static' } }, 1);
    const crashed = await waitFor(
      'a crash of static',
      async () => (await h.fn('static'))?.replicas[0]?.lastExit,
      10_000,
    );
    expect(crashed.reason).to.contain('mode "static" in the function\'s environment is not supported');
    await h.call('DELETE', '/v1/functions/openfaas-fn/static');
  });

  it('fails to start, saying why, when the command is not there or a setting is wrong', async () => {
    await h.apply({ name: 'nocmd', envProcess: 'no-such-command --flag' }, 1);
    const failed = await waitFor('a failed start', async () => (await h.fn('nocmd'))?.replicas[0]?.lastExit, 15_000);
    expect(failed.reason).to.match(
      /^could not start "no-such-command": spawn no-such-command ENOENT \(run once per request under the built-in watchdog/,
    );
    expect((await h.fn('nocmd'))?.replicas[0]?.state).to.not.equal('ready');
    await h.call('DELETE', '/v1/functions/openfaas-fn/nocmd');

    await h.apply({ name: 'badtimeout', envProcess: 'cat', envVars: { exec_timeout: 'ten seconds' } }, 1);
    await waitFor(
      'the reason in the log',
      async () =>
        (await h.logs('name=badtimeout&tail=50')).some((l) =>
          l.text.includes('exec_timeout: "ten seconds" is not a duration'),
        ),
      15_000,
    );
    await h.call('DELETE', '/v1/functions/openfaas-fn/badtimeout');
  });
});

describe('fast-manager: classic functions with FASTGSHARE_SANDBOX=off', function () {
  this.timeout(60_000);
  it("keeps secrets in the replica's work dir and names it in FASTGSHARE_SECRETS_DIR", async () => {
    const h = await startHarness({ env: { FASTGSHARE_SANDBOX: 'off', FASTGSHARE_REPLICA_START_TIMEOUT_MS: '20000' } });
    try {
      await h.apply(
        {
          name: 'where',
          envProcess: `sh -c 'echo "$FASTGSHARE_SECRETS_DIR"; cat "$FASTGSHARE_SECRETS_DIR/tok"'`,
          secrets: { tok: secret('unsandboxed') },
        },
        1,
      );
      const r = (await waitReady(h, 'where', 1, 20_000)).replicas[0]!;
      const res = await invoke(r, '/', '');
      expect(res.status).to.equal(200);
      expect(res.text).to.equal(`${join(h.dataDir, 'replicas', r.id, 'secrets')}\nunsandboxed`);
    } finally {
      await h.close();
    }
  });
});
