/** What a queued sweep carries (planned when it is requested) and what it reports while it runs. */
import type { ReplicaConfig } from '../core/profiles/profile-table.ts';
import type { DeviceKind } from '../core/contracts/devices.ts';
import type { SweepGrid } from './grid.ts';

export interface SweepJobData {
  namespace: string;
  function: string;
  /** Node agent URL and name the trials run on. */
  nodeUrl: string;
  node: string;
  cpus: number;
  device: DeviceKind;
  /** The device the lock is taken on: cpu, emulated, cuda:0 … */
  deviceId: string;
  deviceClass: string;
  modelVersion: string;
  grid: SweepGrid;
  trialSeconds: number;
  sloMs: number;
  maxBatch: number;
  /** Calibrated model an emulated function behaves like (no trials then). */
  emulatedProfile?: string;
  /**
   * The request body trials send, base64, with its content type; absent: the function's sample (GET /_/sample of a
   * trial replica).
   */
  input?: { base64: string; contentType: string };
  /** Who asked: a person (POST /system/profiles, the CLI) or the auto-scaler for a function without a profile. */
  origin?: 'request' | 'autoscaler';
}

export interface SweepProgress {
  /** starting: the device is the sweep's, its first trial is being prepared. */
  phase: 'waiting-for-device' | 'starting' | 'trial' | 'table' | 'done';
  /** Trials finished (stored) so far, and in all. */
  done: number;
  total: number;
  /** 1-based index of the running trial. */
  trial?: number;
  config?: ReplicaConfig;
  /** Trials found already stored when the sweep (re)started. */
  resumed: number;
  etaSeconds: number;
  /** While waiting for the device: the sweep that holds it. */
  holder?: string;
}

export interface SweepResult {
  trials: number;
  /** Trials stored marked invalid (they could not run properly on any attempt; not in the table). */
  invalid?: number;
  entries: number;
  measured: number;
  fitted: number;
  deviceClass: string;
  modelVersion: string;
  /** Where the trials' request body came from (absent when this run ran no trial). */
  input?: 'request' | 'sample';
}
