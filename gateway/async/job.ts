/**
 * What a queued call carries: the request as it arrived (method, path below the function,
 * query, end-to-end headers, body as base64), who to tell, and when it was accepted.
 */
export interface AsyncJobData {
  callId: string;
  /** `name.namespace` */
  function: string;
  method: string;
  /** Path below the function, with its query string: `/sub/path?q=1`. */
  path: string;
  headers: Record<string, string>;
  bodyBase64: string;
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
