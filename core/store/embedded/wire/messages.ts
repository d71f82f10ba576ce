/**
 * Decoding of the requests a MongoDB driver sends (OP_MSG, legacy OP_QUERY) and encoding of
 * the replies (OP_MSG, OP_REPLY). BSON itself is handled by the `bson` package.
 */
import { BSON, type Document } from 'bson';
import { crc32c } from './crc32c.ts';
import { HEADER_SIZE } from './framer.ts';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MSG_CHECKSUM_PRESENT = 1 << 0;
export const MSG_MORE_TO_COME = 1 << 1;
/**
 * Bits 0-15 are "required": a receiver must reject a message with one it does not know (16 and up, e.g. exhaustAllowed,
 * are optional).
 */
const MSG_KNOWN_REQUIRED = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME;

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

export interface MessageHeader {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface MsgRequest {
  kind: 'msg';
  header: MessageHeader;
  flags: number;
  moreToCome: boolean;
  /** The body (section kind 0) with every document sequence (kind 1) merged in as an array. */
  command: Document;
}

export interface QueryRequest {
  kind: 'query';
  header: MessageHeader;
  /** e.g. admin.$cmd */
  fullCollectionName: string;
  query: Document;
}

export type Request = MsgRequest | QueryRequest;

const DESERIALIZE = { promoteLongs: true, promoteValues: true, promoteBuffers: false, bsonRegExp: false } as const;

export function readHeader(message: Buffer): MessageHeader {
  return {
    length: message.readInt32LE(0),
    requestId: message.readInt32LE(4),
    responseTo: message.readInt32LE(8),
    opCode: message.readInt32LE(12),
  };
}

export function decodeRequest(message: Buffer): Request {
  const header = readHeader(message);
  if (header.length !== message.length)
    throw new ProtocolError(`message length ${header.length} does not match its ${message.length} bytes`);
  switch (header.opCode) {
    case OP_MSG:
      return decodeMsg(header, message);
    case OP_QUERY:
      return decodeQuery(header, message);
    case OP_COMPRESSED:
      throw new ProtocolError('OP_COMPRESSED is not supported (this server advertises no compressors)');
    default:
      throw new ProtocolError(`unsupported opCode ${header.opCode}`);
  }
}

function readDocument(buf: Buffer, offset: number, end: number): { doc: Document; next: number } {
  if (offset + 5 > end) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new ProtocolError(`BSON document size ${size} overruns the message`);
  try {
    return { doc: BSON.deserialize(buf.subarray(offset, offset + size), DESERIALIZE), next: offset + size };
  } catch (err) {
    throw new ProtocolError(`invalid BSON document: ${(err as Error).message}`);
  }
}

function readCString(buf: Buffer, offset: number, end: number): { value: string; next: number } {
  const zero = buf.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new ProtocolError('unterminated C string');
  return { value: buf.toString('utf8', offset, zero), next: zero + 1 };
}

function decodeMsg(header: MessageHeader, buf: Buffer): MsgRequest {
  if (buf.length < HEADER_SIZE + 5) throw new ProtocolError('OP_MSG too short');
  const flags = buf.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & 0xffff & ~MSG_KNOWN_REQUIRED;
  if (unknownRequired)
    throw new ProtocolError(`OP_MSG has unknown required flag bits 0x${unknownRequired.toString(16)}`);
  let end = buf.length;
  if (flags & MSG_CHECKSUM_PRESENT) {
    end -= 4;
    const expected = buf.readUInt32LE(end);
    const actual = crc32c(buf.subarray(0, end));
    if (expected !== actual)
      throw new ProtocolError(
        `OP_MSG checksum mismatch (got 0x${expected.toString(16)}, computed 0x${actual.toString(16)})`,
      );
  }
  let offset = HEADER_SIZE + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = buf[offset++];
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG has more than one body section');
      const r = readDocument(buf, offset, end);
      body = r.doc;
      offset = r.next;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('truncated document sequence');
      const size = buf.readInt32LE(offset);
      const seqEnd = offset + size;
      if (size < 5 || seqEnd > end) throw new ProtocolError(`document sequence size ${size} overruns the message`);
      const id = readCString(buf, offset + 4, seqEnd);
      const docs: Document[] = [];
      let p = id.next;
      while (p < seqEnd) {
        const r = readDocument(buf, p, seqEnd);
        docs.push(r.doc);
        p = r.next;
      }
      sequences.push([id.value, docs]);
      offset = seqEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError('OP_MSG has no body section');
  for (const [id, docs] of sequences) {
    if (id in body) throw new ProtocolError(`OP_MSG field ${id} is both in the body and in a document sequence`);
    body[id] = docs;
  }
  return { kind: 'msg', header, flags, moreToCome: (flags & MSG_MORE_TO_COME) !== 0, command: body };
}

function decodeQuery(header: MessageHeader, buf: Buffer): QueryRequest {
  let offset = HEADER_SIZE + 4; // flags are not used by a command query
  const name = readCString(buf, offset, buf.length);
  offset = name.next + 8; // numberToSkip, numberToReturn
  const q = readDocument(buf, offset, buf.length);
  return { kind: 'query', header, fullCollectionName: name.value, query: q.doc };
}

function writeHeader(buf: Buffer, length: number, requestId: number, responseTo: number, opCode: number): void {
  buf.writeInt32LE(length, 0);
  buf.writeInt32LE(requestId, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
}

/** An OP_MSG reply with a single body section. */
export function encodeMsgReply(requestId: number, responseTo: number, doc: Document): Buffer {
  const body = BSON.serialize(doc);
  const out = Buffer.allocUnsafe(HEADER_SIZE + 5 + body.length);
  writeHeader(out, out.length, requestId, responseTo, OP_MSG);
  out.writeUInt32LE(0, HEADER_SIZE);
  out[HEADER_SIZE + 4] = 0;
  out.set(body, HEADER_SIZE + 5);
  return out;
}

export const REPLY_QUERY_FAILURE = 1 << 1;

/** An OP_REPLY carrying one document (the answer to a legacy command query). */
export function encodeOpReply(requestId: number, responseTo: number, doc: Document, responseFlags = 0): Buffer {
  const body = BSON.serialize(doc);
  const out = Buffer.allocUnsafe(HEADER_SIZE + 20 + body.length);
  writeHeader(out, out.length, requestId, responseTo, OP_REPLY);
  out.writeInt32LE(responseFlags, HEADER_SIZE);
  out.writeBigInt64LE(0n, HEADER_SIZE + 4); // cursorId
  out.writeInt32LE(0, HEADER_SIZE + 12); // startingFrom
  out.writeInt32LE(1, HEADER_SIZE + 16); // numberReturned
  out.set(body, HEADER_SIZE + 20);
  return out;
}
