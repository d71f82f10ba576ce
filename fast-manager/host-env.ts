/**
 * The few variables of the agent's own environment that replicas inherit (PATH, HOME). This is
 * the agent's only read of its environment besides core/config.ts, and nothing else of it (tokens,
 * credentials) ever reaches a replica.
 */
import type { Env } from '../core/config.ts';

export interface HostEnv {
  path: string;
  home: string;
  /** Extra folders of shared libraries (the cuda device looks for CUDA there). */
  ldLibraryPath?: string;
}

export function readHostEnv(env: Env = process.env): HostEnv {
  return {
    path: env.PATH || '/usr/local/bin:/usr/bin:/bin',
    home: env.HOME || '/tmp',
    ...(env.LD_LIBRARY_PATH ? { ldLibraryPath: env.LD_LIBRARY_PATH } : {}),
  };
}
