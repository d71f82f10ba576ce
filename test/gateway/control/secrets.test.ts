/**
 * Secrets at rest and with their namespace: values are AES-256-GCM ciphertext in the store and
 * its snapshot files (never plaintext, never base64 of it), decrypt only under the key and for
 * the namespace/name they were made for, plaintext records from before are encrypted at start,
 * a wrong or missing key stops the start with a clear message, and a namespace's secrets go with
 * it (a re-created namespace of the same name starts empty). Real embedded store throughout;
 * the HTTP part runs a real gateway.
 */
import { expect } from 'chai';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { readGatewayConfig } from '../../../core/config.ts';
import { PlatformError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createNamespaces, type Namespaces } from '../../../gateway/control/namespaces.ts';
import { openSecretStore } from '../../../gateway/control/open-secrets.ts';
import { createSecretCipher } from '../../../gateway/control/secret-cipher.ts';
import { parseSecretBody, type SecretStore } from '../../../gateway/control/secrets.ts';
import { startGateway } from '../../../gateway/main.ts';
import { startTestStore, tempDir, type TestStore } from '../../helpers/store.ts';

const MARKER = 'Plaintext-Marker-7f3c91e2-do-not-store';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Every place a plaintext could show up: raw bytes, base64, hex, UTF-16. */
function leaks(bytes: Buffer, secret: string): string[] {
  const forms: Array<[string, Buffer]> = [
    ['utf8', Buffer.from(secret, 'utf8')],
    ['base64', Buffer.from(b64(secret), 'utf8')],
    ['hex', Buffer.from(Buffer.from(secret).toString('hex'), 'utf8')],
    ['utf16', Buffer.from(secret, 'utf16le')],
  ];
  return forms.filter(([, f]) => bytes.includes(f)).map(([n]) => n);
}

