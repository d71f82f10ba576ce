/**
 * One error type for the whole platform. Every error that reaches a user carries a stable
 * `code`; `httpStatusFor` is the single place that turns codes into HTTP statuses, and
 * `codeForStatus` the single way back for an answer that names no code.
 */
export type ErrorCode =
  | 'bad_request' // malformed input: JSON, missing/invalid field, bad annotation
  | 'invalid_name' // a function, namespace, secret or image name that is not allowed
  | 'unauthorized' // missing or wrong credentials
  | 'forbidden' // credentials valid, but not for this resource
  | 'not_found' // unknown function, secret, namespace, replica
  | 'conflict' // already exists
  // admission control: a tenant limit, the per-function replica ceiling or a node's capacity (gateway/admission/)
  | 'limit_exceeded'
  | 'payload_too_large' // request body over the configured limit
  | 'too_many_requests' // a replica's queue is full or it cannot meet the request's deadline (SLO)
  | 'image_not_found' // a deployment names an image that is not in the image store
  | 'unsupported_device' // a device backend that cannot run on this node
  | 'no_replicas' // no ready replica within the bounded wait
  | 'upstream_failed' // a replica could not be reached or broke the connection
  | 'upstream_timeout' // a replica did not answer within the upstream timeout
  | 'unavailable' // a dependency (store, node agent, redis) is briefly gone
  | 'not_implemented' // an optional feature that this deployment does not have
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_name: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  limit_exceeded: 403,
  payload_too_large: 413,
  too_many_requests: 429,
  image_not_found: 400,
  unsupported_device: 400,
  no_replicas: 503,
  upstream_failed: 502,
  upstream_timeout: 504,
  unavailable: 503,
  not_implemented: 501,
  internal: 500,
};

export class PlatformError extends Error {
  override name = 'PlatformError';
  readonly code: ErrorCode;
  /** Extra machine-readable facts (the field at fault, the limit, ...). */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return httpStatusFor(this.code);
  }
}

export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/**
 * The code a status stands for when an error answer names none (a body that is not the platform's
 * `{message, code}` JSON: a proxy's page, plain text): the general code of the status (403 is
 * `forbidden`, not `limit_exceeded`); undefined for the statuses without one, which each caller
 * maps to its own fallback.
 */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  501: 'not_implemented',
  502: 'upstream_failed',
  503: 'unavailable',
};

export function codeForStatus(status: number): ErrorCode | undefined {
  return CODE_OF_STATUS[status];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in STATUS;
}

/** Whatever was thrown, as a PlatformError (unknown errors become `internal`). */
export function toPlatformError(err: unknown): PlatformError {
  if (err instanceof PlatformError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PlatformError('internal', message, { cause: err });
}

/** Thrown for configuration that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}
