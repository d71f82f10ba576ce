/**
 * A 32-byte symmetric key kept in a file: read from a file the operator gives, or made at first
 * start (32 bytes from the OS's CSPRNG, mode 0600). Creation is atomic — the key is written and
 * fsynced under a temporary name and hard-linked into place, which fails if another process got
 * there first (that process's key is then read) — so a file is never seen half-written.
 * The file may hold the raw 32 bytes, 64 hex characters or base64 of 32 bytes (as made by
 * `openssl rand -hex 32` or `openssl rand -base64 32`).
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createFileOnce } from '../fs/create-file-once.ts';
import { PlatformError } from '../errors.ts';

export const KEY_BYTES = 32;

export interface KeyFile {
  key: Buffer;
  /** Whether this call made the file. */
  created: boolean;
  /** Whether the file can be read by its group or others (mode & 0o077). */
  loose: boolean;
}

export interface KeyFileOptions {
  path: string;
  /** Make the file when it does not exist (for the default location; a given file must exist). */
  create: boolean;
  /** Names the setting in errors ("FASTGSHARE_SECRETS_KEY_FILE"). */
  setting: string;
}

function parseKey(bytes: Buffer): Buffer | undefined {
  if (bytes.length === KEY_BYTES) return bytes;
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) {
    const b = Buffer.from(text, 'base64');
    if (b.length === KEY_BYTES) return b;
  }
  return undefined;
}

export async function loadKeyFile(o: KeyFileOptions): Promise<KeyFile> {
  let created = false;
  let bytes: Buffer;
  try {
    bytes = await readFile(o.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PlatformError(
        'internal',
        `cannot read the key file ${o.path} (${o.setting}): ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!o.create)
      throw new PlatformError(
        'internal',
        `${o.setting} names ${o.path}, which does not exist; give a file holding 32 random bytes (e.g. \`openssl rand -hex 32 > ${o.path}; chmod 600 ${o.path}\`)`,
      );
    try {
      created = await createFileOnce(o.path, randomBytes(KEY_BYTES));
    } catch (e) {
      throw new PlatformError(
        'internal',
        `cannot create the key file ${o.path}: ${(e as Error).message}; make its directory writable or set ${o.setting}`,
        { cause: e },
      );
    }
    bytes = await readFile(o.path);
  }
  const key = parseKey(bytes);
  if (!key) {
    throw new PlatformError(
      'internal',
      `the key file ${o.path} (${o.setting}) does not hold a 32-byte key (raw, 64 hex characters or base64); it holds ${bytes.length} bytes. Restore the original key file, or give the right one with ${o.setting}`,
    );
  }
  const mode = (await stat(o.path)).mode;
  return { key, created, loose: (mode & 0o077) !== 0 };
}
