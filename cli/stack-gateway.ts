/**
 * The gateway a stack file names (`provider.gateway`), for the commands that only need to know
 * where to connect (list, invoke, describe, scale, …). faas-cli reads it from ./stack.yml the same
 * way. The file's functions are not validated here: loading the stack schema (zod) costs a CLI start
 * ~100 ms, and these commands do not use them; `build` and `deploy` read the whole file
 * (core/images/stack-file.ts).
 */
import { readFile } from 'node:fs/promises';
import { PlatformError } from '../core/errors.ts';
import { substituteEnv, type Env } from '../core/images/stack-env.ts';

/** `provider.gateway` of the stack file at `path`; undefined when the file does not set one. */
export async function readStackGateway(path: string, env: Env): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PlatformError(
      code === 'ENOENT' ? 'not_found' : 'bad_request',
      `cannot read the stack file "${path}": ${code === 'ENOENT' ? 'no such file (pass one with -f stack.yml)' : (err as Error).message}`,
      { cause: err },
    );
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(substituteEnv(text, env));
  } catch (err) {
    throw new PlatformError('bad_request', `${path}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new PlatformError('bad_request', `${path}: expected a YAML map with "provider" and "functions"`);
  const provider = (doc as { provider?: unknown }).provider;
  if (provider === undefined || provider === null) return undefined;
  if (typeof provider !== 'object' || Array.isArray(provider))
    throw new PlatformError('bad_request', `${path}: field "provider": expected a map with "gateway"`, {
      details: { field: 'provider' },
    });
  const gateway = (provider as { gateway?: unknown }).gateway;
  if (gateway === undefined || gateway === null) return undefined;
  if (typeof gateway !== 'string')
    throw new PlatformError(
      'bad_request',
      `${path}: field "provider.gateway": expected a URL such as http://127.0.0.1:8080`,
      { details: { field: 'provider.gateway' } },
    );
  return gateway;
}
