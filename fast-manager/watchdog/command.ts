/**
 * Whether a command names an executable: a path (relative to the working directory) or a name
 * found on PATH. The host-side check before a forking replica starts, and the watchdog's own at
 * its start; a sandbox shows a subset of the host at the same paths, so what the host lacks, the
 * replica lacks too.
 */
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export function commandExists(command: string, path: string, cwd: string): boolean {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command === '') return false;
  if (command.includes('/')) return ok(isAbsolute(command) ? command : resolve(cwd, command));
  return path.split(':').some((dir) => dir !== '' && ok(join(isAbsolute(dir) ? dir : resolve(cwd, dir), command)));
}
