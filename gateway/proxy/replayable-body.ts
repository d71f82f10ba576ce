/**
 * The request body as it streams to a replica, counted against the size limit, with the first
 * `keepBytes` kept so that a retry (after a refused connection) can replay it from the start.
 * Nothing is read from the client until the first `open()`.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';

export interface ReplayableBody {
  /** A stream of the whole body from its first byte; replaces the previous one. */
  open(): Readable;
  /** True while every byte read so far is still kept. */
  readonly replayable: boolean;
  readonly bytesRead: number;
}

export function createReplayableBody(
  req: IncomingMessage,
  opts: { limitBytes: number; keepBytes: number; onTooLarge: () => void },
): ReplayableBody {
  let active: PassThrough | undefined;
  let listening = false;
  let ended = false;
  let waitingForDrain = false;
  let tooLarge = false;
  let kept: Buffer[] = [];
  let keptBytes = 0;
  let replayable = true;
  let bytesRead = 0;

  const onDrain = () => {
    waitingForDrain = false;
    req.resume();
  };

  function onData(chunk: Buffer): void {
    if (tooLarge) return;
    bytesRead += chunk.length;
    if (bytesRead > opts.limitBytes) {
      tooLarge = true;
      active?.destroy();
      opts.onTooLarge();
      return;
    }
    if (replayable) {
      if (keptBytes + chunk.length <= opts.keepBytes) {
        kept.push(chunk);
        keptBytes += chunk.length;
      } else {
        replayable = false;
        kept = [];
        keptBytes = 0;
      }
    }
    if (active && !active.write(chunk)) {
      waitingForDrain = true;
      req.pause();
      active.once('drain', onDrain);
    }
  }

  function listen(): void {
    listening = true;
    req.on('data', onData);
    req.on('end', () => {
      ended = true;
      if (!tooLarge) active?.end();
    });
    req.on('close', () => {
      if (!ended) active?.destroy();
    });
  }

  return {
    open() {
      if (bytesRead > 0 && !replayable) throw new Error('the request body is larger than what is kept for a retry');
      if (active) {
        active.off('drain', onDrain);
        active.destroy();
      }
      const s = new PassThrough();
      active = s;
      for (const c of kept) s.write(c);
      if (ended) s.end();
      if (!listening) listen();
      else if (waitingForDrain) onDrain();
      return s;
    },
    get replayable() {
      return replayable;
    },
    get bytesRead() {
      return bytesRead;
    },
  };
}
