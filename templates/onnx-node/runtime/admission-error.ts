/** Why the batcher turned a request away; the HTTP layer answers 429 (code too_many_requests). */
import { PlatformError } from 'fastgshare/core/errors.ts';

export type RejectReason = 'queue_full' | 'slo_unattainable' | 'deadline_passed' | 'closed';

export class AdmissionRejectedError extends PlatformError {
  override name = 'AdmissionRejectedError';
  constructor(
    readonly reason: RejectReason,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super('too_many_requests', message, { details: { reason, ...details } });
  }
}
