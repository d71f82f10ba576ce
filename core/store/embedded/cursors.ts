/**
 * Server-side cursors: the rest of a result set, handed out batch by batch by getMore.
 * Results are computed when the cursor opens; idle cursors expire like MongoDB's (10 minutes).
 */
import { BSON, Long, type Document } from 'bson';
import { CommandError } from './command-error.ts';

/** MongoDB's default first batch: 101 documents. */
export const DEFAULT_FIRST_BATCH = 101;
/** Bytes of documents per batch, below maxBsonObjectSize so the reply always fits. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
export const CURSOR_IDLE_MS = 10 * 60 * 1000;

interface OpenCursor {
  ns: string;
  docs: Document[];
  position: number;
  lastUsed: number;
}

export interface Batch {
  docs: Document[];
  /** 0 when the result is exhausted (the cursor is closed). */
  id: Long;
}

export class CursorRegistry {
  private readonly cursors = new Map<string, OpenCursor>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.cursors.size;
  }

  /** The first batch of `docs`; a cursor stays open for the rest unless singleBatch. */
  open(ns: string, docs: Document[], batchSize: number | undefined, singleBatch = false): Batch {
    const cursor: OpenCursor = { ns, docs, position: 0, lastUsed: this.now() };
    const first = takeBatch(cursor, batchSize ?? DEFAULT_FIRST_BATCH);
    if (singleBatch || cursor.position >= docs.length) return { docs: first, id: Long.ZERO };
    const id = this.newId();
    this.cursors.set(id.toString(), cursor);
    return { docs: first, id };
  }

  next(rawId: unknown, ns: string, batchSize: number | undefined): Batch {
    const key = String(rawId);
    const cursor = this.cursors.get(key);
    if (!cursor) throw new CommandError('CursorNotFound', `cursor id ${key} not found`);
    if (cursor.ns !== ns) throw new CommandError('BadValue', `cursor ${key} belongs to ${cursor.ns}, not ${ns}`);
    cursor.lastUsed = this.now();
    const docs = takeBatch(cursor, batchSize && batchSize > 0 ? batchSize : Infinity);
    if (cursor.position >= cursor.docs.length) {
      this.cursors.delete(key);
      return { docs, id: Long.ZERO };
    }
    return { docs, id: Long.fromString(key) };
  }

  kill(rawId: unknown): boolean {
    return this.cursors.delete(String(rawId));
  }

  /** Closes cursors idle for longer than CURSOR_IDLE_MS; returns how many. */
  expire(): number {
    const limit = this.now() - CURSOR_IDLE_MS;
    let n = 0;
    for (const [id, c] of this.cursors) {
      if (c.lastUsed < limit) {
        this.cursors.delete(id);
        n++;
      }
    }
    return n;
  }

  private newId(): Long {
    for (;;) {
      // positive, below 2^53 so it also survives as a JS number
      const id = Math.floor(Math.random() * (2 ** 53 - 1)) + 1;
      if (!this.cursors.has(String(id))) return Long.fromNumber(id);
    }
  }
}

function takeBatch(cursor: OpenCursor, count: number): Document[] {
  const out: Document[] = [];
  let bytes = 0;
  while (cursor.position < cursor.docs.length && out.length < count) {
    const doc = cursor.docs[cursor.position];
    const size = BSON.calculateObjectSize(doc);
    if (out.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
    out.push(doc);
    bytes += size;
    cursor.position++;
  }
  return out;
}
