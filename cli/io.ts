/** Where a command writes and reads; main passes the process's streams, tests their own. */
import type { Readable } from 'node:stream';

export interface Output {
  write(chunk: string | Uint8Array): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  stdin: Readable & { isTTY?: boolean };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
