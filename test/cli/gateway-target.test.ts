import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthConfigFile } from '../../cli/auth-config.ts';
import { readCliEnv } from '../../cli/cli-env.ts';
import { resolveCredentials, resolveGatewayUrl } from '../../cli/gateway-target.ts';

describe('cli/gateway-target', () => {
  it('resolves the gateway URL as faas-cli: --gateway > stack provider.gateway > OPENFAAS_URL > default', () => {
    expect(resolveGatewayUrl('http://arg:1', 'http://yaml:2', 'http://env:3')).to.equal('http://arg:1');
    expect(resolveGatewayUrl(undefined, 'http://yaml:2', 'http://env:3')).to.equal('http://yaml:2');
    expect(resolveGatewayUrl(undefined, undefined, 'http://env:3')).to.equal('http://env:3');
    expect(resolveGatewayUrl(undefined, undefined, undefined)).to.equal('http://127.0.0.1:8080');
  });

  it('lets OPENFAAS_URL win over an argument or stack URL equal to the default', () => {
    expect(resolveGatewayUrl('http://127.0.0.1:8080', 'http://127.0.0.1:8080', 'http://env:3')).to.equal(
      'http://env:3',
    );
  });

  it('normalises: lower case, no trailing slash, http:// added', () => {
    expect(resolveGatewayUrl('HTTP://Gateway.Example:8080///', undefined, undefined)).to.equal(
      'http://gateway.example:8080',
    );
    expect(resolveGatewayUrl('gw.local:31112', undefined, undefined)).to.equal('http://gw.local:31112');
    expect(resolveGatewayUrl('https://gw.example/', undefined, undefined)).to.equal('https://gw.example');
  });

  it('reads OPENFAAS_URL and OPENFAAS_CONFIG from the given environment only', () => {
    const env = readCliEnv({ OPENFAAS_URL: 'http://x:1', OPENFAAS_CONFIG: '~/cfg' }, '/work', '/home/me');
    expect(env.openfaasUrl).to.equal('http://x:1');
    expect(env.configDir).to.equal('/home/me/cfg');
    expect(readCliEnv({}, '/work', '/home/me').configDir).to.equal('/home/me/.openfaas');
    expect(readCliEnv({ OPENFAAS_CONFIG: 'rel' }, '/work', '/home/me').configDir).to.equal('/work/rel');
  });

  describe('credentials', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fastgshare-cred-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('uses --username/--password first, else the login saved for that exact gateway', async () => {
      const file = new AuthConfigFile(dir);
      await file.save('http://127.0.0.1:8080', { username: 'admin', password: 'saved-pass' });
      expect(await resolveCredentials('http://127.0.0.1:8080', {}, file)).to.deep.equal({
        username: 'admin',
        password: 'saved-pass',
      });
      expect(
        await resolveCredentials('http://127.0.0.1:8080', { username: 'ops', password: 'flag-pass' }, file),
      ).to.deep.equal({ username: 'ops', password: 'flag-pass' });
      expect(await resolveCredentials('http://127.0.0.1:9999', {}, file)).to.equal(undefined);
      await resolveCredentials('http://127.0.0.1:8080', { username: 'ops' }, file).then(
        () => expect.fail('a user without a password should be refused'),
        (err: Error) => expect(err.message).to.contain('--password is required'),
      );
    });
  });
});
