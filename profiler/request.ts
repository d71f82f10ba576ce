/**
 * A sweep request (`POST /system/profiles/<fn>` body, or the CLI's flags), validated:
 *   grid          { partitions?, quotas?, batches? }  (default: the device's grid)
 *   trialSeconds  load time of one trial, 0.5–600 s   (default FASTGSHARE_PROFILER_TRIAL_SECONDS)
 *   sloMs         the SLO the open-loop search keeps   (default annotation fastgshare/slo_ms, else 1000)
 *   node          node agent URL or name to run on     (default the first node)
 *   input         { base64, contentType }: the request body trials send (needed unless emulated)
 */
import { z } from 'zod';
import { PlatformError } from '../core/errors.ts';
import { ANNOTATION_RANGES, readDeviceId, readFunctionAnnotations } from '../core/contracts/annotations.ts';
import type { DeviceKind } from '../core/contracts/devices.ts';
import { parseGridOverride, type GridOverride } from './grid.ts';

const RequestSchema = z.strictObject({
  grid: z.unknown().optional(),
  trialSeconds: z.number().min(0.5).max(600).optional(),
  sloMs: z.number().gt(ANNOTATION_RANGES.sloMs.min).max(ANNOTATION_RANGES.sloMs.max).optional(),
  node: z.string().min(1).max(300).optional(),
  input: z
    .strictObject({ base64: z.string().max(16 * 1024 * 1024), contentType: z.string().min(1).max(200) })
    .optional(),
});

export interface SweepRequest {
  grid: GridOverride;
  trialSeconds?: number;
  sloMs?: number;
  node?: string;
  input?: { base64: string; contentType: string };
}

export function parseSweepRequest(raw: unknown): SweepRequest {
  const r = RequestSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.') || '(body)';
    throw new PlatformError(
      'bad_request',
      `${field}: ${issue.message}; the body is {"grid"?: {...}, "trialSeconds"?: 20, "sloMs"?: 300, "node"?: "...", "input"?: {"base64": "...", "contentType": "image/png"}}`,
      { details: { field } },
    );
  }
  return { ...r.data, grid: parseGridOverride(r.data.grid) };
}

/** The device settings a sweep needs from the function's annotations. */
export interface FunctionDevice {
  device: DeviceKind;
  /** The token scheduler's id of the device (core/contracts/devices.ts): what the sweep's lock is taken on. */
  deviceId: string;
  maxBatch: number;
  sloMs?: number;
  emulatedProfile?: string;
}

/** Read with the one annotation parser (core/contracts/annotations.ts): a bad value is a 400 naming the annotation. */
export function readFunctionDevice(annotations: Record<string, string>): FunctionDevice {
  const a = readFunctionAnnotations(annotations);
  return {
    device: a.device,
    deviceId: readDeviceId(annotations),
    maxBatch: a.maxBatch ?? 1,
    sloMs: a.sloMs,
    emulatedProfile: a.emulatedProfile,
  };
}
