import { expect } from 'chai';
import { Binary, Decimal128, Long, MongoClient, MongoServerError, ObjectId, type CommandStartedEvent } from 'mongodb';
import { startEmbeddedFixture, type EmbeddedFixture } from './fixtures.ts';

describe('embedded store with the mongodb driver', () => {
  let fx: EmbeddedFixture;
  let client: MongoClient;
  const started: CommandStartedEvent[] = [];

  before(async () => {
    fx = await startEmbeddedFixture();
    client = new MongoClient(fx.server.uri, { serverSelectionTimeoutMS: 3000, monitorCommands: true });
    client.on('commandStarted', (e) => started.push(e));
    await client.connect();
  });
  after(async () => {
    await client?.close();
    await fx?.cleanup();
  });

  it('keeps BSON types across a round trip', async () => {
    const coll = client.db('testdb').collection('types');
    const id = new ObjectId();
    const when = new Date('2024-05-06T07:08:09.123Z');
    await coll.insertOne({
      _id: id,
      when,
      price: Decimal128.fromString('12.345'),
      blob: new Binary(Buffer.from([1, 2, 3]), 4),
      big: Long.fromString('9007199254740993'),
      nested: { list: [1, 'two', { three: 3 }] },
    });
    const doc = await coll.findOne({ _id: id });
    expect(doc).to.not.equal(null);
    expect(doc!._id).to.be.instanceOf(ObjectId);
    expect(doc!._id.toHexString()).to.equal(id.toHexString());
    expect(doc!.when).to.be.instanceOf(Date);
    expect(doc!.when.getTime()).to.equal(when.getTime());
    expect(doc!.price).to.be.instanceOf(Decimal128);
    expect(doc!.price.toString()).to.equal('12.345');
    expect(doc!.blob).to.be.instanceOf(Binary);
    expect(doc!.blob.sub_type).to.equal(4);
    expect([...doc!.blob.buffer]).to.deep.equal([1, 2, 3]);
    expect(Long.isLong(doc!.big) ? doc!.big.toString() : String(doc!.big)).to.equal('9007199254740993');
    expect(doc!.nested).to.deep.equal({ list: [1, 'two', { three: 3 }] });
  });

  it('generates ObjectId _ids and finds by them', async () => {
    const coll = client.db('testdb').collection('ids');
    const r = await coll.insertOne({ a: 1 });
    expect(r.insertedId).to.be.instanceOf(ObjectId);
    const found = await coll.findOne({ _id: r.insertedId });
    expect(found?.a).to.equal(1);
  });

  it('applies update operators, multi updates and upserts', async () => {
    interface Item {
      k: string;
      n?: number;
      tags: string[];
      meta?: { seen: boolean };
      created?: boolean;
      replaced?: boolean;
      items?: Array<{ id: number; done?: boolean }>;
    }
    const coll = client.db('testdb').collection<Item>('updates');
    await coll.insertMany([
      { k: 'a', n: 1, tags: ['x'] },
      { k: 'b', n: 2, tags: [] },
      { k: 'c', n: 3, tags: ['x', 'y'] },
    ]);
    const one = await coll.updateOne(
      { k: 'a' },
      { $inc: { n: 10 }, $push: { tags: 'z' }, $set: { 'meta.seen': true } },
    );
    expect(one.matchedCount).to.equal(1);
    expect(one.modifiedCount).to.equal(1);
    expect(await coll.findOne({ k: 'a' }, { projection: { _id: 0 } })).to.deep.equal({
      k: 'a',
      n: 11,
      tags: ['x', 'z'],
      meta: { seen: true },
    });

    const many = await coll.updateMany({ tags: 'x' }, { $unset: { n: '' } });
    expect(many.matchedCount).to.equal(2);
    expect(await coll.countDocuments({ n: { $exists: false } })).to.equal(2);

    const noop = await coll.updateOne({ k: 'b' }, { $set: { n: 2 } });
    expect(noop.matchedCount).to.equal(1);
    expect(noop.modifiedCount).to.equal(0);

    const up = await coll.updateOne({ k: 'd' }, { $set: { n: 4 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(up.upsertedCount).to.equal(1);
    expect(up.upsertedId).to.be.instanceOf(ObjectId);
    expect(await coll.findOne({ k: 'd' }, { projection: { _id: 0 } })).to.deep.equal({ k: 'd', n: 4, created: true });
    const again = await coll.updateOne(
      { k: 'd' },
      { $set: { n: 5 }, $setOnInsert: { created: false } },
      { upsert: true },
    );
    expect(again.upsertedCount).to.equal(0);
    expect(await coll.findOne({ k: 'd' }, { projection: { _id: 0 } })).to.deep.equal({ k: 'd', n: 5, created: true });

    const repl = await coll.replaceOne({ k: 'b' }, { k: 'b', replaced: true } as Item);
    expect(repl.modifiedCount).to.equal(1);
    expect(await coll.findOne({ k: 'b' }, { projection: { _id: 0 } })).to.deep.equal({ k: 'b', replaced: true });

    await coll.updateOne({ k: 'c' }, { $set: { items: [{ id: 1 }, { id: 2 }] } });
    await coll.updateOne({ k: 'c' }, { $set: { 'items.$[el].done': true } }, { arrayFilters: [{ 'el.id': 2 }] });
    expect((await coll.findOne({ k: 'c' }))!.items).to.deep.equal([{ id: 1 }, { id: 2, done: true }]);

    const err = await coll.updateOne({ k: 'c' }, { $set: { _id: 'other' } } as never).catch((e) => e);
    expect(err).to.be.instanceOf(MongoServerError);
    expect(err.code).to.equal(66);
  });

  it('deletes one or many', async () => {
    const coll = client.db('testdb').collection('deletes');
    await coll.insertMany([{ g: 1 }, { g: 1 }, { g: 1 }, { g: 2 }]);
    expect((await coll.deleteOne({ g: 1 })).deletedCount).to.equal(1);
    expect((await coll.deleteMany({ g: 1 })).deletedCount).to.equal(2);
    expect(await coll.countDocuments()).to.equal(1);
  });

  it('sorts, skips, limits and streams a cursor over several getMore batches', async () => {
    const coll = client.db('testdb').collection('cursor');
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ i, odd: i % 2 === 1 })));
    const page = await coll.find({ odd: true }).sort({ i: -1 }).skip(5).limit(3).toArray();
    expect(page.map((d) => d.i)).to.deep.equal([239, 237, 235]);

    started.length = 0;
    const all = await coll.find({}, { batchSize: 40 }).sort({ i: 1 }).toArray();
    expect(all.map((d) => d.i)).to.deep.equal(Array.from({ length: 250 }, (_, i) => i));
    const getMores = started.filter((e) => e.commandName === 'getMore');
    expect(getMores.length).to.equal(6); // 40 first, then 6 batches of up to 40
  });

  it('kills an abandoned cursor', async () => {
    const coll = client.db('testdb').collection('cursor');
    const cursor = coll.find({}, { batchSize: 10 });
    await cursor.next();
    started.length = 0;
    await cursor.close();
    const kill = started.find((e) => e.commandName === 'killCursors');
    expect(kill).to.not.equal(undefined);
    const id = kill!.command.cursors[0];
    const err = await client
      .db('testdb')
      .command({ getMore: id, collection: 'cursor' })
      .catch((e) => e);
    expect(err.code).to.equal(43);
  });

  it('aggregates with $match, $group, $sort and $lookup', async () => {
    const db = client.db('testdb');
    await db.collection('orders').insertMany([
      { cust: 'ann', amount: 10 },
      { cust: 'bob', amount: 5 },
      { cust: 'ann', amount: 7 },
    ]);
    await db.collection('customers').insertMany([
      { _id: 'ann' as never, city: 'Munich' },
      { _id: 'bob' as never, city: 'Berlin' },
    ]);
    const totals = await db
      .collection('orders')
      .aggregate([{ $group: { _id: '$cust', total: { $sum: '$amount' }, n: { $sum: 1 } } }, { $sort: { total: -1 } }])
      .toArray();
    expect(totals).to.deep.equal([
      { _id: 'ann', total: 17, n: 2 },
      { _id: 'bob', total: 5, n: 1 },
    ]);
    const joined = await db
      .collection('orders')
      .aggregate([
        { $match: { cust: 'bob' } },
        { $lookup: { from: 'customers', localField: 'cust', foreignField: '_id', as: 'c' } },
        { $project: { _id: 0, city: { $first: '$c.city' } } },
      ])
      .toArray();
    expect(joined).to.deep.equal([{ city: 'Berlin' }]);
    const err = await db
      .collection('orders')
      .aggregate([{ $out: 'x' }])
      .toArray()
      .catch((e) => e);
    expect(err).to.be.instanceOf(MongoServerError);
    expect(err.message).to.match(/\$out is not supported/);
  });

  it('answers count, distinct and findOneAndUpdate/Delete', async () => {
    const coll = client.db('testdb').collection('misc');
    await coll.insertMany([
      { c: 'red', v: 1 },
      { c: 'blue', v: 2 },
      { c: 'red', v: 3 },
      { c: ['green', 'red'], v: 4 },
    ]);
    expect(await coll.countDocuments({ c: 'red' })).to.equal(3);
    expect(await coll.estimatedDocumentCount()).to.equal(4);
    expect((await coll.distinct('c')).sort()).to.deep.equal(['blue', 'green', 'red']);
    expect(await coll.distinct('v', { c: 'red' })).to.deep.equal([1, 3, 4]);

    const before = await coll.findOneAndUpdate(
      { c: 'red' },
      { $inc: { v: 100 } },
      { sort: { v: -1 }, returnDocument: 'before' },
    );
    expect(before?.v).to.equal(4);
    const after = await coll.findOneAndUpdate(
      { c: 'blue' },
      { $inc: { v: 100 } },
      { returnDocument: 'after', projection: { _id: 0, v: 1 } },
    );
    expect(after).to.deep.equal({ v: 102 });
    const removed = await coll.findOneAndDelete({ v: 1 });
    expect(removed?.c).to.equal('red');
    expect(await coll.countDocuments()).to.equal(3);
  });

  it('enforces compound unique indexes with MongoDB error shape', async () => {
    const coll = client.db('testdb').collection('uniq');
    await coll.createIndex({ ns: 1, name: 1 }, { unique: true });
    await coll.insertOne({ ns: 'a', name: 'x' });
    await coll.insertOne({ ns: 'b', name: 'x' });
    const err = await coll.insertOne({ ns: 'a', name: 'x' }).catch((e) => e);
    expect(err.code).to.equal(11000);
    expect(err.message).to.equal(
      'E11000 duplicate key error collection: testdb.uniq index: ns_1_name_1 dup key: { ns: "a", name: "x" }',
    );
    expect(err.keyValue).to.deep.equal({ ns: 'a', name: 'x' });
    // an update into a taken key is refused too, and the document is unchanged
    const upd = await coll.updateOne({ ns: 'b' }, { $set: { ns: 'a' } }).catch((e) => e);
    expect(upd.code).to.equal(11000);
    expect(await coll.countDocuments({ ns: 'b', name: 'x' })).to.equal(1);
    // unordered batch: the good documents still land
    const bulk = await coll
      .insertMany(
        [
          { ns: 'c', name: 'x' },
          { ns: 'a', name: 'x' },
          { ns: 'd', name: 'x' },
        ],
        { ordered: false },
      )
      .catch((e) => e);
    expect(bulk.code).to.equal(11000);
    expect(await coll.countDocuments()).to.equal(4);
    const indexes = await coll.listIndexes().toArray();
    expect(indexes.map((i) => i.name)).to.deep.equal(['_id_', 'ns_1_name_1']);
    expect(indexes[1].unique).to.equal(true);
    // documents without the fields index as null: only one may lack them
    await coll.insertOne({ other: 1 });
    expect((await coll.insertOne({ other: 2 }).catch((e) => e)).message).to.match(
      /dup key: \{ ns: null, name: null \}/,
    );
    await coll.dropIndex('ns_1_name_1');
    await coll.insertOne({ ns: 'a', name: 'x' });
    // building a unique index over duplicates fails and leaves no index behind
    const build = await coll.createIndex({ ns: 1, name: 1 }, { unique: true }).catch((e) => e);
    expect(build.code).to.equal(11000);
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).to.deep.equal(['_id_']);
  });

  it('creates, lists and drops collections and databases', async () => {
    const db = client.db('ddl');
    await db.createCollection('one');
    const dup = await db.createCollection('one').catch((e) => e);
    expect(dup.codeName).to.equal('NamespaceExists');
    await db.collection('two').insertOne({ a: 1 });
    const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).to.deep.equal(['one', 'two']);
    const dbs = await client.db('admin').admin().listDatabases();
    expect(dbs.databases.map((d) => d.name)).to.include('ddl');
    expect(await db.collection('one').drop()).to.equal(true);
    await db.dropDatabase();
    expect(await db.listCollections().toArray()).to.deep.equal([]);
  });

  it('answers unknown commands with CommandNotFound and handles admin commands', async () => {
    const err = await client
      .db('admin')
      .command({ frobnicate: 1 })
      .catch((e) => e);
    expect(err).to.be.instanceOf(MongoServerError);
    expect(err.code).to.equal(59);
    expect(err.codeName).to.equal('CommandNotFound');
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(info.version).to.equal('7.0.0');
    const status = await client.db('admin').command({ serverStatus: 1 });
    expect(status.connections.current).to.be.greaterThan(0);
    expect(status.opcounters.insert).to.be.greaterThan(0);
    expect((await client.db('admin').command({ ping: 1 })).ok).to.equal(1);
  });
});
