/**
 * A function's `fastgshare/*` annotations and their one parser (a zod schema), read the same way
 * by the gateway at deploy time (admission: a bad value is a 400 before anything is stored), the
 * node agent (device launcher, token shares, replica groups), the auto-scaler, the invocation
 * path (invoke auth, SLO metering) and the profiler:
 *   fastgshare/device               cpu | emulated | cuda                       (default cpu)
 *   fastgshare/gpu_sm_partition     compute partition, percent from 1 to 100    (default 100)
 *                                   cpu: share of the node's cores; cuda: MPS active-thread %
 *   fastgshare/gpu_mem              device memory of one replica, e.g. "2Gi"    (cuda, emulated)
 *   fastgshare/gpu_quota_request    time quota per window the replica is guaranteed, 0..1
 *                                   (0 = best effort: no guarantee, runs when others leave time)
 *   fastgshare/gpu_quota_limit      time quota per window the replica may use at most, above 0
 *                                   and at most 1, not below the request (default 1 with a request)
 *   fastgshare/slo_ms               latency objective of one request, ms; makes the function
 *                                   managed by the auto-scaler
 *   fastgshare/max_batch            largest batch the runtime forms, 1..1024
 *   fastgshare/emulated_profile     emulated: the calibrated model it behaves like (e.g. v100-resnet50)
 *   fastgshare/emulated_device      emulated: index of the node's emulated device, below the
 *                                   node's FASTGSHARE_EMULATED_DEVICES   (default 0)
 *   fastgshare/cuda_device          cuda: device id                             (default 0)
 *   fastgshare/model_sharing        on | off: replicas of one model on this node map one copy of
 *                                   its weights (cpu)                           (default on)
 *   fastgshare/model                the model's profile key (else the function's name)
 *   fastgshare/invoke_auth          public (default, as in OpenFaaS) | tenant (the owner's key
 *                                   is required to invoke)
 * An absent or blank value takes the default. A value out of range or of the wrong form is never
 * clamped or ignored: it is a 400 (`bad_request`) naming the annotation and saying what to use.
 * A deployment with none of the DEVICE_ANNOTATIONS is not a model function: it runs as a plain
 * process.
 */
import { z } from 'zod';
import { PlatformError } from '../errors.ts';
import { cudaDeviceId, DEVICE_KINDS, emulatedDeviceId, type DeviceKind } from './devices.ts';
import { readMemoryBytes } from './quantity.ts';

/** The device and sharing settings: a deployment with any of them is a model function. */
export const DEVICE_ANNOTATIONS = {
  device: 'fastgshare/device',
  partition: 'fastgshare/gpu_sm_partition',
  memory: 'fastgshare/gpu_mem',
  quotaRequest: 'fastgshare/gpu_quota_request',
  quotaLimit: 'fastgshare/gpu_quota_limit',
  sloMs: 'fastgshare/slo_ms',
  maxBatch: 'fastgshare/max_batch',
  emulatedProfile: 'fastgshare/emulated_profile',
  cudaDevice: 'fastgshare/cuda_device',
  emulatedDevice: 'fastgshare/emulated_device',
  modelSharing: 'fastgshare/model_sharing',
} as const;

/** Every annotation the platform reads from a function. */
export const ANNOTATIONS = {
  ...DEVICE_ANNOTATIONS,
  model: 'fastgshare/model',
  invokeAuth: 'fastgshare/invoke_auth',
} as const;

export type InvokeAuth = 'public' | 'tenant';

/** The device settings (what the node agent needs to run a replica). */
export interface DeviceRequest {
  device: DeviceKind;
  partitionPercent: number;
  memoryBytes?: number;
  quotaRequest?: number;
  quotaLimit?: number;
  sloMs?: number;
  maxBatch?: number;
  emulatedProfile?: string;
  cudaDevice: number;
  /** Index of the node's emulated device (emulated; the device launcher checks it against the node's count). */
  emulatedDevice: number;
  /** Replicas of the model on this node share one copy of its weights. */
  modelSharing: boolean;
}

/** Everything the annotations say. */
export interface FunctionAnnotations extends DeviceRequest {
  model?: string;
  invokeAuth: InvokeAuth;
}

interface Range {
  min: number;
  max: number;
  whole?: boolean;
  /** min itself is out of range. */
  openMin?: boolean;
  /** What the number means, for the error message. */
  unit?: string;
}

