/**
 * An invocation observer that meters calls per function per minute: invocations, errors
 * (status >= 500 or a gateway failure), and, for functions with `fastgshare/slo_ms`, whether
 * the duration the gateway measured met it (a failed call never does).
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { InvocationObserver } from '../observers/invocation-observer.ts';
import type { FunctionInfoCache } from '../tenants/function-info.ts';
import type { UsageWriter } from './usage-writer.ts';

export interface InvocationMeter extends InvocationObserver {
  /** Resolves once every finished call has reached the writer. */
  idle(): Promise<void>;
}

export function createInvocationMeter(d: {
  writer: UsageWriter;
  info: FunctionInfoCache;
  clock: Clock;
  log: Logger;
}): InvocationMeter {
  const inFlight = new Set<Promise<void>>();
  return {
    async idle() {
      while (inFlight.size) await Promise.all(inFlight);
    },
    finished(e) {
      const at = d.clock.date().getTime();
      const failed = e.status >= 500 || e.error !== undefined;
      const p: Promise<void> = d.info.get(e.namespace, e.name).then(
        (info) => {
          if (!info) return; // removed meanwhile, or a call to an unknown function (404)
          const slo =
            info.sloMs === undefined
              ? {}
              : !failed && e.durationSeconds * 1000 <= info.sloMs
                ? { sloMet: 1 }
                : { sloViolated: 1 };
          d.writer.add({ namespace: e.namespace, name: e.name, device: info.device }, at, {
            invocations: 1,
            errorCount: failed ? 1 : 0,
            ...slo,
          });
        },
        (err: Error) => d.log.warn('cannot meter an invocation', { function: e.function, error: err.message }),
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
  };
}
