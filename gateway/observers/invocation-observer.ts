/**
 * What the proxy tells the rest of the gateway about each invocation. Metrics, the invocation
 * counter, and later metering and autoscaling subscribe; none of them sits inside the proxy.
 */
import type { ErrorCode } from '../../core/errors.ts';

export interface InvocationStart {
  /** `name.namespace` */
  function: string;
  name: string;
  namespace: string;
  callId: string;
  method: string;
  /** Clock milliseconds. */
  startedAt: number;
}

export interface InvocationEnd extends InvocationStart {
  /** HTTP status sent to the client. */
  status: number;
  durationSeconds: number;
  /** Replica that answered, when one did. */
  replicaId?: string;
  node?: string;
  /** Set when the gateway itself failed the call. */
  error?: ErrorCode;
  requestBytes: number;
}

export interface InvocationObserver {
  started?(e: InvocationStart): void;
  finished?(e: InvocationEnd): void;
}

/** Notifies each observer in turn; one that throws does not stop the others. */
export function combineObservers(
  observers: InvocationObserver[],
  onError: (err: unknown) => void = () => {},
): Required<InvocationObserver> {
  return {
    started(e) {
      for (const o of observers) {
        try {
          o.started?.(e);
        } catch (err) {
          onError(err);
        }
      }
    },
    finished(e) {
      for (const o of observers) {
        try {
          o.finished?.(e);
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}
