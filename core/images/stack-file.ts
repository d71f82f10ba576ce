/**
 * The faas-cli stack file (`stack.yml`): parsed with `yaml`, `${VAR}` / `${VAR:-default}`
 * substituted from an injected environment (as faas-cli does), validated with zod. Errors name
 * the file, the function and the field to fix.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlatformError } from '../errors.ts';
import { validateFunctionName } from '../names.ts';
import { substituteEnv } from './stack-env.ts';

type Env = Record<string, string | undefined>;

/** YAML scalars (numbers, booleans) are accepted where faas-cli takes strings. */
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const stringMap = z.record(z.string(), scalar);
const resources = z.object({ memory: scalar.optional(), cpu: scalar.optional() }).loose();

export const StackFunctionSchema = z
  .object({
    lang: z.string().min(1).optional(),
    handler: z.string().min(1).optional(),
    image: z.string({ error: 'is required: the bundle name, e.g. "echo:latest"' }).min(1, 'must not be empty'),
    fprocess: z.string().min(1).optional(),
    namespace: z.string().optional(),
    environment: stringMap.nullish(),
    environment_file: z.array(z.string()).nullish(),
    secrets: z.array(z.string()).nullish(),
    constraints: z.array(z.string()).nullish(),
    labels: stringMap.nullish(),
    annotations: stringMap.nullish(),
    limits: resources.nullish(),
    requests: resources.nullish(),
    readonly_root_filesystem: z.boolean().optional(),
    build_args: stringMap.nullish(),
    skip_build: z.boolean().optional(),
  })
  .loose();
export type StackFunction = z.infer<typeof StackFunctionSchema>;

export const StackFileSchema = z
  .object({
    version: scalar.optional(),
    provider: z.object({ name: z.string().optional(), gateway: z.string().optional() }).loose().optional(),
    functions: z.record(z.string(), StackFunctionSchema, {
      error: 'is required: a map of function name to its settings',
    }),
    configuration: z.unknown().optional(),
  })
  .loose();
export type StackFile = z.infer<typeof StackFileSchema>;

export interface LoadedStack {
  /** Absolute path of the stack file ('' when parsed from text). */
  file: string;
  /** Directory that relative paths (handler, template/, build/) are resolved against. */
  dir: string;
  spec: StackFile;
}

export { substituteEnv };

export function parseStack(text: string, opts: { env?: Env; file?: string; dir?: string } = {}): LoadedStack {
  const where = opts.file || 'stack file';
  let raw: unknown;
  try {
    raw = parseYaml(substituteEnv(text, opts.env ?? {}));
  } catch (err) {
    throw new PlatformError('bad_request', `${where}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PlatformError('bad_request', `${where}: expected a YAML map with "provider" and "functions"`);
  }
  const result = StackFileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.map(String);
    const at =
      path[0] === 'functions' && path.length > 1
        ? `function "${path[1]}", field "${path.slice(2).join('.') || '(settings)'}"`
        : `field "${path.join('.') || '(top level)'}"`;
    throw new PlatformError('bad_request', `${where}: ${at}: ${issue.message}`, { details: { field: path.join('.') } });
  }
  for (const name of Object.keys(result.data.functions)) validateFunctionName(name, `${where}: function name`);
  const file = opts.file ? resolve(opts.file) : '';
  return { file, dir: opts.dir ?? (file ? dirname(file) : process.cwd()), spec: result.data };
}

export async function loadStackFile(path: string, env: Env = {}): Promise<LoadedStack> {
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
  return parseStack(text, { env, file: path });
}

/** The stack's functions, or just `filter` (an error naming the ones that exist when absent). */
export function selectFunctions(stack: LoadedStack, filter?: string): Array<[string, StackFunction]> {
  const all = Object.entries(stack.spec.functions);
  if (!filter) return all;
  const picked = all.filter(([name]) => name === filter);
  if (picked.length === 0) {
    throw new PlatformError(
      'not_found',
      `no function "${filter}" in ${stack.file || 'the stack file'}; it has: ${all.map(([n]) => n).join(', ') || '(none)'}`,
    );
  }
  return picked;
}
