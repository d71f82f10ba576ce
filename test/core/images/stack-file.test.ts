import { expect } from 'chai';
import { join } from 'node:path';
import { PlatformError } from '../../../core/errors.ts';
import { loadStackFile, parseStack, selectFunctions, substituteEnv } from '../../../core/images/stack-file.ts';
import { PLATFORM_ROOT } from '../../../core/version.ts';

function failure(fn: () => unknown): PlatformError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PlatformError);
    return err as PlatformError;
  }
  throw new Error('expected a PlatformError');
}

describe('core/images/stack-file', () => {
  it('parses the example stack.yml', async () => {
    const stack = await loadStackFile(join(PLATFORM_ROOT, 'stack.yml'));
    expect(stack.dir).to.equal(PLATFORM_ROOT);
    expect(stack.spec.provider?.gateway).to.equal('http://127.0.0.1:8080');
    const echo = stack.spec.functions.echo!;
    expect(echo).to.deep.include({ lang: 'node-http', handler: './functions/echo', image: 'echo:latest' });
    expect(echo.labels).to.deep.equal({ 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4' });
  });

  it('turns YAML scalars into strings where faas-cli takes strings', () => {
    const stack = parseStack(
      'functions:\n  f:\n    image: f:1\n    environment: { A: 1, B: true }\n    labels: { com.openfaas.scale.min: 2 }\n    limits: { memory: 128Mi, cpu: 0.5 }\n',
    );
    const f = stack.spec.functions.f!;
    expect(f.environment).to.deep.equal({ A: '1', B: 'true' });
    expect(f.labels).to.deep.equal({ 'com.openfaas.scale.min': '2' });
    expect(f.limits).to.deep.include({ memory: '128Mi', cpu: '0.5' });
  });

  it('substitutes ${VAR} and ${VAR:-default} from the given environment only', () => {
    expect(substituteEnv('a=${A} b=${B:-dflt} c=${C:-} d=$D', { A: 'x', D: 'no' })).to.equal('a=x b=dflt c= d=$D');
    expect(substituteEnv('${B:-dflt}', { B: '' })).to.equal('dflt');
    const stack = parseStack(
      'provider:\n  gateway: ${GW:-http://127.0.0.1:8080}\nfunctions:\n  f:\n    image: f:${TAG:-latest}\n',
      { env: { TAG: '1.2' } },
    );
    expect(stack.spec.functions.f!.image).to.equal('f:1.2');
    expect(stack.spec.provider!.gateway).to.equal('http://127.0.0.1:8080');
  });

  it('names the function and field at fault', () => {
    const missingImage = failure(() =>
      parseStack('functions:\n  echo:\n    lang: node-http\n', { file: 'my-stack.yml' }),
    );
    expect(missingImage.code).to.equal('bad_request');
    expect(missingImage.message).to.match(/my-stack\.yml: function "echo", field "image": is required/);
    const badEnv = failure(() => parseStack('functions:\n  echo:\n    image: e\n    environment: [1, 2]\n'));
    expect(badEnv.message).to.contain('function "echo", field "environment"');
    expect(failure(() => parseStack('provider: {}\n')).message).to.contain('field "functions"');
    expect(failure(() => parseStack('functions: [\n')).message).to.contain('not valid YAML');
    expect(failure(() => parseStack('- a\n- b\n')).message).to.contain('expected a YAML map');
    const badName = failure(() => parseStack('functions:\n  Echo_Fn:\n    image: e\n'));
    expect(badName.code).to.equal('invalid_name');
    expect(badName.message).to.contain('Echo_Fn');
  });

  it('reports a missing stack file and says how to pass one', async () => {
    const err = await loadStackFile('/nonexistent/stack.yml').then(
      () => undefined,
      (e: unknown) => e as PlatformError,
    );
    expect(err?.code).to.equal('not_found');
    expect(err?.message).to.contain('-f stack.yml');
  });

  it('selects one function with a filter, listing the others when it is absent', () => {
    const stack = parseStack('functions:\n  a:\n    image: a\n  b:\n    image: b\n');
    expect(selectFunctions(stack).map(([n]) => n)).to.deep.equal(['a', 'b']);
    expect(selectFunctions(stack, 'b').map(([n]) => n)).to.deep.equal(['b']);
    expect(failure(() => selectFunctions(stack, 'c')).message).to.match(/no function "c".*it has: a, b/);
  });
});