describe('secrets at rest and with their namespace', function () {
  this.timeout(20_000);
  let ts: TestStore;
  let data: { dir: string; cleanup(): Promise<void> };
  let namespaces: Namespaces;
  let secrets: SecretStore;
  const raw = () => ts.store.connection.collection('secrets');
  const open = (keyFile?: string) =>
    openSecretStore({ dataDir: data.dir, keyFile, models: ts.store.models, namespaces, log: silentLogger });

  beforeEach(async () => {
    ts = await startTestStore();
    data = await tempDir();
    namespaces = createNamespaces(ts.store.models);
    await namespaces.ensureDefault();
    secrets = await open();
  });
  afterEach(async () => {
    await ts.cleanup();
    await data.cleanup();
  });

  it('makes a 0600 key file of 32 random bytes at first start and keeps using it', async () => {
    const path = join(data.dir, 'secrets.key');
    const st = await stat(path);
    expect(st.mode & 0o777).to.equal(0o600);
    const key = await readFile(path);
    expect(key).to.have.length(32);
    await open();
    expect(Buffer.compare(await readFile(path), key), 'not replaced by a second start').to.equal(0);
  });

  it('stores only ciphertext: neither the store document nor the snapshot files hold the plaintext', async () => {
    await secrets.create(parseSecretBody({ name: 'db-pass', namespace: 'openfaas-fn', value: MARKER }, 'create'));
    await secrets.create(
      parseSecretBody(
        { name: 'blob', namespace: 'openfaas-fn', rawValue: Buffer.from([0, 1, 2, 250, 255]).toString('base64') },
        'create',
      ),
    );
    const doc = await raw().findOne({ name: 'db-pass' });
    expect(doc).to.not.have.property('value');
    expect(doc).to.include.keys('ciphertext', 'iv', 'tag', 'keyId');
    expect(leaks(Buffer.from(JSON.stringify(doc)), MARKER)).to.deep.equal([]);
    const files = await filesUnder(join(ts.dataDir, 'store'));
    expect(
      files.some((f) => f.includes('secrets')),
      'the secrets snapshot exists',
    ).to.equal(true);
    for (const f of files) expect(leaks(await readFile(f), MARKER), f).to.deep.equal([]);
    // and the replica still gets the value
    const { values } = await secrets.resolve('openfaas-fn', ['db-pass', 'blob'], true);
    expect(Buffer.from(values['db-pass']!, 'base64').toString()).to.equal(MARKER);
    expect([...Buffer.from(values.blob!, 'base64')]).to.deep.equal([0, 1, 2, 250, 255]);
    // an update is encrypted too
    await secrets.update(
      parseSecretBody({ name: 'db-pass', namespace: 'openfaas-fn', value: `${MARKER}-v2` }, 'update'),
    );
    for (const f of await filesUnder(join(ts.dataDir, 'store')))
      expect(leaks(await readFile(f), `${MARKER}-v2`), f).to.deep.equal([]);
    expect(
      Buffer.from((await secrets.resolve('openfaas-fn', ['db-pass'], true)).values['db-pass']!, 'base64').toString(),
    ).to.equal(`${MARKER}-v2`);
  });

  it('binds a sealed value to its namespace and name: a record copied elsewhere in the store does not decrypt', async () => {
    await namespaces.create({ name: 'ns-a', labels: {}, annotations: {} });
    await namespaces.create({ name: 'ns-b', labels: {}, annotations: {} });
    await secrets.create(parseSecretBody({ name: 'api-key', namespace: 'ns-b', value: MARKER }, 'create'));
    const bobs = (await raw().findOne({ namespace: 'ns-b', name: 'api-key' }))!;
    // someone with write access to the store plants bob's sealed record in alice's namespace
    await raw().insertOne({
      namespace: 'ns-a',
      name: 'api-key',
      ciphertext: bobs.ciphertext,
      iv: bobs.iv,
      tag: bobs.tag,
      keyId: bobs.keyId,
    });
    const err = await secrets.resolve('ns-a', ['api-key'], true).catch((e) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect(err.message).to.match(/cannot be decrypted/);
    expect(err.message).to.not.include(MARKER);
  });

  it('encrypts plaintext records from before this change at start', async () => {
    await raw().insertOne({ namespace: 'openfaas-fn', name: 'legacy', value: b64(MARKER) });
    // served while still plaintext (before the next start)
    expect(
      Buffer.from((await secrets.resolve('openfaas-fn', ['legacy'], true)).values.legacy!, 'base64').toString(),
    ).to.equal(MARKER);
    const again = await open();
    const doc = await raw().findOne({ name: 'legacy' });
    expect(doc).to.not.have.property('value');
    expect(doc!.keyId).to.equal(createSecretCipher(await readFile(join(data.dir, 'secrets.key'))).keyId);
    expect(
      Buffer.from((await again.resolve('openfaas-fn', ['legacy'], true)).values.legacy!, 'base64').toString(),
    ).to.equal(MARKER);
    for (const f of await filesUnder(join(ts.dataDir, 'store')))
      expect(leaks(await readFile(f), MARKER), f).to.deep.equal([]);
  });

  it('refuses to start with a wrong key, a missing given key file or a key file that is not a key — never garbage', async () => {
    await secrets.create(parseSecretBody({ name: 'db-pass', namespace: 'openfaas-fn', value: MARKER }, 'create'));
    const other = join(data.dir, 'other.key');
    await writeFile(other, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const wrong = await open(other).catch((e) => e);
    expect(wrong).to.be.instanceOf(PlatformError);
    expect(wrong.message)
      .to.match(/encrypted with key [0-9a-f]{16}/)
      .and.to.include('FASTGSHARE_SECRETS_KEY_FILE')
      .and.to.include('"db-pass"');
    const missing = await open(join(data.dir, 'nope.key')).catch((e) => e);
    expect(missing.message).to.include('FASTGSHARE_SECRETS_KEY_FILE').and.to.include('does not exist');
    await writeFile(other, 'short');
    const bad = await open(other).catch((e) => e);
    expect(bad.message).to.match(/does not hold a 32-byte key/);
    // the right key, given as a file in hex, works
    await writeFile(other, (await readFile(join(data.dir, 'secrets.key'))).toString('hex'));
    const right = await open(other);
    expect(
      Buffer.from((await right.resolve('openfaas-fn', ['db-pass'], true)).values['db-pass']!, 'base64').toString(),
    ).to.equal(MARKER);
  });

  it('refuses to start on a record that fails authentication (tampered ciphertext), naming it', async () => {
    await secrets.create(parseSecretBody({ name: 'db-pass', namespace: 'openfaas-fn', value: MARKER }, 'create'));
    const doc = (await raw().findOne({ name: 'db-pass' }))!;
    const c = Buffer.from(doc.ciphertext as string, 'base64');
    c[0]! ^= 0x01;
    await raw().updateOne({ _id: doc._id }, { $set: { ciphertext: c.toString('base64') } });
    const err = await open().catch((e) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect(err.message)
      .to.include('"db-pass"')
      .and.to.match(/cannot be decrypted/);
  });

  it("deletes a namespace's secrets with it; the name re-used starts with none", async () => {
    await namespaces.create({ name: 'ns-a', labels: {}, annotations: {} });
    await secrets.create(parseSecretBody({ name: 'one', namespace: 'ns-a', value: MARKER }, 'create'));
    await secrets.create(parseSecretBody({ name: 'two', namespace: 'ns-a', value: MARKER }, 'create'));
    await secrets.create(parseSecretBody({ name: 'one', namespace: 'openfaas-fn', value: 'stays' }, 'create'));
    await namespaces.remove('ns-a');
    expect(await raw().countDocuments({ namespace: 'ns-a' })).to.equal(0);
    expect(await raw().countDocuments({ namespace: 'openfaas-fn' }), 'other namespaces keep theirs').to.equal(1);
    await namespaces.create({ name: 'ns-a', labels: {}, annotations: {} });
    expect(await secrets.list('ns-a')).to.deep.equal([]);
    expect((await secrets.resolve('ns-a', ['one'], false)).missing).to.deep.equal(['one']);
  });

  it('removes secrets left behind by namespaces deleted before this change: at start, and when the name is re-used', async () => {
    const sealed = createSecretCipher(await readFile(join(data.dir, 'secrets.key'))).seal(
      Buffer.from(MARKER),
      'gone',
      'old',
    );
    await raw().insertOne({ namespace: 'gone', name: 'old', ...sealed });
    await open();
    expect(await raw().countDocuments({ namespace: 'gone' })).to.equal(0);
    // a stray record appearing after start (e.g. a create racing the delete) is removed when the name comes back
    await raw().insertOne({
      namespace: 'back',
      name: 'old',
      ...createSecretCipher(await readFile(join(data.dir, 'secrets.key'))).seal(Buffer.from(MARKER), 'back', 'old'),
    });
    await namespaces.create({ name: 'back', labels: {}, annotations: {} });
    expect(await secrets.list('back')).to.deep.equal([]);
  });
});

describe('secrets and namespaces over the API', function () {
  this.timeout(20_000);
  it('DELETE /system/namespace/NAME takes its secrets; re-creating NAME shows none and cannot read the old ones', async () => {
    const ts = await startTestStore();
    const data = await tempDir();
    const config = readGatewayConfig({
      PORT: '0',
      FASTGSHARE_HOST: '127.0.0.1',
      FASTGSHARE_DATA_DIR: data.dir,
      FASTGSHARE_READY_TIMEOUT_MS: '0',
    });
    const gw = await startGateway({ config, store: ts.store, nodes: [], log: silentLogger, registry: new Registry() });
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(gw.url + path, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, text: await r.text() };
    };
    try {
      expect((await call('POST', '/system/namespace/', { name: 'reused' })).status).to.equal(201);
      expect(
        (await call('POST', '/system/secrets', { name: 'token', namespace: 'reused', value: MARKER })).status,
      ).to.equal(201);
      expect(JSON.parse((await call('GET', '/system/secrets?namespace=reused')).text)).to.deep.equal([
        { name: 'token', namespace: 'reused' },
      ]);
      expect((await call('DELETE', '/system/namespace/reused')).status).to.equal(200);
      expect(await ts.store.connection.collection('secrets').countDocuments({ namespace: 'reused' })).to.equal(0);
      expect((await call('POST', '/system/namespace/', { name: 'reused' })).status).to.equal(201);
      expect(JSON.parse((await call('GET', '/system/secrets?namespace=reused')).text)).to.deep.equal([]);
      // a function deployed into the new namespace cannot name the old secret
      const deploy = await call('POST', '/system/functions', {
        service: 'probe',
        namespace: 'reused',
        image: 'echo:latest',
        secrets: ['token'],
      });
      expect(deploy.status).to.equal(400);
      expect(deploy.text).to.match(/secret "token" not found in namespace "reused"/);
      for (const f of await filesUnder(join(ts.dataDir, 'store')))
        expect(leaks(await readFile(f), MARKER), f).to.deep.equal([]);
    } finally {
      await gw.close();
      await ts.cleanup();
      await data.cleanup();
    }
  });
});
