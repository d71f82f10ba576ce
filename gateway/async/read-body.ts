/**
 * Reads a request body into memory up to a limit (queued calls are stored whole in Redis):
 * 413 as soon as it grows past the limit, 400 when the client stops sending before the end.
 */
import type { IncomingMessage } from 'node:http';
import { PlatformError } from '../../core/errors.ts';

export function readBoundedBody(req: IncomingMessage, limit: number, hint: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: PlatformError) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (err) {
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit)
        return finish(
          new PlatformError('payload_too_large', `request body is larger than the ${limit} bytes allowed for ${hint}`, {
            details: { limit },
          }),
        );
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => finish());
    req.once('aborted', () =>
      finish(
        new PlatformError('bad_request', 'the request body ended before its declared length; send the whole body'),
      ),
    );
    req.once('error', (err) =>
      finish(new PlatformError('bad_request', `the request body could not be read: ${err.message}`)),
    );
  });
}