/** The one rule for each numeric annotation. */
export const ANNOTATION_RANGES = {
  quotaRequest: { min: 0, max: 1, unit: 'fraction of each time window; 0 = best effort' },
  quotaLimit: { min: 0, max: 1, openMin: true, unit: 'fraction of each time window' },
  partition: { min: 1, max: 100, unit: 'percent of the device' },
  sloMs: { min: 0, max: 3_600_000, openMin: true, unit: 'ms' },
  maxBatch: { min: 1, max: 1024, whole: true },
  cudaDevice: { min: 0, max: 1024, whole: true },
  emulatedDevice: { min: 0, max: 63, whole: true, unit: "index of the node's emulated device" },
} satisfies Record<string, Range>;

/** An annotation's text, trimmed; absent or blank is undefined (the default applies). */
const blankIsAbsent = (v: unknown) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim()) : v);
const notText = {
  error: (iss: { input?: unknown }) => `${JSON.stringify(iss.input)} is not text; annotation values are strings`,
};

function numberIn(r: Range) {
  const kind = r.whole ? 'a whole number' : 'a number';
  const use = `use ${kind} ${r.openMin ? 'above' : 'from'} ${r.min} ${r.openMin ? 'and at most' : 'to'} ${r.max}${r.unit ? ` (${r.unit})` : ''}`;
  const outOfRange = { error: (iss: { input?: unknown }) => `${String(iss.input)} is out of range; ${use}` };
  const form = (s: string) => Number.isFinite(Number(s)) && (!r.whole || Number.isInteger(Number(s)));
  const inRange = r.openMin ? z.number().gt(r.min, outOfRange) : z.number().gte(r.min, outOfRange);
  return z.preprocess(
    blankIsAbsent,
    z
      .string(notText)
      .refine(form, { error: (iss) => `"${String(iss.input)}" is not ${kind}; ${use}` })
      .transform(Number)
      .pipe(inRange.lte(r.max, outOfRange))
      .optional(),
  );
}

const text = z.preprocess(blankIsAbsent, z.string(notText).optional());

const A = ANNOTATIONS;
const R = ANNOTATION_RANGES;

const ON = ['on', 'true', '1', 'yes'];
const OFF = ['off', 'false', '0', 'no'];

const FIELDS = {
  [A.device]: z.preprocess(
    blankIsAbsent,
    z
      .enum(DEVICE_KINDS, { error: (iss) => `"${String(iss.input)}" is not a device: use cpu, emulated or cuda` })
      .default('cpu'),
  ),
  [A.partition]: numberIn(R.partition),
  [A.memory]: z.preprocess(
    blankIsAbsent,
    z
      .string(notText)
      .transform((raw, ctx) => {
        const r = readMemoryBytes(raw);
        if ('value' in r) return r.value;
        ctx.addIssue({ code: 'custom', message: r.problem, input: raw });
        return z.NEVER;
      })
      .optional(),
  ),
  [A.quotaRequest]: numberIn(R.quotaRequest),
  [A.quotaLimit]: numberIn(R.quotaLimit),
  [A.sloMs]: numberIn(R.sloMs),
  [A.maxBatch]: numberIn(R.maxBatch),
  [A.emulatedProfile]: text,
  [A.cudaDevice]: numberIn(R.cudaDevice),
  [A.emulatedDevice]: numberIn(R.emulatedDevice),
  [A.modelSharing]: z.preprocess(
    (v) => (typeof v === 'string' ? blankIsAbsent(v.toLowerCase()) : v),
    z
      .string(notText)
      .refine((v) => ON.includes(v) || OFF.includes(v), {
        error: (iss) =>
          `"${String(iss.input)}" is neither on nor off; use "on" (replicas share one copy of the model's weights) or "off" (each loads its own)`,
      })
      .transform((v) => ON.includes(v))
      .default(true),
  ),
  [A.model]: text,
  [A.invokeAuth]: z.preprocess(
    blankIsAbsent,
    z
      .enum(['public', 'tenant'], {
        error: (iss) =>
          `"${String(iss.input)}" is neither public nor tenant; use "public" (anyone may invoke, as in OpenFaaS) or "tenant" (the owner's key is required)`,
      })
      .default('public'),
  ),
};

