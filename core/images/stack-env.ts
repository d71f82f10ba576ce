/**
 * `${VAR}` substitution in stack files, as faas-cli does it; on its own (no schema library) so that
 * the CLI can read a stack's gateway without loading the stack schema (cli/stack-gateway.ts).
 */
export type Env = Record<string, string | undefined>;

/** `${VAR}` and `${VAR:-default}` (default used when VAR is unset or empty). */
export function substituteEnv(text: string, env: Env): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, dflt: string | undefined) => {
    const v = env[name];
    return v !== undefined && v !== '' ? v : (dflt ?? '');
  });
}
