/**
 * Cuts a TCP byte stream into whole wire-protocol messages. Every message starts with its own
 * int32 length, so chunks may hold a part of a message or several messages.
 */
export const HEADER_SIZE = 16;
/** Largest message accepted (MongoDB's maxMessageSizeBytes). */
export const MAX_MESSAGE_SIZE = 48_000_000;

export class FramingError extends Error {
  override name = 'FramingError';
}

export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes from the socket; returns the complete messages now available, in order. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readInt32LE(0);
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
        throw new FramingError(`invalid message length ${length} (allowed ${HEADER_SIZE}..${MAX_MESSAGE_SIZE})`);
      }
      if (this.buffered < length) break;
      out.push(this.take(length));
    }
    return out;
  }

  /** Bytes received that do not yet form a whole message. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0];
    const message = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return message;
  }
}