/** Unknown keys pass (other annotations are the deployment's own business). */
const Schema = z.looseObject(FIELDS).superRefine((a, ctx) => {
  const request = a[A.quotaRequest];
  const limit = a[A.quotaLimit];
  if (limit !== undefined && limit < (request ?? 0)) {
    ctx.addIssue({
      code: 'custom',
      path: [A.quotaLimit],
      message: `${limit} is below ${A.quotaRequest} (${request}); use a limit from the request to 1 (the guaranteed quota cannot exceed the limit)`,
    });
  }
  if (a[A.device] === 'emulated' && a[A.emulatedProfile] === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [A.emulatedProfile],
      message: 'the emulated device needs the calibrated model to behave like, e.g. "v100-resnet50"',
    });
  }
});

/** Only what picks a device (the token scheduler's id): the other annotations are not read. */
const DeviceIdSchema = z.looseObject({
  [A.device]: FIELDS[A.device],
  [A.cudaDevice]: FIELDS[A.cudaDevice],
  [A.emulatedDevice]: FIELDS[A.emulatedDevice],
});

/** The first problem as a 400 naming the annotation (details.field: `annotations.<name>`). */
function refusal(error: z.ZodError): PlatformError {
  const issue = error.issues[0]!;
  const annotation = String(issue.path[0] ?? 'annotations');
  return new PlatformError('bad_request', `annotation ${annotation}: ${issue.message}`, {
    details: { field: `annotations.${annotation}` },
  });
}

function parse<S extends z.ZodType>(schema: S, annotations: Record<string, string> | undefined): z.output<S> {
  const r = schema.safeParse(annotations ?? {});
  if (!r.success) throw refusal(r.error);
  return r.data;
}

/** Everything the annotations say; a 400 naming the first bad annotation. */
export function readFunctionAnnotations(annotations: Record<string, string> | undefined): FunctionAnnotations {
  const a = parse(Schema, annotations);
  return {
    device: a[A.device],
    partitionPercent: a[A.partition] ?? 100,
    memoryBytes: a[A.memory],
    quotaRequest: a[A.quotaRequest],
    quotaLimit: a[A.quotaLimit],
    sloMs: a[A.sloMs],
    maxBatch: a[A.maxBatch],
    emulatedProfile: a[A.emulatedProfile],
    cudaDevice: a[A.cudaDevice] ?? 0,
    emulatedDevice: a[A.emulatedDevice] ?? 0,
    modelSharing: a[A.modelSharing],
    model: a[A.model],
    invokeAuth: a[A.invokeAuth],
  };
}

/** The device settings of readFunctionAnnotations (the node agent's view; the same checks). */
export function readDeviceRequest(annotations: Record<string, string> | undefined): DeviceRequest {
  return readFunctionAnnotations(annotations);
}

/** True when the annotations ask for a device or sharing setting at all. */
export function hasDeviceAnnotations(annotations: Record<string, string> | undefined): boolean {
  return Object.values(DEVICE_ANNOTATIONS).some((a) => annotations?.[a] !== undefined);
}

/**
 * The token scheduler's device id: one for the node's cores ("cpu"), one per emulated device
 * ("emulated", "emulated:1", …; fastgshare/emulated_device), one per GPU ("cuda:0";
 * fastgshare/cuda_device). Reads only the device annotations (the rest is checked by
 * readFunctionAnnotations).
 */
export function readDeviceId(annotations: Record<string, string> | undefined): string {
  const a = parse(DeviceIdSchema, annotations);
  const device = a[A.device];
  if (device === 'cuda') return cudaDeviceId(a[A.cudaDevice] ?? 0);
  if (device === 'emulated') return emulatedDeviceId(a[A.emulatedDevice] ?? 0);
  return device;
}

/** fastgshare/invoke_auth of a deployment body's annotations (any JSON); a 400 when it is not public or tenant. */
export function readInvokeAuth(annotations: unknown): InvokeAuth {
  const a =
    annotations && typeof annotations === 'object' && !Array.isArray(annotations)
      ? (annotations as Record<string, unknown>)
      : {};
  const r = FIELDS[A.invokeAuth].safeParse(a[A.invokeAuth]);
  if (!r.success) throw refusal(new z.ZodError(r.error.issues.map((i) => ({ ...i, path: [A.invokeAuth] }))));
  return r.data;
}
