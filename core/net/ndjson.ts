/**
 * Newline-delimited JSON: one line splitter, read two ways.
 *   readJsonLines  a stream socket (the node's local channels: the token channel, the emulated
 *                  device): each line parsed and handed over; a line that is not JSON or is longer
 *                  than `maxLine` is reported and stops reading that socket's buffer. Server and
 *                  client sides use it.
 *   readNdjson     a web stream or any async stream of bytes (HTTP bodies: the node agent's log
 *                  stream as the gateway reads it, the gateway's as the CLI reads it): one value per
 *                  non-empty line, a last line without its newline included.
 */
import type { Socket } from 'node:net';

/** Cuts text into lines as it arrives; `pending` is what follows the last newline so far. */
export interface LineSplitter {
  push(text: string): string[];
  readonly pending: string;
  clear(): void;
}

export function createLineSplitter(): LineSplitter {
  let buffer = '';
  return {
    push(text) {
      buffer += text;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      return lines;
    },
    get pending() {
      return buffer;
    },
    clear() {
      buffer = '';
    },
  };
}

export interface JsonLineHandlers {
  message(msg: unknown): void;
  /** A protocol error: the line is not JSON, or too long. The caller usually closes the socket. */
  bad(message: string): void;
}

export function readJsonLines(socket: Socket, handlers: JsonLineHandlers, maxLine = 4096): void {
  const lines = createLineSplitter();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) {
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        lines.clear();
        handlers.bad('a line is not valid JSON');
        return;
      }
      handlers.message(msg);
    }
    if (lines.pending.length > maxLine) {
      lines.clear();
      handlers.bad(`a line is longer than ${maxLine} bytes`);
    }
  });
}

/** Writes one message as a line (no-op on a closed socket). */
export function writeJsonLine(socket: Socket, msg: unknown): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(msg)}\n`);
}

/**
 * Reads newline-delimited JSON from a web stream or any stream of bytes (the CLI's HTTP body), one value per non-empty
 * line (a JSON error throws).
 */
export async function* readNdjson<T>(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  const lines = createLineSplitter();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    for (const line of lines.push(decoder.decode(chunk, { stream: true })))
      if (line.trim()) yield JSON.parse(line) as T;
  }
  const rest = (lines.pending + decoder.decode()).trim();
  if (rest) yield JSON.parse(rest) as T;
}
