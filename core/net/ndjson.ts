/**
 * Newline-delimited JSON over a stream socket (the node's local channels: the token channel, the
 * emulated device): reads whole lines, parses each, and reports a line that is not JSON or is
 * longer than `maxLine` (then stops reading that socket's buffer). One implementation for the
 * server and client sides.
 */
import type { Socket } from 'node:net';

export interface JsonLineHandlers {
  message(msg: unknown): void;
  /** A protocol error: the line is not JSON, or too long. The caller usually closes the socket. */
  bad(message: string): void;
}

export function readJsonLines(socket: Socket, handlers: JsonLineHandlers, maxLine = 4096): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        buffer = '';
        handlers.bad('a line is not valid JSON');
        return;
      }
      handlers.message(msg);
    }
    if (buffer.length > maxLine) {
      buffer = '';
      handlers.bad(`a line is longer than ${maxLine} bytes`);
    }
  });
}

/** Writes one message as a line (no-op on a closed socket). */
export function writeJsonLine(socket: Socket, msg: unknown): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(msg)}\n`);
}
