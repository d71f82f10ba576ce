/**
 * faas-cli's credential file, `<OPENFAAS_CONFIG or ~/.openfaas>/config.yml`, so that faas-cli and
 * fastgshare share logins:
 *
 *   auths:
 *   - gateway: http://127.0.0.1:8080
 *     auth: basic
 *     token: base64(user:password)
 *
 * Entries are matched on the exact (normalised) gateway URL. Fields we do not know (faas-cli's
 * `options`, other auth types) are kept when the file is rewritten. Written with mode 0600.
 * The YAML library is loaded only when there is a file to read or write (it costs every CLI start ~40 ms).
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../core/errors.ts';

export const CONFIG_FILE = 'config.yml';
export const BASIC_AUTH = 'basic';

export interface AuthEntry {
  gateway: string;
  auth: string;
  token: string;
  [extra: string]: unknown;
}

export interface Credentials {
  username: string;
  password: string;
}

export function encodeBasicToken(c: Credentials): string {
  return Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64');
}

export function decodeBasicToken(token: string): Credentials | undefined {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return undefined;
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

export class AuthConfigFile {
  readonly path: string;

  constructor(configDir: string) {
    this.path = join(configDir, CONFIG_FILE);
  }

  private async readDoc(): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new PlatformError('internal', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    const { parse: parseYaml } = await import('yaml');
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new PlatformError(
        'bad_request',
        `${this.path} is not valid YAML (${(err as Error).message.split('\n')[0]}); fix or delete it and log in again`,
        { cause: err },
      );
    }
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw new PlatformError(
        'bad_request',
        `${this.path}: expected a map with "auths"; fix or delete it and log in again`,
      );
    return doc as Record<string, unknown>;
  }

  async entries(): Promise<AuthEntry[]> {
    const auths = (await this.readDoc()).auths;
    if (!Array.isArray(auths)) return [];
    return auths.filter(
      (a): a is AuthEntry => typeof a === 'object' && a !== null && typeof (a as AuthEntry).gateway === 'string',
    );
  }

  async lookup(gateway: string): Promise<AuthEntry | undefined> {
    return (await this.entries()).find((e) => e.gateway === gateway);
  }

  /** Basic credentials saved for `gateway`, if any. */
  async credentials(gateway: string): Promise<Credentials | undefined> {
    const e = await this.lookup(gateway);
    if (!e || e.auth !== BASIC_AUTH || typeof e.token !== 'string') return undefined;
    return decodeBasicToken(e.token);
  }

  async save(gateway: string, credentials: Credentials): Promise<void> {
    const doc = await this.readDoc();
    const auths = Array.isArray(doc.auths) ? [...(doc.auths as AuthEntry[])] : [];
    const entry: AuthEntry = { gateway, auth: BASIC_AUTH, token: encodeBasicToken(credentials) };
    const i = auths.findIndex((a) => a?.gateway === gateway);
    if (i >= 0) auths[i] = { ...auths[i], ...entry };
    else auths.push(entry);
    await this.write({ ...doc, auths });
  }

  /** Resolves false when there was no login for `gateway`. */
  async remove(gateway: string): Promise<boolean> {
    const doc = await this.readDoc();
    const auths = Array.isArray(doc.auths) ? (doc.auths as AuthEntry[]) : [];
    const kept = auths.filter((a) => a?.gateway !== gateway);
    if (kept.length === auths.length) return false;
    await this.write({ ...doc, auths: kept });
    return true;
  }

  private async write(doc: Record<string, unknown>): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const { stringify } = await import('yaml');
    await writeFile(tmp, stringify(doc), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
  }
}
