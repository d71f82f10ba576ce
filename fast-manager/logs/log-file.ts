/**
 * Appends a function's log lines to `<dir>/<namespace>/<name>.log`; when the file passes
 * `maxBytes` it becomes `<name>.log.1` (replacing the previous one) and a new file starts, so a
 * function never holds more than twice `maxBytes` on disk.
 */
import { createWriteStream, mkdirSync, openSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../core/logger.ts';

export interface LogFile {
  append(line: string): void;
  close(): Promise<void>;
}

export function openLogFile(path: string, maxBytes: number, log: Logger): LogFile {
  mkdirSync(dirname(path), { recursive: true });
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    size = 0;
  }
  const open = (): WriteStream => {
    // opened now (not lazily) so the file exists when it is renamed at rotation
    const s = createWriteStream(path, { fd: openSync(path, 'a', 0o640) });
    s.on('error', (err) => log.warn('cannot write function log file', { path, err }));
    return s;
  };
  let stream = open();
  const closing: Promise<void>[] = [];
  const end = (s: WriteStream) => new Promise<void>((resolve) => s.end(resolve));
  return {
    append(line) {
      const bytes = Buffer.byteLength(line) + 1;
      if (size > 0 && size + bytes > maxBytes) {
        closing.push(end(stream));
        try {
          renameSync(path, `${path}.1`);
        } catch (err) {
          log.warn('cannot rotate function log file', { path, err });
        }
        stream = open();
        size = 0;
      }
      stream.write(line + '\n');
      size += bytes;
    },
    async close() {
      closing.push(end(stream));
      await Promise.all(closing);
    },
  };
}
