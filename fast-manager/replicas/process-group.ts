/** Signals to a replica's whole process group (replicas are spawned as group leaders). */

/** Sends `signal` to the group led by `pgid`; false when no such group is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
