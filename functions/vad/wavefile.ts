/**
 * wavefile's WaveFile class, whichever way the package is loaded: its UMD build gives a default
 * export under plain Node ESM, while tsx's CommonJS path exposes the named export.
 */
import * as wavefileModule from 'wavefile';

type WaveFileClass = typeof wavefileModule.WaveFile;

export const WaveFile: WaveFileClass =
  (wavefileModule as { WaveFile?: WaveFileClass }).WaveFile ??
  (wavefileModule as unknown as { default: { WaveFile: WaveFileClass } }).default.WaveFile;
export type WaveFile = InstanceType<WaveFileClass>;
