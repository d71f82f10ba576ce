import { expect } from 'chai';
import mongoose, { Schema, type Connection } from 'mongoose';
import { startEmbeddedFixture, type EmbeddedFixture } from './fixtures.ts';

const userSchema = new Schema(
  {
    email: { type: String, required: true, unique: true },
    name: String,
    age: Number,
    tags: [String],
    born: Date,
    balance: Schema.Types.Decimal128,
    avatar: Buffer,
    team: { type: Schema.Types.ObjectId },
  },
  { timestamps: true },
);

const userModel = (conn: Connection) => conn.model('User', userSchema);

describe('embedded store with mongoose', () => {
  let fx: EmbeddedFixture;
  let conn: Connection;
  let User: ReturnType<typeof userModel>;

  before(async () => {
    fx = await startEmbeddedFixture();
    conn = mongoose.createConnection(fx.server.uri + '/testdb', { serverSelectionTimeoutMS: 3000 });
    await conn.asPromise();
    User = userModel(conn);
    await User.init();
  });
  after(async () => {
    await conn?.close();
    await fx?.cleanup();
  });

  it('creates and reads documents with their types', async () => {
    const team = new mongoose.Types.ObjectId();
    const created = await User.create({
      email: 'ann@example.com',
      name: 'Ann',
      age: 31,
      tags: ['a', 'b'],
      born: new Date('1993-02-03T00:00:00Z'),
      balance: '10.25',
      avatar: Buffer.from('png'),
      team,
    });
    const found = await User.findById(created._id).lean();
    expect(found).to.not.equal(null);
    expect(found!.email).to.equal('ann@example.com');
    expect(found!.tags).to.deep.equal(['a', 'b']);
    expect(found!.born!.toISOString()).to.equal('1993-02-03T00:00:00.000Z');
    expect(found!.balance!.toString()).to.equal('10.25');
    expect(Buffer.from((found!.avatar as unknown as { buffer: Uint8Array }).buffer).toString()).to.equal('png');
    expect(String(found!.team)).to.equal(String(team));
    expect(found!.createdAt).to.be.instanceOf(Date);
  });

  it('surfaces a unique index violation as code 11000', async () => {
    await User.create({ email: 'dup@example.com', name: 'First' });
    let err: unknown;
    try {
      await User.create({ email: 'dup@example.com', name: 'Second' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(Error);
    expect((err as { name: string }).name).to.equal('MongoServerError');
    expect((err as { code: number }).code).to.equal(11000);
    expect((err as { keyValue: unknown }).keyValue).to.deep.equal({ email: 'dup@example.com' });
    expect(await User.countDocuments({ email: 'dup@example.com' })).to.equal(1);
  });

  it('saves changes to a loaded document', async () => {
    const doc = await User.findOne({ email: 'ann@example.com' });
    doc!.age = 32;
    doc!.tags.push('c');
    await doc!.save();
    const again = await User.findOne({ email: 'ann@example.com' }).lean();
    expect(again!.age).to.equal(32);
    expect(again!.tags).to.deep.equal(['a', 'b', 'c']);
    expect(again!.updatedAt!.getTime()).to.be.at.least(again!.createdAt!.getTime());
  });

  it('sorts, skips and limits', async () => {
    await User.insertMany(Array.from({ length: 12 }, (_, i) => ({ email: `u${i}@example.com`, age: i })));
    const page = await User.find({ age: { $lt: 12 } })
      .sort({ age: -1 })
      .skip(2)
      .limit(3)
      .select('age -_id')
      .lean();
    expect(page).to.deep.equal([{ age: 9 }, { age: 8 }, { age: 7 }]);
  });

  it('findOneAndUpdate returns the new document and upserts', async () => {
    const updated = await User.findOneAndUpdate(
      { email: 'u3@example.com' },
      { $inc: { age: 100 } },
      { returnDocument: 'after' },
    ).lean();
    expect(updated!.age).to.equal(103);
    const upserted = await User.findOneAndUpdate(
      { email: 'new@example.com' },
      { $set: { name: 'New' } },
      { returnDocument: 'after', upsert: true },
    ).lean();
    expect(upserted!.name).to.equal('New');
    expect(upserted!.createdAt).to.be.instanceOf(Date);
    const none = await User.findOneAndUpdate({ email: 'nobody@example.com' }, { $set: { name: 'x' } }).lean();
    expect(none).to.equal(null);
  });

  it('counts, distincts and aggregates', async () => {
    expect(await User.countDocuments({ age: { $gte: 10 } })).to.equal(4); // 10, 11, 32, 103
    const names = await User.distinct('name');
    expect(names.sort()).to.deep.equal(['Ann', 'First', 'New']);
    const groups = await User.aggregate<{ _id: boolean; n: number }>([
      { $match: { age: { $exists: true } } },
      { $group: { _id: { $gte: ['$age', 10] }, n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]);
    expect(groups).to.deep.equal([
      { _id: false, n: 9 },
      { _id: true, n: 4 },
    ]);
  });

  it('deletes', async () => {
    const r = await User.deleteMany({ email: /^u\d+@/ });
    expect(r.deletedCount).to.equal(12);
    expect(await User.countDocuments()).to.equal(3);
  });
});
