/** What the node offers to device backends: its cores, `taskset`, and the CUDA probe. */
import { accessSync, constants } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { defaultCudaLibraryDirs, ortBinaryDir, probeCuda, type CudaProbe } from '../../core/devices/cuda-probe.ts';

/** The absolute path of an executable found on `path` (a PATH value), or undefined. */
export function findExecutable(name: string, path: string): string | undefined {
  for (const dir of path.split(':').filter(Boolean)) {
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function nodeCores(): number[] {
  return cpus().map((_, i) => i);
}

export function cudaProbe(ldLibraryPath: string | undefined): () => CudaProbe {
  return () => probeCuda(ortBinaryDir(), defaultCudaLibraryDirs(ldLibraryPath));
}
