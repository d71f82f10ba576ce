import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../cli/main.ts';

function io(stdin = '') {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string | Uint8Array) => (out += s.toString()) },
      stderr: { write: (s: string | Uint8Array) => (err += s.toString()) },
      stdin: Readable.from([Buffer.from(stdin)]),
    },
    out: () => out,
    err: () => err,
  };
}

describe('cli/main', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-main-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (argv: string[], t = io(), env: Record<string, string> = {}) =>
    main({
      argv,
      env: { OPENFAAS_CONFIG: join(dir, 'cfg'), ...env },
      io: t.io,
      cwd: dir,
      home: dir,
      stopSignal: () => new Promise(() => {}),
    });

  it('prints help with exit code 0 and rejects an unknown command with 1', async () => {
    const help = io();
    expect(await run(['--help'], help)).to.equal(0);
    expect(help.out()).to.contain('invoke [options] <name>');
    const unknown = io();
    expect(await run(['frobnicate'], unknown)).to.equal(1);
    expect(unknown.err()).to.contain("unknown command 'frobnicate'");
  });

  it('turns bad input into one clear line and exit code 1', async () => {
    const t = io();
    expect(await run(['scale', 'echo', '--replicas', 'many'], t)).to.equal(1);
    expect(t.err()).to.equal('Error: --replicas "many" must be a whole number >= 0\n');
    const noFrom = io();
    expect(await run(['build', '--image', 'x:1'], noFrom)).to.equal(1);
    expect(noFrom.err()).to.contain('--image is only used with --from');
    const noStack = io();
    expect(await run(['build'], noStack)).to.equal(1);
    expect(noStack.err()).to.match(/cannot read the stack file .*stack\.yml.*-f stack\.yml/);
  });

  it('reports a bad stack file naming the function and field', async () => {
    await writeFile(join(dir, 'stack.yml'), 'functions:\n  echo:\n    lang: node-http\n    handler: ./echo\n');
    const t = io();
    expect(await run(['build'], t)).to.equal(1);
    expect(t.err()).to.contain('function "echo", field "image": is required');
  });

  it('reports configuration errors naming the variable', async () => {
    await writeFile(join(dir, 'stack.yml'), 'functions: {}\n');
    const t = io();
    expect(await run(['build'], t, { FASTGSHARE_LOG_LEVEL: 'loud' })).to.equal(1);
    expect(t.err()).to.contain('FASTGSHARE_LOG_LEVEL');
  });

  it('uses the stack provider.gateway and OPENFAAS_URL when resolving the gateway', async () => {
    const t = io();
    expect(await run(['list'], t, { OPENFAAS_URL: 'http://127.0.0.1:9' })).to.equal(1);
    expect(t.err()).to.contain('cannot reach the gateway at http://127.0.0.1:9');
    await writeFile(join(dir, 'stack.yml'), 'provider:\n  gateway: http://127.0.0.1:7\nfunctions: {}\n');
    const s = io();
    expect(await run(['list'], s, { OPENFAAS_URL: 'http://127.0.0.1:9' })).to.equal(1);
    expect(s.err()).to.contain('cannot reach the gateway at http://127.0.0.1:7');
  });
});
