/**
 * Secrets per namespace, stored as base64 of the raw bytes. Values are never listed; they reach
 * replicas only through `FunctionSpec.secrets`.
 */
import type { Models } from '../../core/store/models.ts';
import { PlatformError } from '../../core/errors.ts';
import { SecretSchema, parseBody } from '../../core/contracts/openfaas.ts';
import { validateNamespace, validateSecretName } from '../../core/names.ts';

export interface SecretRef {
  name: string;
  namespace: string;
}

export interface SecretInput extends SecretRef {
  /** base64 of the raw bytes */
  value: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parses a POST/PUT body: name, namespace, and `value` (text) or `rawValue` (base64). */
export function parseSecretBody(body: unknown, what: string): SecretInput {
  const s = parseBody(SecretSchema, body, what);
  const ref = { name: validateSecretName(s.name), namespace: validateNamespace(s.namespace) };
  if (s.value !== undefined && s.rawValue !== undefined) throw new PlatformError('bad_request', `${what}: give either "value" or "rawValue" (base64), not both`);
  if (s.rawValue !== undefined) {
    const raw = s.rawValue.replace(/\s+/g, '');
    if (raw.length % 4 !== 0 || !BASE64.test(raw)) throw new PlatformError('bad_request', `${what}: field "rawValue" must be base64`, { details: { field: 'rawValue' } });
    return { ...ref, value: raw };
  }
  if (s.value === undefined) throw new PlatformError('bad_request', `${what}: give the secret's "value" (text) or "rawValue" (base64)`, { details: { field: 'value' } });
  return { ...ref, value: Buffer.from(s.value, 'utf8').toString('base64') };
}

/** Parses a DELETE body: {name, namespace?}. */
export function parseSecretRef(body: unknown, what: string): SecretRef {
  const s = parseBody(SecretSchema.pick({ name: true, namespace: true }), body, what);
  return { name: validateSecretName(s.name), namespace: validateNamespace(s.namespace) };
}

export interface SecretStore {
  list(namespace: string): Promise<SecretRef[]>;
  create(s: SecretInput): Promise<void>;
  update(s: SecretInput): Promise<void>;
  remove(ref: SecretRef): Promise<void>;
  /** name → base64 value; `strict` makes a missing one a 400 naming it. */
  resolve(namespace: string, names: readonly string[], strict: boolean): Promise<{ values: Record<string, string>; missing: string[] }>;
}

export function createSecretStore(models: Models): SecretStore {
  const { Secret } = models;
  return {
    async list(namespace) {
      const docs = await Secret.find({ namespace }, { name: 1, namespace: 1 }).sort({ name: 1 }).lean();
      return docs.map((d) => ({ name: d.name, namespace: d.namespace }));
    },
    async create(s) {
      if (await Secret.exists({ namespace: s.namespace, name: s.name })) {
        throw new PlatformError('conflict', `secret "${s.name}" already exists in namespace "${s.namespace}"; update it with PUT /system/secrets (faas-cli secret update)`);
      }
      try {
        await Secret.create(s);
      } catch (err) {
        if ((err as { code?: number }).code === 11000) throw new PlatformError('conflict', `secret "${s.name}" already exists in namespace "${s.namespace}"`);
        throw err;
      }
    },
    async update(s) {
      const r = await Secret.updateOne({ namespace: s.namespace, name: s.name }, { $set: { value: s.value } });
      if (r.matchedCount === 0) throw new PlatformError('not_found', `secret "${s.name}" not found in namespace "${s.namespace}"; create it with POST /system/secrets (faas-cli secret create)`);
    },
    async remove(ref) {
      const r = await Secret.deleteOne({ namespace: ref.namespace, name: ref.name });
      if (r.deletedCount === 0) throw new PlatformError('not_found', `secret "${ref.name}" not found in namespace "${ref.namespace}"`);
    },
    async resolve(namespace, names, strict) {
      const docs = names.length ? await Secret.find({ namespace, name: { $in: [...names] } }).lean() : [];
      const values: Record<string, string> = {};
      for (const d of docs) values[d.name] = d.value;
      const missing = names.filter((n) => !(n in values));
      if (strict && missing.length) {
        throw new PlatformError(
          'bad_request',
          `secret${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not found in namespace "${namespace}"; create ${missing.length > 1 ? 'them' : 'it'} first with \`faas-cli secret create ${missing[0]} -n ${namespace}\``,
          { details: { field: 'secrets', missing } },
        );
      }
      return { values, missing };
    },
  };
}
