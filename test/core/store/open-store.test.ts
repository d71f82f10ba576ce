import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../core/logger.ts';
import { openStore, type Store } from '../../../core/store/open-store.ts';

describe('openStore with the embedded server and the platform models', () => {
  let dir: string;
  let store: Store | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-openstore-'));
  });
  after(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a Function document, enforces its unique key and keeps it across a reopen', async () => {
    store = await openStore({ dataDir: dir, log: silentLogger });
    expect(store.kind).to.equal('embedded');
    expect(store.uri).to.equal(`mongodb://${encodeURIComponent(join(dir, 'store', 'mongod.sock'))}/fastgshare`);
    const { Function } = store.models;
    await Function.create({
      namespace: 'openfaas-fn',
      name: 'resnet',
      image: 'resnet:latest',
      labels: { 'com.openfaas.scale.min': '1' },
      replicas: 2,
    });
    const found = await Function.findOne({ namespace: 'openfaas-fn', name: 'resnet' }).lean();
    expect(found).to.not.equal(null);
    expect(found!.image).to.equal('resnet:latest');
    expect(found!.replicas).to.equal(2);
    expect(found!.labels).to.deep.equal({ 'com.openfaas.scale.min': '1' });
    expect(found!.generation).to.equal(1);

    const dup = await Function.create({ namespace: 'openfaas-fn', name: 'resnet', image: 'other' }).catch((e) => e);
    expect(dup.code).to.equal(11000);

    await store.close();
    store = await openStore({ dataDir: dir, log: silentLogger });
    const again = await store.models.Function.find({ namespace: 'openfaas-fn' }).lean();
    expect(again.map((f) => f.name)).to.deep.equal(['resnet']);
  });
});
