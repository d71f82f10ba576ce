/**
 * Encryption of secret values at rest: AES-256-GCM (node:crypto) with a fresh 96-bit IV per
 * value and the secret's namespace and name as additional authenticated data, so a record
 * moved to another namespace or name (by anyone who can write the store) fails to decrypt
 * instead of handing one tenant's secret to another. Each record names the key it was sealed
 * with by `keyId`, a hash of the key that does not reveal it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../../core/crypto/key-file.ts';

export interface SealedSecret {
  /** base64 */
  ciphertext: string;
  /** base64, 12 bytes */
  iv: string;
  /** base64, 16 bytes */
  tag: string;
  keyId: string;
}

export interface SecretCipher {
  readonly keyId: string;
  /** Encrypts the raw bytes of a secret for `namespace`/`name`. */
  seal(plain: Buffer, namespace: string, name: string): SealedSecret;
  /** Decrypts; throws when the key, the record or its namespace/name do not match. */
  open(s: SealedSecret, namespace: string, name: string): Buffer;
}

const ALG = 'aes-256-gcm';

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('fastgshare secrets key id\0').update(key).digest('hex').slice(0, 16);
}

function aad(namespace: string, name: string): Buffer {
  return Buffer.from(`fastgshare-secret\0${namespace}\0${name}`, 'utf8');
}

export function createSecretCipher(key: Buffer): SecretCipher {
  if (key.length !== KEY_BYTES) throw new Error(`a secrets key has ${KEY_BYTES} bytes, not ${key.length}`);
  const keyId = keyIdOf(key);
  return {
    keyId,
    seal(plain, namespace, name) {
      const iv = randomBytes(12);
      const c = createCipheriv(ALG, key, iv);
      c.setAAD(aad(namespace, name));
      const ciphertext = Buffer.concat([c.update(plain), c.final()]);
      return {
        ciphertext: ciphertext.toString('base64'),
        iv: iv.toString('base64'),
        tag: c.getAuthTag().toString('base64'),
        keyId,
      };
    },
    open(s, namespace, name) {
      if (s.keyId !== keyId) throw new Error(`sealed with key ${s.keyId}, this key is ${keyId}`);
      const iv = Buffer.from(s.iv, 'base64');
      const tag = Buffer.from(s.tag, 'base64');
      if (iv.length !== 12 || tag.length !== 16) throw new Error('the record has no valid IV or tag');
      const d = createDecipheriv(ALG, key, iv, { authTagLength: 16 });
      d.setAAD(aad(namespace, name));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(Buffer.from(s.ciphertext, 'base64')), d.final()]);
    },
  };
}
