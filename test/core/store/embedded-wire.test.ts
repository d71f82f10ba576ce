import { expect } from 'chai';
import net from 'node:net';
import { BSON, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import { crc32c } from '../../../core/store/embedded/wire/crc32c.ts';
import { MessageFramer } from '../../../core/store/embedded/wire/framer.ts';
import {
  MSG_CHECKSUM_PRESENT,
  MSG_MORE_TO_COME,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
} from '../../../core/store/embedded/wire/messages.ts';
import { startEmbeddedFixture, type EmbeddedFixture } from './fixtures.ts';

function header(length: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opMsg(
  requestId: number,
  body: Document,
  opts: { flags?: number; sequence?: [string, Document[]] } = {},
): Buffer {
  const parts: Uint8Array[] = [Buffer.from([0]), BSON.serialize(body)];
  if (opts.sequence) {
    const [id, docs] = opts.sequence;
    const payload = Buffer.concat([Buffer.from(id + '\0'), ...docs.map((d) => BSON.serialize(d))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(payload.length + 4);
    parts.push(Buffer.from([1]), size, payload);
  }
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(opts.flags ?? 0);
  const withChecksum = ((opts.flags ?? 0) & MSG_CHECKSUM_PRESENT) !== 0;
  const rest = Buffer.concat([flags, ...parts]);
  const msg = Buffer.concat([header(16 + rest.length + (withChecksum ? 4 : 0), requestId, OP_MSG), rest]);
  if (!withChecksum) return msg;
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32c(msg));
  return Buffer.concat([msg, crc]);
}

function opQuery(requestId: number, ns: string, query: Document): Buffer {
  const rest = Buffer.concat([
    Buffer.alloc(4),
    Buffer.from(ns + '\0'),
    Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    BSON.serialize(query),
  ]);
  return Buffer.concat([header(16 + rest.length, requestId, OP_QUERY), rest]);
}

/** A raw client that collects replies (decoded) by responseTo. */
class RawClient {
  readonly replies: Array<{ opCode: number; responseTo: number; doc: Document }> = [];
  private readonly framer = new MessageFramer();
  private waiters: Array<() => void> = [];
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      for (const m of this.framer.push(chunk)) {
        const opCode = m.readInt32LE(12);
        const responseTo = m.readInt32LE(8);
        const docStart = opCode === OP_REPLY ? 36 : 21;
        this.replies.push({ opCode, responseTo, doc: BSON.deserialize(m.subarray(docStart)) });
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }
  /** Connects to the server's unix socket (its default) or TCP port. */
  static connect(server: { socketPath?: string; port: number }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = server.socketPath
        ? net.connect(server.socketPath, () => resolve(new RawClient(s)))
        : net.connect(server.port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
  reply(requestId: number) {
    return this.replies.find((r) => r.responseTo === requestId);
  }
}

describe('embedded store wire protocol', () => {
  let fx: EmbeddedFixture;
  const clients: RawClient[] = [];
  const connect = async () => {
    const c = await RawClient.connect(fx.server);
    clients.push(c);
    return c;
  };
  before(async () => {
    fx = await startEmbeddedFixture();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.socket.destroy();
  });
  after(async () => {
    await fx.cleanup();
  });

  it('answers a legacy OP_QUERY handshake with OP_REPLY', async () => {
    const c = await connect();
    c.socket.write(opQuery(7, 'admin.$cmd', { isMaster: 1, helloOk: true, client: { driver: { name: 'raw' } } }));
    await c.until(() => !!c.reply(7));
    const r = c.reply(7)!;
    expect(r.opCode).to.equal(OP_REPLY);
    expect(r.doc.ok).to.equal(1);
    expect(r.doc.ismaster).to.equal(true);
    expect(r.doc.isWritablePrimary).to.equal(true);
    expect(r.doc.maxWireVersion).to.be.at.least(9);
    expect(r.doc.maxBsonObjectSize).to.equal(16 * 1024 * 1024);
    expect(r.doc.localTime).to.be.instanceOf(Date);
    expect(r.doc.connectionId).to.be.a('number');
  });

  it('reassembles messages split across packets and splits several in one packet', async () => {
    const c = await connect();
    const a = opMsg(1, { ping: 1, $db: 'admin' });
    const b = opMsg(2, { hello: 1, $db: 'admin' });
    const both = Buffer.concat([a, b]);
    for (let i = 0; i < a.length + 5; i++) {
      c.socket.write(both.subarray(i, i + 1));
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    c.socket.write(Buffer.concat([both.subarray(a.length + 5), opMsg(3, { ping: 1, $db: 'admin' })]));
    await c.until(() => c.replies.length === 3);
    expect(c.replies.map((r) => r.responseTo)).to.deep.equal([1, 2, 3]);
    expect(c.replies.every((r) => r.opCode === OP_MSG && r.doc.ok === 1)).to.equal(true);
    expect(c.reply(2)!.doc.isWritablePrimary).to.equal(true);
  });

  it('accepts document sequences, checksums and moreToCome', async () => {
    const c = await connect();
    c.socket.write(
      opMsg(
        10,
        { insert: 'wire', $db: 'wiredb' },
        { sequence: ['documents', [{ _id: 1 }, { _id: 2 }]], flags: MSG_CHECKSUM_PRESENT },
      ),
    );
    await c.until(() => !!c.reply(10));
    expect(c.reply(10)!.doc).to.deep.include({ n: 2, ok: 1 });
    // fire-and-forget: no reply to 11, but the write happens before 12 runs
    c.socket.write(opMsg(11, { insert: 'wire', documents: [{ _id: 3 }], $db: 'wiredb' }, { flags: MSG_MORE_TO_COME }));
    c.socket.write(opMsg(12, { count: 'wire', $db: 'wiredb' }));
    await c.until(() => !!c.reply(12));
    expect(c.reply(12)!.doc.n).to.equal(3);
    expect(c.reply(11)).to.equal(undefined);
  });

  it('closes a connection with a bad checksum', async () => {
    const c = await connect();
    const msg = opMsg(20, { ping: 1, $db: 'admin' }, { flags: MSG_CHECKSUM_PRESENT });
    msg[msg.length - 1] ^= 0xff;
    c.socket.write(msg);
    await c.until(() => c.closed);
    expect(c.replies).to.have.length(0);
    expect(fx.sink.lines().some((l) => l.includes('checksum mismatch'))).to.equal(true);
  });

  it('survives garbage and clients that leave mid-message', async () => {
    const garbage = await connect();
    garbage.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await garbage.until(() => garbage.closed);
    const bogusOp = await connect();
    bogusOp.socket.write(Buffer.concat([header(20, 1, 9999), Buffer.alloc(4)]));
    await bogusOp.until(() => bogusOp.closed);
    const badBson = await connect();
    badBson.socket.write(
      Buffer.concat([
        header(16 + 4 + 1 + 8, 1, OP_MSG),
        Buffer.alloc(4),
        Buffer.from([0]),
        Buffer.from([8, 0, 0, 0, 0x55, 0x41, 0, 0]),
      ]),
    );
    await badBson.until(() => badBson.closed);
    const half = await connect();
    half.socket.write(opMsg(1, { ping: 1, $db: 'admin' }).subarray(0, 10));
    half.socket.destroy();

    const client = new MongoClient(fx.server.uri, { serverSelectionTimeoutMS: 3000 });
    try {
      await client.connect();
      expect((await client.db('admin').command({ ping: 1 })).ok).to.equal(1);
    } finally {
      await client.close();
    }
  });
});
