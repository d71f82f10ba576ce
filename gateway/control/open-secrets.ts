/**
 * The gateway's secret store at start: loads (or, at the default location, makes) the secrets
 * key, removes secrets whose namespace is gone, and checks and migrates the stored records
 * (secrets.ts `prepare`). Any problem stops the start with a message saying what to do.
 */
import { join } from 'node:path';
import type { Logger } from '../../core/logger.ts';
import type { Models } from '../../core/store/models.ts';
import { loadKeyFile } from '../../core/crypto/key-file.ts';
import type { Namespaces } from './namespaces.ts';
import { createSecretCipher } from './secret-cipher.ts';
import { createSecretStore, type SecretStore } from './secrets.ts';

export const SECRETS_KEY_SETTING = 'FASTGSHARE_SECRETS_KEY_FILE';

export async function openSecretStore(d: {
  dataDir: string;
  keyFile?: string;
  models: Models;
  namespaces: Namespaces;
  log: Logger;
}): Promise<SecretStore> {
  const path = d.keyFile ?? join(d.dataDir, 'secrets.key');
  const key = await loadKeyFile({ path, create: d.keyFile === undefined, setting: SECRETS_KEY_SETTING });
  const cipher = createSecretCipher(key.key);
  if (key.created)
    d.log.info('made a new secrets key (keep it with the store: secrets cannot be read without it)', {
      file: path,
      keyId: cipher.keyId,
    });
  if (key.loose) d.log.warn('the secrets key file can be read by other users; chmod 600 it', { file: path });
  const secrets = createSecretStore(d.models, {
    cipher,
    keySource: `${path}${d.keyFile ? ` (${SECRETS_KEY_SETTING})` : ''}`,
  });
  const orphans = await d.namespaces.sweepOrphanSecrets();
  if (orphans) d.log.info('deleted secrets of namespaces that no longer exist', { secrets: orphans });
  const { sealed, migrated } = await secrets.prepare();
  if (migrated) d.log.info('encrypted secrets stored in plaintext by an earlier version', { secrets: migrated });
  d.log.debug('secrets key ready', { keyId: cipher.keyId, sealed: sealed + migrated });
  return secrets;
}
