/**
 * The CLI's settings from the environment, read once in main and passed down (the CLI's only
 * environment reads besides core/config.ts, which `up`, `gateway` and `node` use).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type Env = Record<string, string | undefined>;

export const DEFAULT_GATEWAY = 'http://127.0.0.1:8080';

export interface CliEnv {
  /** OPENFAAS_URL */
  openfaasUrl?: string;
  /** Directory of faas-cli's config.yml: OPENFAAS_CONFIG, else ~/.openfaas. */
  configDir: string;
  cwd: string;
  /** The whole environment, for stack-file `${VAR}` substitution and core/config.ts readers. */
  env: Env;
}

export function readCliEnv(env: Env, cwd = process.cwd(), home = homedir()): CliEnv {
  const configDir = env.OPENFAAS_CONFIG
    ? resolve(cwd, env.OPENFAAS_CONFIG.replace(/^~(?=$|\/)/, home))
    : join(home, '.openfaas');
  return { openfaasUrl: env.OPENFAAS_URL || undefined, configDir, cwd, env };
}
