/**
 * Function templates (`template/<lang>/template.yml` as faas-cli lays them out). A stack's
 * templates are looked up in `<stack dir>/template/` first (what faas-cli uses), then in the
 * platform's own `templates/`.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlatformError } from '../errors.ts';
import { PLATFORM_ROOT } from '../version.ts';

export const TEMPLATE_FILE = 'template.yml';
export const DEFAULT_HANDLER_FOLDER = 'function';

const TemplateYamlSchema = z
  .object({
    language: z.string().min(1).optional(),
    fprocess: z.string().min(1).optional(),
    welcome_message: z.string().optional(),
    handler_folder: z.string().min(1).optional(),
  })
  .loose();

export interface TemplateInfo {
  language: string;
  /** Absolute directory of the template. */
  dir: string;
  fprocess?: string;
  handlerFolder: string;
  welcomeMessage?: string;
}

/** Where templates for a stack in `stackDir` are looked for, in order. */
export function templateSearchPath(stackDir: string): string[] {
  const local = join(stackDir, 'template');
  const platform = join(PLATFORM_ROOT, 'templates');
  return local === platform ? [local] : [local, platform];
}

/** Reads `<dir>/template.yml`; `language` defaults to the directory's name. */
export async function readTemplateYaml(dir: string, language?: string): Promise<TemplateInfo> {
  const file = join(dir, TEMPLATE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PlatformError('not_found', `no ${TEMPLATE_FILE} in ${dir}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new PlatformError('bad_request', `${file}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const parsed = TemplateYamlSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PlatformError(
      'bad_request',
      `${file}: field "${issue.path.join('.') || '(top level)'}": ${issue.message}`,
    );
  }
  const handlerFolder = parsed.data.handler_folder ?? DEFAULT_HANDLER_FOLDER;
  if (handlerFolder.includes('..') || handlerFolder.startsWith('/')) {
    throw new PlatformError(
      'bad_request',
      `${file}: handler_folder "${handlerFolder}" must be a folder inside the template`,
    );
  }
  return {
    language: parsed.data.language ?? language ?? '',
    dir,
    fprocess: parsed.data.fprocess,
    handlerFolder,
    welcomeMessage: parsed.data.welcome_message,
  };
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Template languages available on the search path (deduplicated, sorted). */
export async function listTemplates(searchPath: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const root of searchPath) {
    let names: string[];
    try {
      names = await readdir(root);
    } catch {
      continue;
    }
    for (const n of names) {
      if (
        await stat(join(root, n, TEMPLATE_FILE)).then(
          () => true,
          () => false,
        )
      )
        found.add(n);
    }
  }
  return [...found].sort();
}

/** The template for `language`; an error listing the available ones when there is none. */
export async function findTemplate(language: string, searchPath: string[]): Promise<TemplateInfo> {
  if (!/^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(language)) {
    throw new PlatformError('bad_request', `"${language}" is not a template name`);
  }
  for (const root of searchPath) {
    const dir = join(root, language);
    if (
      (await isDir(dir)) &&
      (await stat(join(dir, TEMPLATE_FILE)).then(
        () => true,
        () => false,
      ))
    ) {
      return readTemplateYaml(dir, language);
    }
  }
  const available = await listTemplates(searchPath);
  throw new PlatformError(
    'not_found',
    `unknown template "${language}": no ${language}/${TEMPLATE_FILE} in ${searchPath.join(' or ')}; available: ${available.join(', ') || '(none)'}`,
    { details: { language, available } },
  );
}
