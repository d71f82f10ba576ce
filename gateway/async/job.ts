import type { InvocationCaller } from '../../core/contracts/tenants.ts';

/**
 * What a queued call carries: the request as it arrived (method, path below the function,
 * query, end-to-end headers without any credential, body as base64), whom the gateway accepted
 * it as, who to tell, and when it was accepted. Nothing in it is secret: it lives in Redis.
 */
export interface AsyncJobData {
  callId: string;
  /** `name.namespace` */
  function: string;
  method: string;
  /** Path below the function, with its query string: `/sub/path?q=1`. */
  path: string;
  /** End-to-end request headers, credentials removed (proxy/headers.ts CREDENTIAL_HEADERS). */
  headers: Record<string, string>;
  bodyBase64: string;
  /**
   * Whom invoke auth accepted the call as at submission (never the credential itself); the call
   * runs with that authority, checked again when it runs. Absent in jobs queued before this
   * field existed: anonymous.
   */
  caller?: InvocationCaller;
  callbackUrl?: string;
  /** Epoch ms when the gateway accepted the call. */
  acceptedAt: number;
}

/** What a worker's call of the function produced (the job's return value). */
export interface AsyncJobResult {
  status: number;
  durationSeconds: number;
  attempts: number;
  callback?: 'delivered' | 'failed';
}

/** Statuses worth another try (OpenFaaS Pro's list, plus 503). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
