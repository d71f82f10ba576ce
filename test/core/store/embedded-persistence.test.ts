import { expect } from 'chai';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Decimal128, MongoClient, ObjectId } from 'mongodb';
import { PlatformError } from '../../../core/errors.ts';
import { startEmbeddedMongo } from '../../../core/store/embedded/server.ts';
import { decodeSnapshot } from '../../../core/store/embedded/snapshot-file.ts';
import { decodeManifest, encodeManifest, MANIFEST_FILE } from '../../../core/store/embedded/manifest.ts';
import { startEmbeddedFixture, type EmbeddedFixture } from './fixtures.ts';

async function withClient<T>(uri: string, fn: (c: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function snapshotFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const db of await readdir(dir, { withFileTypes: true })) {
    if (db.isDirectory()) for (const f of await readdir(join(dir, db.name))) out.push(join(dir, db.name, f));
  }
  return out.sort();
}

describe('embedded store persistence', () => {
  let fx: EmbeddedFixture;
  beforeEach(async () => {
    fx = await startEmbeddedFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('keeps documents, collections and unique indexes across a restart', async () => {
    const id = new ObjectId();
    await withClient(fx.server.uri, async (c) => {
      const db = c.db('app');
      await db.collection('things').createIndex({ key: 1 }, { unique: true, name: 'key_unique' });
      await db
        .collection('things')
        .insertOne({ _id: id, key: 'k1', price: Decimal128.fromString('9.99'), at: new Date(5000) });
      await db.collection('things').insertOne({ key: 'k2' });
      await db.collection('things').deleteOne({ key: 'k2' });
      await db.createCollection('empty');
      await c.db('other').collection('dots.in.name').insertOne({ n: 1 });
    });
    await fx.server.close();
    await fx.restart();
    await withClient(fx.server.uri, async (c) => {
      const things = c.db('app').collection('things');
      const docs = await things.find().toArray();
      expect(docs).to.have.length(1);
      expect(docs[0]._id.toHexString()).to.equal(id.toHexString());
      expect(docs[0].price.toString()).to.equal('9.99');
      expect(docs[0].at.getTime()).to.equal(5000);
      const names = (await c.db('app').listCollections().toArray()).map((x) => x.name).sort();
      expect(names).to.deep.equal(['empty', 'things']);
      expect((await things.listIndexes().toArray()).map((i) => i.name)).to.deep.equal(['_id_', 'key_unique']);
      const dup = await things.insertOne({ key: 'k1' }).catch((e) => e);
      expect(dup.code).to.equal(11000);
      expect(await c.db('other').collection('dots.in.name').countDocuments()).to.equal(1);
      await c.db('other').collection('dots.in.name').drop();
    });
    await fx.server.close();
    await fx.restart();
    await withClient(fx.server.uri, async (c) => {
      expect(await c.db('other').listCollections().toArray()).to.deep.equal([]);
    });
  });

  it('acknowledges concurrent writes only once durable, coalescing snapshots', async () => {
    const written = () =>
      fx.sink.records.filter((r) => r.message === 'snapshot written' && r.fields.collection === 'burst');
    await withClient(fx.server.uri, async (c) => {
      const coll = c.db('app').collection('burst');
      await Promise.all(Array.from({ length: 200 }, (_, i) => coll.insertOne({ i })));
      await Promise.all(Array.from({ length: 50 }, (_, i) => coll.updateOne({ i }, { $set: { touched: true } })));
    });
    const snapshots = written();
    expect(snapshots.reduce((n, r) => n + (r.fields.requests as number), 0)).to.equal(250);
    expect(snapshots.length).to.be.lessThan(250);
    // read the file while the server still runs: every acknowledged write is already there
    const file = (await snapshotFiles(fx.dir)).find((f) => f.includes('burst'))!;
    const bytes = await readFile(file);
    const snap = decodeSnapshot(bytes);
    expect(snap.state.documents).to.have.length(200);
    expect(snap.state.documents.filter((d) => d.touched)).to.have.length(50);
  });

  it('removes temporary files left by an interrupted snapshot', async () => {
    await withClient(fx.server.uri, (c) => c.db('app').collection('t').insertOne({ a: 1 }));
    await fx.server.close();
    const [file] = await snapshotFiles(fx.dir);
    await writeFile(`${file}.tmp-999-1`, Buffer.from('half written'));
    await fx.restart();
    expect(await snapshotFiles(fx.dir)).to.deep.equal([file]);
    expect(fx.sink.lines().some((l) => l.includes('removed a temporary file'))).to.equal(true);
    await withClient(fx.server.uri, async (c) =>
      expect(await c.db('app').collection('t').countDocuments()).to.equal(1),
    );
  });

  for (const [what, damage] of [
    ['garbage', (_: Buffer) => Buffer.from('this is not bson at all, sorry')],
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 7)],
    [
      'bit-flipped',
      (b: Buffer) => {
        const c = Buffer.from(b);
        c[c.length - 40] ^= 0xff;
        return c;
      },
    ],
  ] as const) {
    it(`refuses to start on a ${what} snapshot, naming the file and keeping it`, async () => {
      await withClient(fx.server.uri, (c) =>
        c
          .db('app')
          .collection('precious')
          .insertMany([{ a: 'x'.repeat(50) }, { b: 2 }]),
      );
      await fx.server.close();
      const [file] = await snapshotFiles(fx.dir);
      const damaged = damage(await readFile(file));
      await writeFile(file, damaged);
      const err = await startEmbeddedMongo({ dataDir: fx.dir, log: fx.log }).catch((e) => e);
      expect(err).to.be.instanceOf(PlatformError);
      expect(err.message).to.include(file);
      expect(err.message).to.match(/unreadable/);
      expect(Buffer.compare(await readFile(file), damaged)).to.equal(0);
      // the fixture's cleanup closes a running server: give up the collection (file and manifest entry)
      await rm(file);
      await writeFile(join(fx.dir, MANIFEST_FILE), encodeManifest([]));
      await fx.restart();
    });
  }

  const listed = async () =>
    decodeManifest(await readFile(join(fx.dir, MANIFEST_FILE)))
      .map((e) => `${e.db}.${e.name}`)
      .sort();

  it('keeps a manifest of its collections: listed once written, unlisted when dropped', async () => {
    await withClient(fx.server.uri, async (c) => {
      await c.db('app').collection('a').insertOne({ x: 1 });
      await c.db('app').collection('b').insertOne({ x: 2 });
      await c.db('other').createCollection('c');
      expect(await listed()).to.deep.equal(['app.a', 'app.b', 'other.c']);
      await c.db('app').collection('b').drop();
      expect(await listed()).to.deep.equal(['app.a', 'other.c']);
    });
    await fx.server.close();
    await fx.restart();
    await withClient(fx.server.uri, async (c) =>
      expect((await c.db('app').listCollections().toArray()).map((x) => x.name)).to.deep.equal(['a']),
    );
  });

  it("refuses to start when a listed collection's file is missing, naming the file and how to recover", async () => {
    await withClient(fx.server.uri, async (c) => {
      await c.db('app').collection('keep').insertOne({ k: 1 });
      await c
        .db('app')
        .collection('lost')
        .insertMany([{ l: 1 }, { l: 2 }]);
    });
    await fx.server.close();
    const files = await snapshotFiles(fx.dir);
    const lost = files.find((f) => f.includes('lost'))!;
    const keep = files.find((f) => f.includes('keep'))!;
    const keepBytes = await readFile(keep);
    await rm(lost);
    const err = await startEmbeddedMongo({ dataDir: fx.dir, log: fx.log }).catch((e) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect(err.message).to.include(lost);
    expect(err.message).to.match(/missing/);
    expect(err.message).to.include(join(fx.dir, MANIFEST_FILE));
    expect(err.message).to.match(/restore the file from a backup/);
    // nothing was changed: the other collection's file and the manifest are as they were
    expect(Buffer.compare(await readFile(keep), keepBytes)).to.equal(0);
    expect(await listed()).to.deep.equal(['app.keep', 'app.lost']);
    // a second try is refused the same way (the refusal did not "repair" the manifest)
    expect((await startEmbeddedMongo({ dataDir: fx.dir, log: fx.log }).catch((e) => e)).message).to.include(lost);
    // the documented way out: drop the entry from the manifest
    await writeFile(join(fx.dir, MANIFEST_FILE), encodeManifest([{ db: 'app', name: 'keep' }]));
    await fx.restart();
    await withClient(fx.server.uri, async (c) => {
      expect((await c.db('app').listCollections().toArray()).map((x) => x.name)).to.deep.equal(['keep']);
      expect(await c.db('app').collection('keep').countDocuments()).to.equal(1);
    });
  });

  it('lists the collections of a store from before the manifest, then guards them', async () => {
    await withClient(fx.server.uri, async (c) => {
      await c.db('app').collection('old1').insertOne({ a: 1 });
      await c.db('app').collection('old2').insertOne({ a: 2 });
    });
    await fx.server.close();
    await rm(join(fx.dir, MANIFEST_FILE));
    await fx.restart();
    expect(await listed()).to.deep.equal(['app.old1', 'app.old2']);
    await fx.server.close();
    const old2 = (await snapshotFiles(fx.dir)).find((f) => f.includes('old2'))!;
    await rm(old2);
    const err = await startEmbeddedMongo({ dataDir: fx.dir, log: fx.log }).catch((e) => e);
    expect(err.message).to.include(old2);
    await writeFile(join(fx.dir, MANIFEST_FILE), encodeManifest([{ db: 'app', name: 'old1' }]));
    await fx.restart();
  });

  it('loads and lists a snapshot the manifest does not name yet (a crash between the two writes)', async () => {
    await withClient(fx.server.uri, (c) => c.db('app').collection('fresh').insertOne({ a: 1 }));
    await fx.server.close();
    await writeFile(join(fx.dir, MANIFEST_FILE), encodeManifest([]));
    await fx.restart();
    expect(await listed()).to.deep.equal(['app.fresh']);
    await withClient(fx.server.uri, async (c) =>
      expect(await c.db('app').collection('fresh').countDocuments()).to.equal(1),
    );
  });

  it('refuses to start on an unreadable manifest, naming it', async () => {
    await fx.server.close();
    await writeFile(join(fx.dir, MANIFEST_FILE), '{"format": "something else"');
    const err = await startEmbeddedMongo({ dataDir: fx.dir, log: fx.log }).catch((e) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect(err.message).to.include(join(fx.dir, MANIFEST_FILE));
    expect(err.message).to.match(/unreadable/);
    await writeFile(join(fx.dir, MANIFEST_FILE), encodeManifest([]));
    await fx.restart();
  });

  it('refuses a second server on the same directory', async () => {
    const err = await startEmbeddedMongo({ dataDir: fx.dir, log: fx.log }).catch((e) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect(err.code).to.equal('conflict');
    expect(err.message).to.include(fx.dir);
  });
});
