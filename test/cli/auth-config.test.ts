import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AuthConfigFile, decodeBasicToken, encodeBasicToken } from '../../cli/auth-config.ts';

describe('cli/auth-config (faas-cli config.yml)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-auth-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the faas-cli format with mode 0600', async () => {
    const file = new AuthConfigFile(join(dir, 'nested'));
    await file.save('http://127.0.0.1:8080', { username: 'admin', password: 'p:ss word' });
    const doc = parse(await readFile(join(dir, 'nested', 'config.yml'), 'utf8'));
    expect(doc).to.deep.equal({
      auths: [
        { gateway: 'http://127.0.0.1:8080', auth: 'basic', token: Buffer.from('admin:p:ss word').toString('base64') },
      ],
    });
    expect((await stat(file.path)).mode & 0o777).to.equal(0o600);
  });

  it('reads a file faas-cli wrote and keeps fields it does not know', async () => {
    await writeFile(
      join(dir, 'config.yml'),
      [
        'auths:',
        '- gateway: https://other.example',
        '  auth: oauth2',
        '  token: eyJhbGciOi',
        '  options:',
        '  - name: client_id',
        '    value: abc',
        '- gateway: http://127.0.0.1:8080',
        '  auth: basic',
        `  token: ${encodeBasicToken({ username: 'admin', password: 'old' })}`,
        '',
      ].join('\n'),
    );
    const file = new AuthConfigFile(dir);
    expect(await file.credentials('http://127.0.0.1:8080')).to.deep.equal({ username: 'admin', password: 'old' });
    expect(await file.credentials('https://other.example')).to.equal(undefined); // not basic
    await file.save('http://127.0.0.1:8080', { username: 'admin', password: 'new' });
    const doc = parse(await readFile(file.path, 'utf8')) as { auths: Array<Record<string, unknown>> };
    expect(doc.auths).to.have.length(2);
    expect(doc.auths[0]).to.deep.equal({
      gateway: 'https://other.example',
      auth: 'oauth2',
      token: 'eyJhbGciOi',
      options: [{ name: 'client_id', value: 'abc' }],
    });
    expect(await file.credentials('http://127.0.0.1:8080')).to.deep.equal({ username: 'admin', password: 'new' });
  });

  it('removes one gateway and reports when there was none', async () => {
    const file = new AuthConfigFile(dir);
    await file.save('http://a:1', { username: 'u', password: 'p1' });
    await file.save('http://b:2', { username: 'u', password: 'p2' });
    expect(await file.remove('http://a:1')).to.equal(true);
    expect(await file.remove('http://a:1')).to.equal(false);
    expect((await file.entries()).map((e) => e.gateway)).to.deep.equal(['http://b:2']);
  });

  it('treats a missing or empty file as no logins, and a corrupt one as an error saying what to do', async () => {
    expect(await new AuthConfigFile(join(dir, 'none')).entries()).to.deep.equal([]);
    await writeFile(join(dir, 'config.yml'), '');
    expect(await new AuthConfigFile(dir).entries()).to.deep.equal([]);
    await writeFile(join(dir, 'config.yml'), 'auths: [\n');
    await new AuthConfigFile(dir).entries().then(
      () => expect.fail('a corrupt file should be reported'),
      (err: Error) => expect(err.message).to.match(/not valid YAML.*log in again/),
    );
  });

  it('decodes tokens whose password contains ":"', () => {
    expect(decodeBasicToken(encodeBasicToken({ username: 'a', password: 'b:c' }))).to.deep.equal({
      username: 'a',
      password: 'b:c',
    });
    expect(decodeBasicToken(Buffer.from('nocolon').toString('base64'))).to.equal(undefined);
  });
});
