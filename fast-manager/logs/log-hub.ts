/**
 * All function logs of the node: one bounded in-memory `FunctionLog` and one rotating file per
 * function. Replicas write lines here; `GET /v1/logs` reads and follows them.
 */
import { join } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { LogMessage } from '../../core/contracts/openfaas.ts';
import { FunctionLog } from './function-log.ts';
import { openLogFile, type LogFile } from './log-file.ts';

export interface LogHub {
  append(namespace: string, name: string, instance: string, text: string): void;
  log(namespace: string, name: string): FunctionLog;
  close(): Promise<void>;
}

export function createLogHub(opts: {
  dir: string;
  linesPerFunction: number;
  fileMaxBytes: number;
  clock: Clock;
  log: Logger;
}): LogHub {
  const logs = new Map<string, { mem: FunctionLog; file?: LogFile }>();
  const entry = (namespace: string, name: string) => {
    const key = `${namespace}/${name}`;
    let e = logs.get(key);
    if (!e) {
      e = { mem: new FunctionLog(opts.linesPerFunction) };
      logs.set(key, e);
    }
    return e;
  };
  return {
    append(namespace, name, instance, text) {
      const e = entry(namespace, name);
      const line: LogMessage = { name, namespace, instance, timestamp: opts.clock.date().toISOString(), text };
      e.mem.push(line);
      e.file ??= openLogFile(join(opts.dir, namespace, `${name}.log`), opts.fileMaxBytes, opts.log);
      e.file.append(JSON.stringify(line));
    },
    log(namespace, name) {
      return entry(namespace, name).mem;
    },
    async close() {
      await Promise.all([...logs.values()].map((e) => e.file?.close()));
      logs.clear();
    },
  };
}
