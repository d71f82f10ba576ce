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
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    log.warn('cannot create the function log directory', { path, err });
  }
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    size = 0;
  }
  /** Undefined when the file cannot be opened: the in-memory log still works, the file is skipped. */
  const open = (): WriteStream | undefined => {
    try {
      // opened now (not lazily) so the file exists when it is renamed at rotation
      const s = createWriteStream(path, { fd: openSync(path, 'a', 0o640) });
      s.on('error', (err) => log.warn('cannot write function log file', { path, err }));
      return s;
    } catch (err) {
      log.warn('cannot open function log file; lines are kept in memory only', { path, err });
      return undefined;
    }
  };
  let stream = open();
  const closing: Promise<void>[] = [];
  const end = (s: WriteStream) => {
    const done: Promise<void> = new Promise<void>((resolve) => s.end(resolve)).then(() => {
      closing.splice(closing.indexOf(done), 1);
    });
    closing.push(done);
  };
  return {
    append(line) {
      if (!stream) return;
      const bytes = Buffer.byteLength(line) + 1;
      if (size > 0 && size + bytes > maxBytes) {
        end(stream);
        try {
          renameSync(path, `${path}.1`);
        } catch (err) {
          log.warn('cannot rotate function log file', { path, err });
        }
        stream = open();
        size = 0;
      }
      stream?.write(line + '\n');
      size += bytes;
    },
    async close() {
      if (stream) end(stream);
      stream = undefined;
      await Promise.all([...closing]);
    },
  };
}
