/**
 * Mongoose models for the platform's durable state. Built per connection (never on the global
 * mongoose instance), so a gateway and a node agent in one process can share or not share one.
 * Maps whose keys may contain dots (labels such as com.openfaas.scale.min) are stored as Mixed.
 */
import { Schema, type Connection, type Model, type InferSchemaType } from 'mongoose';

const mixedMap = { type: Schema.Types.Mixed, default: () => ({}) };

const functionSchema = new Schema(
  {
    namespace: { type: String, required: true },
    name: { type: String, required: true },
    image: { type: String, required: true },
    envProcess: { type: String },
    envVars: mixedMap,
    labels: mixedMap,
    annotations: mixedMap,
    constraints: { type: [String], default: [] },
    secrets: { type: [String], default: [] },
    limits: { type: Schema.Types.Mixed },
    requests: { type: Schema.Types.Mixed },
    readOnlyRootFilesystem: { type: Boolean, default: false },
    /** Replicas asked for (by deploy, scale or the autoscaler). */
    replicas: { type: Number, required: true, default: 1, min: 0 },
    invocationCount: { type: Number, default: 0 },
    /** Bumped on every update; node agents restart replicas when it changes. */
    generation: { type: Number, default: 1 },
  },
  { timestamps: true, minimize: false, collection: 'functions' },
);
functionSchema.index({ namespace: 1, name: 1 }, { unique: true });

const secretSchema = new Schema(
  {
    namespace: { type: String, required: true },
    name: { type: String, required: true },
    /**
     * Plaintext (base64 of the raw bytes) of a record written before secrets were encrypted;
     * re-encrypted and removed at the gateway's next start (gateway/control/secrets.ts).
     */
    value: { type: String },
    /**
     * AES-256-GCM of the raw bytes (base64), with its IV and tag, under the key `keyId`
     * (gateway/control/secret-cipher.ts).
     */
    ciphertext: { type: String },
    iv: { type: String },
    tag: { type: String },
    keyId: { type: String },
  },
  { timestamps: true, collection: 'secrets' },
);
secretSchema.index({ namespace: 1, name: 1 }, { unique: true });

const namespaceSchema = new Schema(
  {
    name: { type: String, required: true, unique: true },
    labels: mixedMap,
    annotations: mixedMap,
  },
  { timestamps: true, minimize: false, collection: 'namespaces' },
);

/** One profiler trial: a replica configuration driven with load (profiler/, issue 5). */
const profileTrialSchema = new Schema(
  {
    /** The sweep (BullMQ job id) that ran it; with trialIndex, unique: a resumed sweep never repeats a trial. */
    sweepId: { type: String, required: true },
    trialIndex: { type: Number, required: true },
    namespace: { type: String, required: true },
    function: { type: String, required: true },
    modelVersion: { type: String, required: true },
    deviceClass: { type: String, required: true },
    node: { type: String, required: true },
    /** { partitionPercent, quota, batch } */
    config: { type: Schema.Types.Mixed, required: true },
    /** Throughput, latency percentiles, error rate, busy share, memory (profiler/trial-result.ts). */
    metrics: { type: Schema.Types.Mixed, required: true },
    startedAt: { type: Date, required: true },
    durationMs: { type: Number, required: true },
  },
  { timestamps: true, minimize: false, collection: 'profile_trials' },
);
profileTrialSchema.index({ sweepId: 1, trialIndex: 1 }, { unique: true });
profileTrialSchema.index({ namespace: 1, function: 1, modelVersion: 1, deviceClass: 1 });

/** A profile table per (function, model version, device class): measured and fitted rows. */
const profileTableSchema = new Schema(
  {
    namespace: { type: String, required: true },
    function: { type: String, required: true },
    modelVersion: { type: String, required: true },
    deviceClass: { type: String, required: true },
    /** 'sweep' (measured on a node) or 'calibration' (emulated devices). */
    origin: { type: String, required: true },
    sweepId: { type: String },
    node: { type: String },
    /** ProfileEntry rows (core/profiles/profile-table.ts). */
    entries: { type: [Schema.Types.Mixed], default: [] },
    /** ModelFootprint of the function on this device class. */
    footprint: { type: Schema.Types.Mixed },
    /** The grid swept and the SLO used. */
    grid: { type: Schema.Types.Mixed },
    sloMs: { type: Number },
  },
  { timestamps: true, minimize: false, collection: 'profile_tables' },
);
profileTableSchema.index({ namespace: 1, function: 1, modelVersion: 1, deviceClass: 1 }, { unique: true });

