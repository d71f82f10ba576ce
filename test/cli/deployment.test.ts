import { expect } from 'chai';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFunctionDeployment } from '../../cli/deployment.ts';
import { parseStack } from '../../core/images/stack-file.ts';

describe('cli/deployment (what faas-cli deploy sends)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-deploy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sends only the deployment fields, labels and annotations always, envProcess from the template', async () => {
    const stack = parseStack(
      'functions:\n  echo:\n    lang: node-http\n    handler: ./echo\n    image: echo:latest\n    build_args: { A: b }\n',
      { dir },
    );
    const d = await toFunctionDeployment(stack, 'echo', stack.spec.functions.echo!);
    expect(d).to.deep.equal({
      service: 'echo',
      image: 'echo:latest',
      envProcess: 'node --import tsx index.ts',
      envVars: {},
      labels: {},
      annotations: {},
      readOnlyRootFilesystem: false,
    });
  });

  it('maps every stack field faas-cli sends, with environment_file overlaid on environment', async () => {
    await writeFile(join(dir, 'env.yml'), 'environment:\n  B: from-file\n  C: 3\n');
    const yaml = [
      'functions:',
      '  ocr:',
      '    lang: node-http',
      '    image: ocr:1',
      '    fprocess: node server.mjs',
      '    namespace: team-a',
      '    environment: { A: "1", B: from-stack }',
      '    environment_file: [env.yml]',
      '    secrets: [api-key]',
      '    constraints: ["node.platform.os == linux"]',
      '    labels: { com.openfaas.scale.max: "3" }',
      '    annotations: { fastgshare/gpu_quota_request: "0.4" }',
      '    limits: { memory: 512Mi, cpu: 500m, nvidia.com/gpu: 1 }',
      '    requests: { memory: 128Mi }',
      '    readonly_root_filesystem: true',
    ].join('\n');
    const stack = parseStack(yaml, { dir });
    const d = await toFunctionDeployment(stack, 'ocr', stack.spec.functions.ocr!, { namespace: 'ignored' });
    expect(d).to.deep.equal({
      service: 'ocr',
      image: 'ocr:1',
      namespace: 'team-a',
      envProcess: 'node server.mjs',
      envVars: { A: '1', B: 'from-file', C: '3' },
      constraints: ['node.platform.os == linux'],
      secrets: ['api-key'],
      labels: { 'com.openfaas.scale.max': '3' },
      annotations: { 'fastgshare/gpu_quota_request': '0.4' },
      limits: { memory: '512Mi', cpu: '500m' },
      requests: { memory: '128Mi' },
      readOnlyRootFilesystem: true,
    });
  });

  it('uses the --namespace flag when the function names none, and ./template/<lang> first', async () => {
    await mkdir(join(dir, 'template', 'node-http'), { recursive: true });
    await writeFile(
      join(dir, 'template', 'node-http', 'template.yml'),
      'language: node-http\nfprocess: node local.mjs\n',
    );
    const stack = parseStack('functions:\n  f:\n    lang: node-http\n    image: f\n', { dir });
    const d = await toFunctionDeployment(stack, 'f', stack.spec.functions.f!, { namespace: 'team-b' });
    expect(d.namespace).to.equal('team-b');
    expect(d.envProcess).to.equal('node local.mjs');
  });

  it('fails like faas-cli when the template is missing, unless readTemplate is off', async () => {
    const stack = parseStack('functions:\n  f:\n    lang: nosuch\n    image: f\n', { dir });
    await toFunctionDeployment(stack, 'f', stack.spec.functions.f!).then(
      () => expect.fail('a missing template should fail the deploy'),
      (err: Error) => expect(err.message).to.match(/unknown template "nosuch".*available: .*node-http/),
    );
    const d = await toFunctionDeployment(stack, 'f', stack.spec.functions.f!, { readTemplate: false });
    expect(d.envProcess).to.equal(undefined);
  });

  it('names the function when an environment_file cannot be read', async () => {
    const stack = parseStack('functions:\n  f:\n    image: f\n    environment_file: [missing.yml]\n', { dir });
    await toFunctionDeployment(stack, 'f', stack.spec.functions.f!).then(
      () => expect.fail('should fail'),
      (err: Error) => expect(err.message).to.contain('function "f": cannot read environment_file "missing.yml"'),
    );
  });
});
