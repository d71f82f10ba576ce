/**
 * Which gateway a command talks to and with which credentials, resolved as faas-cli does:
 * `--gateway` > the stack file's `provider.gateway` > OPENFAAS_URL > http://127.0.0.1:8080
 * (an argument or stack URL equal to the default does not override OPENFAAS_URL); the URL is
 * lower-cased, loses trailing slashes and gains `http://` when it has no scheme. Credentials:
 * `--username/--password`, else the login saved for that URL.
 */
import { PlatformError } from '../core/errors.ts';
import { DEFAULT_GATEWAY } from './cli-env.ts';
import type { AuthConfigFile, Credentials } from './auth-config.ts';

export function resolveGatewayUrl(
  argument: string | undefined,
  stackUrl: string | undefined,
  envUrl: string | undefined,
  dflt = DEFAULT_GATEWAY,
): string {
  let url: string;
  if (argument && argument !== dflt) url = argument;
  else if (stackUrl && stackUrl !== dflt) url = stackUrl;
  else if (envUrl) url = envUrl;
  else url = dflt;
  url = url.replace(/\/+$/, '').toLowerCase();
  if (!url.startsWith('http')) url = `http://${url}`;
  try {
    new URL(url);
  } catch {
    throw new PlatformError(
      'bad_request',
      `"${url}" is not a gateway URL: pass one like http://127.0.0.1:8080 with --gateway or OPENFAAS_URL`,
    );
  }
  return url;
}

export async function resolveCredentials(
  gateway: string,
  opts: { username?: string; password?: string },
  authFile: AuthConfigFile,
): Promise<Credentials | undefined> {
  if (opts.username !== undefined || opts.password !== undefined) {
    if (!opts.password) throw new PlatformError('bad_request', '--password is required with --username');
    return { username: opts.username || 'admin', password: opts.password };
  }
  return authFile.credentials(gateway);
}
