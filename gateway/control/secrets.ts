/**
 * Secrets per namespace. Values are encrypted at rest (secret-cipher.ts: AES-256-GCM under the
 * secrets key, bound to namespace and name) and decrypted only when resolved for replicas;
 * they are never listed and reach replicas only through `FunctionSpec.secrets` (base64 of the
 * raw bytes). Plaintext records written before encryption are re-encrypted at start (`prepare`).
 */
import type { Models } from '../../core/store/models.ts';
import { PlatformError } from '../../core/errors.ts';
import { SecretSchema, parseBody } from '../../core/contracts/openfaas.ts';
import { validateNamespace, validateSecretName } from '../../core/names.ts';
import type { SealedSecret, SecretCipher } from './secret-cipher.ts';

export interface SecretRef {
  name: string;
  namespace: string;
}

export interface SecretInput extends SecretRef {
  /** base64 of the raw bytes */
  value: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses a POST/PUT body: name, namespace, and the value as `rawValue` (base64 of the bytes) or
 * `value` (text). Both may come: faas-cli 0.18 `secret create --from-file` sends the file as
 * `rawValue` and again, whitespace-trimmed, as `value` (kept for old providers); as OpenFaaS
 * providers do, a non-empty `rawValue` wins and `value` is then ignored, so the file's bytes
 * are stored exactly.
 */
export function parseSecretBody(body: unknown, what: string): SecretInput {
  const s = parseBody(SecretSchema, body, what);
  const ref = { name: validateSecretName(s.name), namespace: validateNamespace(s.namespace) };
  const raw = s.rawValue?.replace(/\s+/g, '');
  if (raw) {
    if (raw.length % 4 !== 0 || !BASE64.test(raw))
      throw new PlatformError(
        'bad_request',
        `${what}: field "rawValue" must be base64 (standard alphabet, padded) of the secret's bytes`,
        { details: { field: 'rawValue' } },
      );
    return { ...ref, value: raw };
  }
  if (s.value === undefined)
    throw new PlatformError('bad_request', `${what}: give the secret's "value" (text) or "rawValue" (base64)`, {
      details: { field: 'value' },
    });
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
  resolve(
    namespace: string,
    names: readonly string[],
    strict: boolean,
  ): Promise<{ values: Record<string, string>; missing: string[] }>;
  /**
   * At start: refuses (with an error saying what to do) records sealed under another key or that
   * fail to decrypt, and re-encrypts plaintext records written before encryption at rest.
   */
  prepare(): Promise<{ sealed: number; migrated: number }>;
}

export interface SecretStoreOptions {
  cipher: SecretCipher;
  /** Where the key comes from, for start-up errors ("/data/secrets.key (FASTGSHARE_SECRETS_KEY_FILE)"). */
  keySource: string;
}

type SecretRecord = {
  namespace: string;
  name: string;
  value?: string | null;
  ciphertext?: string | null;
  iv?: string | null;
  tag?: string | null;
  keyId?: string | null;
};

function sealedOf(d: SecretRecord): SealedSecret | undefined {
  if (!d.ciphertext && !d.iv && !d.tag && !d.keyId) return undefined;
  return { ciphertext: d.ciphertext ?? '', iv: d.iv ?? '', tag: d.tag ?? '', keyId: d.keyId ?? '' };
}

export function createSecretStore(models: Models, o: SecretStoreOptions): SecretStore {
  const { Secret } = models;
  const { cipher } = o;
  const seal = (s: SecretInput) => cipher.seal(Buffer.from(s.value, 'base64'), s.namespace, s.name);
  /** base64 of the raw bytes of a stored record. */
  const reveal = (d: SecretRecord): string => {
    const sealed = sealedOf(d);
    if (!sealed) {
      if (typeof d.value === 'string') return d.value; // from before encryption; re-encrypted at the next start
      throw new PlatformError(
        'internal',
        `secret "${d.name}" in namespace "${d.namespace}" has neither a value nor a sealed value in the store; update it (faas-cli secret update)`,
      );
    }
    try {
      return cipher.open(sealed, d.namespace, d.name).toString('base64');
    } catch (err) {
      throw new PlatformError(
        'internal',
        `secret "${d.name}" in namespace "${d.namespace}" cannot be decrypted with the configured secrets key: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  return {
    async list(namespace) {
      const docs = await Secret.find({ namespace }, { name: 1, namespace: 1 }).sort({ name: 1 }).lean();
      return docs.map((d) => ({ name: d.name, namespace: d.namespace }));
    },
    async create(s) {
      if (await Secret.exists({ namespace: s.namespace, name: s.name })) {
        throw new PlatformError(
          'conflict',
          `secret "${s.name}" already exists in namespace "${s.namespace}"; update it with PUT /system/secrets (faas-cli secret update)`,
        );
      }
      try {
        await Secret.create({ namespace: s.namespace, name: s.name, ...seal(s) });
      } catch (err) {
        if ((err as { code?: number }).code === 11000)
          throw new PlatformError('conflict', `secret "${s.name}" already exists in namespace "${s.namespace}"`);
        throw err;
      }
    },
    async update(s) {
      const r = await Secret.updateOne(
        { namespace: s.namespace, name: s.name },
        { $set: seal(s), $unset: { value: 1 } },
      );
      if (r.matchedCount === 0)
        throw new PlatformError(
          'not_found',
          `secret "${s.name}" not found in namespace "${s.namespace}"; create it with POST /system/secrets (faas-cli secret create)`,
        );
    },
    async remove(ref) {
      const r = await Secret.deleteOne({ namespace: ref.namespace, name: ref.name });
      if (r.deletedCount === 0)
        throw new PlatformError('not_found', `secret "${ref.name}" not found in namespace "${ref.namespace}"`);
    },
    async resolve(namespace, names, strict) {
      const docs = names.length ? await Secret.find({ namespace, name: { $in: [...names] } }).lean() : [];
      const values: Record<string, string> = {};
      for (const d of docs) values[d.name] = reveal(d);
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
    async prepare() {
      const docs = (await Secret.find({}).lean()) as Array<SecretRecord & { _id: unknown }>;
      const foreign = docs.filter((d) => sealedOf(d) && d.keyId !== cipher.keyId);
      if (foreign.length) {
        const ids = [...new Set(foreign.map((d) => d.keyId || '(none)'))].join(', ');
        throw new PlatformError(
          'internal',
          `${foreign.length} secret${foreign.length > 1 ? 's' : ''} in the store (e.g. "${foreign[0]!.name}" in namespace "${foreign[0]!.namespace}") ${foreign.length > 1 ? 'were' : 'was'} encrypted with key ${ids}, but the secrets key ${o.keySource} is key ${cipher.keyId}. ` +
            'Start with the key file they were made with (FASTGSHARE_SECRETS_KEY_FILE); if that key is lost, delete those secrets from the store and create them again',
        );
      }
      let sealed = 0;
      const legacy: Array<SecretRecord & { _id: unknown }> = [];
      for (const d of docs) {
        if (sealedOf(d)) {
          reveal(d); // a record that fails authentication stops the start, naming it
          sealed++;
        } else if (typeof d.value === 'string') legacy.push(d);
        else reveal(d);
      }
      let migrated = 0;
      for (const d of legacy) {
        // conditional on the plaintext being unchanged, so a concurrent update is not undone
        const r = await Secret.updateOne(
          { _id: d._id, value: d.value },
          { $set: cipher.seal(Buffer.from(d.value!, 'base64'), d.namespace, d.name), $unset: { value: 1 } },
        );
        migrated += r.modifiedCount;
      }
      return { sealed, migrated };
    },
  };
}
