/**
 * Splits an fprocess command line ("node index.js --flag 'a b'") into argv, the way a POSIX
 * shell would for plain words and quotes, so that a replica runs without a shell in between and
 * signals reach the real process. Expansions ($VAR, globs, pipes) are not supported.
 */
import { PlatformError } from '../../core/errors.ts';

export function splitCommandLine(line: string, field: string): string[] {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) current += line[++i];
      else current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < line.length) current += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
    } else {
      if ('|&;<>`'.includes(c)) {
        throw new PlatformError(
          'bad_request',
          `${field}: "${line}" uses shell syntax (${c}); give a plain command such as "node index.js"`,
          { details: { field } },
        );
      }
      current += c;
      inWord = true;
    }
  }
  if (quote)
    throw new PlatformError('bad_request', `${field}: "${line}" has an unterminated ${quote} quote`, {
      details: { field },
    });
  if (inWord) args.push(current);
  if (args.length === 0)
    throw new PlatformError('bad_request', `${field}: the command is empty; give a command such as "node index.js"`, {
      details: { field },
    });
  return args;
}
