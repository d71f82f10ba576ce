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
    /** base64 of the raw bytes */
    value: { type: String, required: true },
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

const replicaSchema = new Schema(
  {
    replicaId: { type: String, required: true, unique: true },
    node: { type: String, required: true },
    namespace: { type: String, required: true },
    name: { type: String, required: true },
    pid: { type: Number },
    port: { type: Number },
    state: { type: String, required: true },
    restarts: { type: Number, default: 0 },
    startedAt: { type: Date },
    lastExit: { type: Schema.Types.Mixed },
  },
  { timestamps: true, minimize: false, collection: 'replicas' },
);
replicaSchema.index({ node: 1, namespace: 1, name: 1 });

export type FunctionDoc = InferSchemaType<typeof functionSchema>;
export type SecretDoc = InferSchemaType<typeof secretSchema>;
export type NamespaceDoc = InferSchemaType<typeof namespaceSchema>;
export type ReplicaDoc = InferSchemaType<typeof replicaSchema>;

export interface Models {
  Function: Model<FunctionDoc>;
  Secret: Model<SecretDoc>;
  Namespace: Model<NamespaceDoc>;
  Replica: Model<ReplicaDoc>;
}

export function createModels(conn: Connection): Models {
  return {
    Function: conn.models.Function ?? conn.model('Function', functionSchema),
    Secret: conn.models.Secret ?? conn.model('Secret', secretSchema),
    Namespace: conn.models.Namespace ?? conn.model('Namespace', namespaceSchema),
    Replica: conn.models.Replica ?? conn.model('Replica', replicaSchema),
  } as Models;
}
