/**
 * The on-disk form of one collection: a BSON header document, the collection's documents as
 * consecutive BSON documents, and a BSON trailer with their count and CRC-32C, so a truncated
 * or damaged file is detected instead of being loaded partly.
 */
import { BSON, type Document } from 'bson';
import type { CollectionState } from './collection.ts';
import type { IndexSpec } from './indexes.ts';
import { crc32c } from './wire/crc32c.ts';

export const SNAPSHOT_FORMAT = 'fastgshare.embedded-mongo.snapshot';
export const SNAPSHOT_VERSION = 1;

export interface Snapshot {
  db: string;
  name: string;
  state: CollectionState;
}

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

const READ = { promoteLongs: true, promoteValues: true, promoteBuffers: false, bsonRegExp: false } as const;

export function encodeSnapshot(s: Snapshot): Buffer {
  const docs = s.state.documents.map((d) => BSON.serialize(d));
  const body = Buffer.concat(docs);
  const header = BSON.serialize({
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    db: s.db,
    collection: s.name,
    options: s.state.options,
    indexes: s.state.indexes,
    count: docs.length,
  });
  const trailer = BSON.serialize({ end: true, count: docs.length, crc32c: crc32c(body) });
  return Buffer.concat([header, body, trailer]);
}

function readDoc(buf: Buffer, offset: number, what: string): { doc: Document; next: number } {
  if (offset + 5 > buf.length)
    throw new SnapshotFormatError(`file ends inside the ${what} (offset ${offset} of ${buf.length})`);
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length)
    throw new SnapshotFormatError(
      `the ${what} at offset ${offset} claims ${size} bytes, past the end of the file (${buf.length} bytes)`,
    );
  try {
    return { doc: BSON.deserialize(buf.subarray(offset, offset + size), READ), next: offset + size };
  } catch (err) {
    throw new SnapshotFormatError(`the ${what} at offset ${offset} is not valid BSON: ${(err as Error).message}`);
  }
}

export function decodeSnapshot(buf: Buffer): Snapshot {
  const { doc: header, next: bodyStart } = readDoc(buf, 0, 'header');
  if (header.format !== SNAPSHOT_FORMAT)
    throw new SnapshotFormatError(`not a snapshot file (format ${JSON.stringify(header.format)})`);
  if (header.version !== SNAPSHOT_VERSION)
    throw new SnapshotFormatError(
      `unsupported snapshot version ${String(header.version)} (this build reads ${SNAPSHOT_VERSION})`,
    );
  if (
    typeof header.db !== 'string' ||
    typeof header.collection !== 'string' ||
    typeof header.count !== 'number' ||
    !Array.isArray(header.indexes)
  ) {
    throw new SnapshotFormatError('header lacks db, collection, count or indexes');
  }
  const documents: Document[] = [];
  let offset = bodyStart;
  for (let i = 0; i < header.count; i++) {
    const r = readDoc(buf, offset, `document #${i}`);
    documents.push(r.doc);
    offset = r.next;
  }
  const bodyEnd = offset;
  const { doc: trailer, next: end } = readDoc(buf, offset, 'trailer');
  if (trailer.end !== true || trailer.count !== header.count)
    throw new SnapshotFormatError('trailer does not match the header (file cut or spliced)');
  if (end !== buf.length) throw new SnapshotFormatError(`${buf.length - end} unexpected bytes after the trailer`);
  const crc = crc32c(buf.subarray(bodyStart, bodyEnd));
  if (crc !== trailer.crc32c)
    throw new SnapshotFormatError(`document checksum mismatch (stored ${String(trailer.crc32c)}, computed ${crc})`);
  return {
    db: header.db,
    name: header.collection,
    state: { options: (header.options as Document) ?? {}, indexes: header.indexes as IndexSpec[], documents },
  };
}
