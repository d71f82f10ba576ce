/**
 * The replica's environment: the variables the node agent (fast-manager/: replicas/env.ts,
 * devices/device-env.ts, sharing/node-sharing.ts, http/forward-tokens.ts, sandbox/) sets for a
 * replica process and the template runtimes read (templates/onnx-node/runtime: http/config.ts,
 * backends/config.ts, replica.ts; the built-in watchdog, fast-manager/watchdog/config.ts). The
 * node-http template reads the identity variables, the secrets folder, the forward token and PORT
 * under the same names but declares them itself, so that it stays self-contained
 * (test/templates/replica-env.test.ts holds them equal).
 *
 * Besides these the agent sets standard variables that are not this platform's vocabulary: TMPDIR,
 * HOME, PATH, NODE_ENV, `fprocess` (OpenFaaS: the function's command line), and for a device
 * OMP_NUM_THREADS / VIPS_CONCURRENCY (cpu: the pinned cores) and CUDA_MPS_ACTIVE_THREAD_PERCENTAGE
 * (cuda: the partition). The deployment's own `envVars` come first and may set the ones the agent
 * leaves unset (FASTGSHARE_MAX_QUEUE, FASTGSHARE_LOG_LEVEL); what the agent sets wins.
 */
export const REPLICA_ENV = {
  // identity (replicas/env.ts)
  /** The port the replica listens on (OpenFaaS's name). */
  port: 'PORT',
  /** The function's name. */
  function: 'FASTGSHARE_FUNCTION',
  /** The function's namespace. */
  namespace: 'FASTGSHARE_NAMESPACE',
  /**
   * The replica's id on its node: the token server knows it by it, and the agent finds its processes by it
   * (/proc/<pid>/environ).
   */
  replicaId: 'FASTGSHARE_REPLICA_ID',
  /** Folder of the function's secrets, one 0600 file per secret. */
  secretsDir: 'FASTGSHARE_SECRETS_DIR',
  /**
   * The token every request must carry in FORWARD_TOKEN_HEADER (core/contracts/node-agent.ts), else 403; fresh per
   * launch (http/forward-tokens.ts).
   */
  forwardToken: 'FASTGSHARE_FORWARD_TOKEN',

  // time sharing (sharing/node-sharing.ts), for a replica with a time quota
  /** Unix socket of the node's token channel (core/contracts/token-channel.ts); unset: the replica runs ungated. */
  tokenSocket: 'FASTGSHARE_TOKEN_SOCKET',
  /** The replica's secret for the token channel's hello, fresh per launch and only in its environment. */
  tokenKey: 'FASTGSHARE_TOKEN_KEY',

  // the model service (devices/device-env.ts, from the fastgshare/* annotations)
  /** Latency objective of one request, ms. */
  sloMs: 'FASTGSHARE_SLO_MS',
  /** Largest batch the runtime forms. */
  maxBatch: 'FASTGSHARE_MAX_BATCH',
  /** Most waiting requests per model (not set by the agent; the deployment's envVars may). */
  maxQueue: 'FASTGSHARE_MAX_QUEUE',
  /** Guaranteed time quota per window, 0..1 (informational: the token server enforces it). */
  quotaRequest: 'FASTGSHARE_QUOTA_REQUEST',
  /** Most time quota per window, above 0 and at most 1 (informational, as quotaRequest). */
  quotaLimit: 'FASTGSHARE_QUOTA_LIMIT',
  /** `debug` for debug logs (not set by the agent; the deployment's envVars may). */
  logLevel: 'FASTGSHARE_LOG_LEVEL',

  // the device (devices/device-env.ts)
  /** cpu | emulated | cuda. */
  device: 'FASTGSHARE_DEVICE',
  /** Compute partition of the device, percent 1..100. */
  partition: 'FASTGSHARE_PARTITION',
  /** cpu: the cores the replica is pinned to, taskset syntax "0-3,6" (core/devices/cpu-cores.ts). */
  cpus: 'FASTGSHARE_CPUS',
  /** emulated: the calibrated model the function behaves like (e.g. resnet50). */
  emulatedProfile: 'FASTGSHARE_EMULATED_PROFILE',
  /** emulated: folder of the calibration CSVs. */
  calibrationDir: 'FASTGSHARE_CALIBRATION_DIR',
  /** emulated: index of the node's emulated device (informational; the socket below is that device's). */
  emulatedDevice: 'FASTGSHARE_EMULATED_DEVICE',
  /** emulated: unix socket of that device (core/contracts/emulated-device.ts); unset: each batch sleeps on its own. */
  emulatedDeviceSocket: 'FASTGSHARE_EMULATED_DEVICE_SOCKET',
  /** cuda: the device id. */
  cudaDevice: 'FASTGSHARE_CUDA_DEVICE',
  /** cuda: device-memory limit of the replica, bytes. */
  gpuMemoryBytes: 'FASTGSHARE_GPU_MEMORY_BYTES',
  /** on | off: open the model from the node's shared copy. */
  modelSharing: 'FASTGSHARE_MODEL_SHARING',
  /** Folder of the node's shared model copies (model sharing needs it). */
  modelCache: 'FASTGSHARE_MODEL_CACHE',
} as const;
