/**
 * Whether a node can run the `cuda` device: onnxruntime-node's CUDA provider libraries in its own
 * folder and the CUDA libraries system-wide. The node agent probes at deploy time (a clear 400
 * naming what is missing) and the onnx-node runtime again when it builds the backend.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Shared libraries the CUDA provider loads: in onnxruntime-node's own folder, then system-wide. */
export const ORT_CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
export const CUDA_SYSTEM_LIBS = [
  'libcuda.so.1',
  'libcudart.so.12',
  'libcublas.so.12',
  'libcublasLt.so.12',
  'libcufft.so.11',
  'libcudnn.so.9',
];

/** The folder of onnxruntime-node's native binding for this platform. */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  const base = join(pkg, 'bin');
  const napi = existsSync(base)
    ? readdirSync(base)
        .filter((d) => d.startsWith('napi-v'))
        .sort()
        .pop()
    : undefined;
  return join(base, napi ?? 'napi-v6', process.platform, process.arch);
}

export interface CudaProbe {
  /** Library file names that could not be found, with where they were looked for. */
  missing: { library: string; searched: string[] }[];
}

/** Looks for the CUDA provider in `ortDir` and the CUDA libraries in `libraryDirs`. */
export function probeCuda(ortDir: string, libraryDirs: readonly string[]): CudaProbe {
  const missing: CudaProbe['missing'] = [];
  for (const lib of ORT_CUDA_PROVIDER_LIBS) {
    if (!existsSync(join(ortDir, lib))) missing.push({ library: lib, searched: [ortDir] });
  }
  const dirs = [ortDir, ...libraryDirs];
  for (const lib of CUDA_SYSTEM_LIBS) {
    if (!dirs.some((d) => existsSync(join(d, lib)))) missing.push({ library: lib, searched: dirs });
  }
  return { missing };
}

/** The usual places for CUDA libraries on Linux, plus the dynamic loader's extra path. */
export function defaultCudaLibraryDirs(ldLibraryPath: string | undefined): string[] {
  const fromEnv = (ldLibraryPath ?? '').split(':').filter(Boolean);
  return [
    ...fromEnv,
    '/usr/local/cuda/lib64',
    '/usr/local/cuda/targets/x86_64-linux/lib',
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
  ];
}