/** A tenant: a set of namespaces and one credential, stored only as a bcrypt hash (gateway/tenants/). */
const tenantSchema = new Schema(
  {
    name: { type: String, required: true, unique: true },
    namespaces: { type: [String], default: [] },
    passwordHash: { type: String, required: true },
    /** Bumped on every rotation; caches of verified credentials compare it. */
    credentialVersion: { type: Number, default: 1 },
    /**
     * Admin overrides of the platform's default admission limits (gateway/admission/tenant-limits.ts); absent: the
     * defaults.
     */
    limits: { type: Schema.Types.Mixed },
  },
  { timestamps: true, minimize: false, collection: 'tenants' },
);
tenantSchema.index({ namespaces: 1 });

/**
 * An invoke-only API key of a tenant (gateway/tenants/api-keys.ts): `keyId` is the public part of
 * the key, `secretHash` the SHA-256 of its 256-bit random secret; the key itself is never kept.
 */
const tenantKeySchema = new Schema(
  {
    keyId: { type: String, required: true, unique: true },
    tenant: { type: String, required: true },
    name: { type: String, default: '' },
    secretHash: { type: String, required: true },
  },
  { timestamps: true, minimize: false, collection: 'tenant_keys' },
);
tenantKeySchema.index({ tenant: 1 });

/**
 * Metered usage of one function in one period (gateway/metering/): a minute, or an hour once
 * minutes older than the retention are rolled up. Written with $inc upserts only.
 */
const usageRecordSchema = new Schema(
  {
    granularity: { type: String, required: true }, // 'minute' | 'hour'
    start: { type: Date, required: true },
    namespace: { type: String, required: true },
    name: { type: String, required: true },
    /** The device kind the usage ran on (fastgshare/device: cpu, emulated, cuda), which prices are keyed by. */
    device: { type: String, required: true },
    invocations: { type: Number, default: 0 },
    errorCount: { type: Number, default: 0 },
    sloMet: { type: Number, default: 0 },
    sloViolated: { type: Number, default: 0 },
    deviceSeconds: { type: Number, default: 0 },
    reservedDeviceSeconds: { type: Number, default: 0 },
    gbSeconds: { type: Number, default: 0 },
    /** Hour records: the minute records already folded in (a repeated roll-up adds nothing). */
    rolled: { type: [Date], default: undefined },
  },
  { minimize: false, collection: 'usage_records' },
);
usageRecordSchema.index({ granularity: 1, start: 1, namespace: 1, name: 1, device: 1 }, { unique: true });
usageRecordSchema.index({ namespace: 1, start: 1 });

/** The last counter values read from one source (a node's function totals, a node's memory clock). */
const meterCursorSchema = new Schema(
  {
    source: { type: String, required: true, unique: true },
    values: { type: Schema.Types.Mixed, default: () => ({}) },
    at: { type: Date },
    /** Bumped on every write; a writer that read an older seq lost the race and adds nothing. */
    seq: { type: Number, default: 0 },
  },
  { minimize: false, collection: 'meter_cursors' },
);

export type FunctionDoc = InferSchemaType<typeof functionSchema>;
export type SecretDoc = InferSchemaType<typeof secretSchema>;
export type NamespaceDoc = InferSchemaType<typeof namespaceSchema>;
export type ProfileTrialDoc = InferSchemaType<typeof profileTrialSchema>;
export type ProfileTableDoc = InferSchemaType<typeof profileTableSchema>;

export type TenantDoc = InferSchemaType<typeof tenantSchema>;
export type TenantKeyDoc = InferSchemaType<typeof tenantKeySchema>;
export type UsageRecordDoc = InferSchemaType<typeof usageRecordSchema>;
export type MeterCursorDoc = InferSchemaType<typeof meterCursorSchema>;

export interface Models {
  Function: Model<FunctionDoc>;
  Secret: Model<SecretDoc>;
  Namespace: Model<NamespaceDoc>;
  ProfileTrial: Model<ProfileTrialDoc>;
  ProfileTable: Model<ProfileTableDoc>;
  Tenant: Model<TenantDoc>;
  TenantKey: Model<TenantKeyDoc>;
  UsageRecord: Model<UsageRecordDoc>;
  MeterCursor: Model<MeterCursorDoc>;
}

export function createModels(conn: Connection): Models {
  return {
    Function: conn.models.Function ?? conn.model('Function', functionSchema),
    Secret: conn.models.Secret ?? conn.model('Secret', secretSchema),
    Namespace: conn.models.Namespace ?? conn.model('Namespace', namespaceSchema),
    ProfileTrial: conn.models.ProfileTrial ?? conn.model('ProfileTrial', profileTrialSchema),
    ProfileTable: conn.models.ProfileTable ?? conn.model('ProfileTable', profileTableSchema),
    Tenant: conn.models.Tenant ?? conn.model('Tenant', tenantSchema),
    TenantKey: conn.models.TenantKey ?? conn.model('TenantKey', tenantKeySchema),
    UsageRecord: conn.models.UsageRecord ?? conn.model('UsageRecord', usageRecordSchema),
    MeterCursor: conn.models.MeterCursor ?? conn.model('MeterCursor', meterCursorSchema),
  } as Models;
}
