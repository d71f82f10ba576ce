/**
 * Configuration is read once, from an injected environment map (tests pass a plain object).
 * This is the only module that looks at environment variables. Every invalid value fails with
 * a ConfigError that names the variable.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.ts';
import type { LogLevel } from './logger.ts';
import type { TenantLimits } from './contracts/admission.ts';
import { DEVICE_KINDS, isDeviceKind, type DeviceKind } from './contracts/devices.ts';

export type Env = Record<string, string | undefined>;

export interface CommonConfig {
  /** FASTGSHARE_DATA_DIR: images, store snapshots, replica work dirs. */
  dataDir: string;
  /** MONGODB_URI: production store; when absent the embedded store is started. */
  mongoUri?: string;
  /**
   * FASTGSHARE_STORE_PORT: serve the embedded store on this TCP port (0 = any free port) — an
   * explicit opt-in: it has no authentication. Unset: a unix socket only this user can open.
   */
  storePort?: number;
  /** REDIS_URL */
  redisUrl: string;
  /** FASTGSHARE_LOG_LEVEL */
  logLevel: LogLevel;
  /**
   * FASTGSHARE_NODE_TOKEN or FASTGSHARE_NODE_TOKEN_FILE: the bearer credential of the node agents'
   * API, for set-ups across hosts. Unset: the agent makes one at first start and keeps it in
   * `<dataDir>/node-agent.token` (0600), where a gateway on the same data dir reads it.
   */
  nodeToken?: string;
}

export interface AdminCredentials {
  user: string;
  password: string;
}

export interface GatewayConfig extends CommonConfig {
  /** PORT */
  port: number;
  /** FASTGSHARE_HOST: address to listen on. */
  host: string;
  /** FASTGSHARE_AUTH: basic auth on /system/* (default: on when credentials are configured). */
  auth?: AdminCredentials;
  /** FASTGSHARE_NODES: node agent URLs (comma separated) when the gateway runs alone. */
  nodes: string[];
  /** FASTGSHARE_MAX_BODY_BYTES: largest invocation body (default 10 MiB). */
  maxBodyBytes: number;
  /** FASTGSHARE_READY_TIMEOUT_MS: how long an invocation waits for a ready replica before 503. */
  readyTimeoutMs: number;
  /** FASTGSHARE_UPSTREAM_TIMEOUT_MS: longest a replica may take to answer. */
  upstreamTimeoutMs: number;
  /** Async invocations (/async-function); absent when off (see readAsyncConfig). */
  async?: AsyncConfig;
  /** Profiler sweeps (/system/profiles); absent when off (see readProfilerConfig). */
  profiler?: ProfilerConfig;
  /** The SLO-aware auto-scaler; absent when off (see readAutoscaleConfig). */
  autoscale?: AutoscaleConfig;
  /** Tenants, metering and prices (see readTenancyConfig). */
  tenancy?: TenancyConfig;
  /**
   * FASTGSHARE_METRICS_PORT / FASTGSHARE_METRICS_HOST: the separate /metrics listener (see readMetricsListenConfig).
   */
  metrics?: MetricsListenConfig;
  /** Admission control: tenant limits and the per-function replica ceiling (see readAdmissionConfig). */
  admission?: AdmissionConfig;
  /** FASTGSHARE_CALLBACK_ALLOW: callback destinations let through the default refusal of local addresses. */
  callbackAllow: CallbackAllowRule[];
  /**
   * FASTGSHARE_SECRETS_KEY_FILE: the AES-256 key secrets are encrypted with in the store (32 bytes:
   * raw, 64 hex characters or base64); it must exist. Unset: `<dataDir>/secrets.key`, made 0600
   * with 32 random bytes at first start.
   */
  secretsKeyFile?: string;
}

/** One entry of FASTGSHARE_CALLBACK_ALLOW: a CIDR (any port) or a host:port endpoint. */
export type CallbackAllowRule =
  | { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6' }
  | { kind: 'endpoint'; host: string; port: number };

/**
 * The SLO-aware auto-scaler in the gateway process. On unless FASTGSHARE_AUTOSCALE=false; it
 * manages the functions that carry a `fastgshare/slo_ms` annotation (the others keep the count
 * they are given).
 */
export interface AutoscaleConfig {
  /** FASTGSHARE_AUTOSCALE_PERIOD_MS: time between scheduling rounds (default 5000). */
  periodMs: number;
  /** FASTGSHARE_AUTOSCALE_COOLDOWN_UP_MS: least time between two scale-ups of a function (default 0). */
  cooldownUpMs: number;
  /** FASTGSHARE_AUTOSCALE_COOLDOWN_DOWN_MS: least time since the last change before a scale-down (default 30000). */
  cooldownDownMs: number;
  /** FASTGSHARE_AUTOSCALE_IDLE_AFTER_MS: no calls for this long → idle, back to the minimum (default 60000). */
  idleAfterMs: number;
  /** FASTGSHARE_AUTOSCALE_PEAK_WINDOW_MS: demand never drops below the peak rate of this window (default 20000). */
  peakWindowMs: number;
  /** FASTGSHARE_AUTOSCALE_HEADROOM: spare capacity factor on the demand estimate, ≥ 1 (default 1.2). */
  headroom: number;
  /** FASTGSHARE_AUTOSCALE_DEVICES_PER_NODE: devices the scheduler assumes per node and device class (default 1). */
  devicesPerNode: number;
  /**
   * FASTGSHARE_AUTOSCALE_APPLY_CONFIG: run the plan's configurations as replica groups on the nodes (default true; the
   * stored annotations are left as deployed).
   */
  applyConfig: boolean;
  /**
   * FASTGSHARE_AUTOSCALE_VERTICAL: resize the quota of running replicas before adding or removing replicas (default
   * true).
   */
  vertical: boolean;
}

/**
 * The profiler's sweep jobs run on BullMQ in the gateway process. On when REDIS_URL is set or
 * FASTGSHARE_PROFILER=true; FASTGSHARE_PROFILER=false turns them off (the routes answer 501).
 */
export interface ProfilerConfig {
  /** FASTGSHARE_PROFILER_PREFIX: prefix of every Redis key (default "fastgshare"). */
  prefix: string;
  /** FASTGSHARE_PROFILER_QUEUE: BullMQ queue name (default "profiler"). */
  queue: string;
  /** FASTGSHARE_PROFILER_CONCURRENCY: sweeps run at once by this gateway (on distinct devices; default 2). */
  concurrency: number;
  /** FASTGSHARE_PROFILER_LOCK_MS: a running sweep's job lock and device lock, renewed while it runs (default 30000). */
  lockMs: number;
  /** FASTGSHARE_PROFILER_TRIAL_SECONDS: load time of one trial when a request gives none (default 20). */
  trialSeconds: number;
  /**
   * FASTGSHARE_PROFILER_AUTO: the auto-scaler queues a sweep for a managed function that has no
   * profile (default true; false = only sweeps someone asks for, the function keeps the safe default).
   */
  auto: boolean;
}

/**
 * Async invocations run on BullMQ in the gateway process. On when REDIS_URL is set or
 * FASTGSHARE_ASYNC=true; FASTGSHARE_ASYNC=false turns them off (the route then answers 501).
 */
export interface AsyncConfig {
  /** FASTGSHARE_ASYNC_PREFIX: prefix of every Redis key (default "fastgshare"). */
  prefix: string;
  /** FASTGSHARE_ASYNC_QUEUE: BullMQ queue name (default "async-invocations"). */
  queue: string;
  /** FASTGSHARE_ASYNC_MAX_BODY_BYTES: largest queued body (default 1 MiB; never above maxBodyBytes). */
  maxBodyBytes: number;
  /** FASTGSHARE_ASYNC_MAX_ATTEMPTS: tries per call, the first included (default 5). */
  maxAttempts: number;
  /** FASTGSHARE_ASYNC_BACKOFF_MS: delay before the first retry, doubled each time (default 1000). */
  backoffMs: number;
  /** FASTGSHARE_ASYNC_BACKOFF_MAX_MS: longest delay between retries (default 60000). */
  backoffMaxMs: number;
  /** FASTGSHARE_ASYNC_CONCURRENCY: calls run at once by this gateway's workers (default 16). */
  concurrency: number;
  /** FASTGSHARE_ASYNC_FUNCTION_CONCURRENCY: calls of one function run at once (default 4). */
  functionConcurrency: number;
  /** FASTGSHARE_ASYNC_KEEP_SECONDS: how long finished call ids are kept to refuse re-runs (default 86400). */
  keepSeconds: number;
  /**
   * FASTGSHARE_ASYNC_LOCK_MS: a running call's lock, renewed while it runs (default 30000). A call
   * whose worker lost Redis is picked up again this long after (checked every half of it).
   */
  lockMs: number;
  /** FASTGSHARE_ASYNC_SUBMIT_TIMEOUT_MS: longest a submission waits for Redis before 503 (default 2000). */
  submitTimeoutMs: number;
}

export interface NodeConfig extends CommonConfig {
  /** FASTGSHARE_NODE_PORT */
  port: number;
  host: string;
  /** FASTGSHARE_NODE_NAME (default: the host name) */
  name: string;
  /** FASTGSHARE_NODE_URL: how the gateway reaches this node (default http://127.0.0.1:<port>). */
  advertiseUrl: string;
  /** FASTGSHARE_DRAIN_TIMEOUT_MS: grace period for a stopping replica. */
  drainTimeoutMs: number;
  /** FASTGSHARE_REPLICA_START_TIMEOUT_MS: how long a replica may take to pass its health check. */
  startTimeoutMs: number;
  /**
   * FASTGSHARE_NVIDIA_SMI: the `nvidia-smi` the agent reads device memory of cuda replicas with
   * (enforces fastgshare/gpu_mem) and lists the node's GPUs with; a path, or a name looked up on
   * PATH (default nvidia-smi).
   */
  nvidiaSmi: string;
  /**
   * FASTGSHARE_EMULATED_DEVICES: how many emulated devices the node offers (default 1, 1..64);
   * each has its own token scheduler and contention server, chosen per replica by the
   * fastgshare/emulated_device annotation.
   */
  emulatedDevices: number;
  /**
   * FASTGSHARE_TIMELINE_EVENTS: token and batch events the agent keeps per device for
   * GET /v1/devices/:device/timeline (a ring buffer; default 50000, 0 turns recording off).
   */
  timelineEvents: number;
  /** Replica confinement (fast-manager/sandbox/). */
  sandbox: SandboxConfig;
}

/**
 * The replica sandbox (fast-manager/sandbox/):
 * FASTGSHARE_SANDBOX               on (default) | off: off runs replicas unconfined, as the agent's user (loudly
 * logged)
 *   FASTGSHARE_SANDBOX_BWRAP         the bubblewrap binary, a path or a name on PATH (default bwrap)
 *   FASTGSHARE_SANDBOX_UID_BASE      first uid (and gid) replicas run as (default 100000)
 *   FASTGSHARE_SANDBOX_UID_COUNT     how many uids (and namespace gids) there are (default 65536)
 *   FASTGSHARE_SANDBOX_PIDS_MAX      processes and threads per replica (cgroup pids.max, default 256)
 * FASTGSHARE_SANDBOX_NETWORK       isolated (default): replicas open no connection to this host's addresses, loopback,
 *                                    link-local or private ranges (nftables); open: no network rule
 *   FASTGSHARE_SANDBOX_EGRESS_ALLOW  comma-separated CIDRs replicas may still reach (e.g. an internal API)
 */
export interface SandboxConfig {
  enabled: boolean;
  bwrap: string;
  uidBase: number;
  uidCount: number;
  pidsMax: number;
  network: 'isolated' | 'open';
  /** CIDRs (address/prefix) let through the network rule. */
  egressAllow: string[];
}

function readSandboxConfig(env: Env): SandboxConfig {
  const mode = (env.FASTGSHARE_SANDBOX ?? '').trim().toLowerCase();
  if (mode !== '' && mode !== 'on' && mode !== 'off')
    throw new ConfigError('FASTGSHARE_SANDBOX', `"${env.FASTGSHARE_SANDBOX}" is neither on nor off`);
  const uidBase = int(env, 'FASTGSHARE_SANDBOX_UID_BASE', 100_000, 1_000, 2 ** 31 - 2);
  const uidCount = int(env, 'FASTGSHARE_SANDBOX_UID_COUNT', 65_536, 16, 2 ** 24);
  if (uidBase + uidCount > 2 ** 32 - 2)
    throw new ConfigError(
      'FASTGSHARE_SANDBOX_UID_COUNT',
      `uids ${uidBase}..${uidBase + uidCount - 1} go past the largest uid`,
    );
  return {
    enabled: mode !== 'off',
    bwrap: env.FASTGSHARE_SANDBOX_BWRAP?.trim() || 'bwrap',
    uidBase,
    uidCount,
    pidsMax: int(env, 'FASTGSHARE_SANDBOX_PIDS_MAX', 256, 8, 1_000_000),
    network: readSandboxNetwork(env),
    egressAllow: readCidrList(env, 'FASTGSHARE_SANDBOX_EGRESS_ALLOW'),
  };
}

function readSandboxNetwork(env: Env): 'isolated' | 'open' {
  const v = (env.FASTGSHARE_SANDBOX_NETWORK ?? '').trim().toLowerCase();
  if (v === '' || v === 'isolated') return 'isolated';
  if (v === 'open') return 'open';
  throw new ConfigError(
    'FASTGSHARE_SANDBOX_NETWORK',
    `"${env.FASTGSHARE_SANDBOX_NETWORK}" is neither isolated nor open`,
  );
}

/** A comma-separated list of CIDRs; a bare address is /32 (IPv4) or /128 (IPv6). */
function readCidrList(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [addr = '', prefix, ...rest] = entry.split('/');
      const family = isIP(addr);
      const max = family === 6 ? 128 : 32;
      const bits = prefix === undefined ? max : /^\d+$/.test(prefix) ? Number(prefix) : NaN;
      if (family === 0 || rest.length > 0 || !(bits >= 0 && bits <= max))
        throw new ConfigError(name, `"${entry}" is not a CIDR such as 10.1.0.0/16 or 2001:db8::/32`);
      return `${addr}/${bits}`;
    });
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `"${raw}" is not a whole number`);
  const v = Number(raw);
  if (v < min || v > max) throw new ConfigError(name, `${v} is out of range ${min}..${max}`);
  return v;
}

function url(env: Env, name: string, dflt: string | undefined, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(name, `"${raw}" must use ${protocols.join(' or ')}`);
  return raw;
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function readCommonConfig(env: Env, cwd = process.cwd()): CommonConfig {
  const level = (env.FASTGSHARE_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LEVELS.includes(level))
    throw new ConfigError('FASTGSHARE_LOG_LEVEL', `"${level}" is not one of ${LEVELS.join(', ')}`);
  return {
    dataDir: resolve(cwd, env.FASTGSHARE_DATA_DIR || '.fastgshare'),
    mongoUri: url(env, 'MONGODB_URI', undefined, ['mongodb:', 'mongodb+srv:']),
    ...(env.FASTGSHARE_STORE_PORT?.trim() ? { storePort: int(env, 'FASTGSHARE_STORE_PORT', 0, 0, 65535) } : {}),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
    logLevel: level,
    nodeToken: nodeToken(env),
  };
}

/** RFC 6750 b64token characters; at least 32 of them (a random token of 16+ bytes). */
const NODE_TOKEN = /^[A-Za-z0-9._~+/=-]{32,1024}$/;

function nodeToken(env: Env): string | undefined {
  const v = valueOrFile(env, 'FASTGSHARE_NODE_TOKEN');
  if (v === undefined) return undefined;
  if (!NODE_TOKEN.test(v))
    throw new ConfigError(
      'FASTGSHARE_NODE_TOKEN',
      'must be 32-1024 characters of letters, digits and . _ ~ + / = - (e.g. `openssl rand -hex 32`)',
    );
  return v;
}

/** Reads a value from NAME or from the file named by NAME_FILE (OpenFaaS-style secret files). */
function valueOrFile(env: Env, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`);
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`${name}_FILE`, `cannot read "${file}": ${(err as Error).message}`);
    }
  }
  return direct || undefined;
}

export function readAuth(env: Env): AdminCredentials | undefined {
  const user = valueOrFile(env, 'FASTGSHARE_ADMIN_USER');
  const password = valueOrFile(env, 'FASTGSHARE_ADMIN_PASSWORD');
  const wanted = flag(env, 'FASTGSHARE_AUTH', Boolean(user || password));
  if (!wanted) return undefined;
  if (!password)
    throw new ConfigError(
      'FASTGSHARE_ADMIN_PASSWORD',
      'basic auth is on but no admin password is set (FASTGSHARE_ADMIN_PASSWORD or FASTGSHARE_ADMIN_PASSWORD_FILE)',
    );
  if (password.length < 8) throw new ConfigError('FASTGSHARE_ADMIN_PASSWORD', 'must be at least 8 characters');
  const u = user || 'admin';
  if (u.includes(':')) throw new ConfigError('FASTGSHARE_ADMIN_USER', 'must not contain ":"');
  return { user: u, password };
}

export function readGatewayConfig(env: Env, cwd = process.cwd()): GatewayConfig {
  const nodes = (env.FASTGSHARE_NODES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of nodes) url({ FASTGSHARE_NODES: n }, 'FASTGSHARE_NODES', undefined, ['http:', 'https:']);
  return {
    ...readCommonConfig(env, cwd),
    port: int(env, 'PORT', 8080, 0, 65535),
    host: env.FASTGSHARE_HOST || '0.0.0.0',
    auth: readAuth(env),
    nodes,
    maxBodyBytes: int(env, 'FASTGSHARE_MAX_BODY_BYTES', 10 * 1024 * 1024, 1024, 2 ** 31),
    readyTimeoutMs: int(env, 'FASTGSHARE_READY_TIMEOUT_MS', 10_000, 0, 600_000),
    upstreamTimeoutMs: int(env, 'FASTGSHARE_UPSTREAM_TIMEOUT_MS', 60_000, 100, 3_600_000),
    async: readAsyncConfig(env),
    profiler: readProfilerConfig(env),
    autoscale: readAutoscaleConfig(env),
    tenancy: readTenancyConfig(env, cwd),
    metrics: readMetricsListenConfig(env),
    admission: readAdmissionConfig(env),
    callbackAllow: readCallbackAllow(env),
    secretsKeyFile: env.FASTGSHARE_SECRETS_KEY_FILE ? resolve(cwd, env.FASTGSHARE_SECRETS_KEY_FILE) : undefined,
  };
}

/**
 * FASTGSHARE_CALLBACK_ALLOW: comma-separated CIDRs ("10.1.0.0/16", "127.0.0.1/32", "::1/128";
 * a bare address is a /32 or /128) and host:port endpoints ("127.0.0.1:9000", "[::1]:9000",
 * "receiver.local:8443"). Numeric host forms are normalised as in URLs (2130706433 → 127.0.0.1).
 */
export function readCallbackAllow(env: Env): CallbackAllowRule[] {
  const name = 'FASTGSHARE_CALLBACK_ALLOW';
  const out: CallbackAllowRule[] = [];
  for (const raw of (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const bad = (why: string) =>
      new ConfigError(
        name,
        `"${raw}" ${why}; give CIDRs such as 10.1.0.0/16 or ::1/128, or host:port such as 127.0.0.1:9000`,
      );
    const slash = raw.lastIndexOf('/');
    if (slash >= 0) {
      const address = raw.slice(0, slash).replace(/^\[(.*)\]$/, '$1');
      const family = isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : undefined;
      if (!family) throw bad('is not a CIDR (the part before "/" is not an IP address)');
      const bits = raw.slice(slash + 1);
      const max = family === 'ipv4' ? 32 : 128;
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw bad(`has a prefix length that is not 0..${max}`);
      out.push({ kind: 'cidr', address, prefix: Number(bits), family });
      continue;
    }
    const bare = raw.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare)) {
      out.push({
        kind: 'cidr',
        address: bare,
        prefix: isIP(bare) === 4 ? 32 : 128,
        family: isIP(bare) === 4 ? 'ipv4' : 'ipv6',
      });
      continue;
    }
    let u: URL;
    try {
      u = new URL(`http://${raw}`);
    } catch {
      throw bad('is not a CIDR, an address or host:port');
    }
    if (u.username || u.password || u.pathname !== '/' || u.search || u.hash)
      throw bad('is not a CIDR, an address or host:port');
    if (!/:\d+$/.test(raw)) throw bad('names a host without a port (write host:port, or a CIDR for any port)');
    const port = u.port === '' ? 80 : Number(u.port);
    if (port < 1) throw bad('has port 0');
    out.push({
      kind: 'endpoint',
      host: u.hostname
        .replace(/^\[(.*)\]$/, '$1')
        .toLowerCase()
        .replace(/\.$/, ''),
      port,
    });
  }
  return out;
}

function flag(env: Env, name: string, dflt: boolean): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return dflt;
  if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(name, `"${env[name]}" must be true or false`);
  return raw === 'true' || raw === '1';
}

function decimal(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = Number(raw.trim());
  if (!Number.isFinite(v)) throw new ConfigError(name, `"${raw}" is not a number`);
  if (v < min || v > max) throw new ConfigError(name, `${v} is out of range ${min}..${max}`);
  return v;
}

export function readAutoscaleConfig(env: Env): AutoscaleConfig | undefined {
  if (!flag(env, 'FASTGSHARE_AUTOSCALE', true)) return undefined;
  return {
    periodMs: int(env, 'FASTGSHARE_AUTOSCALE_PERIOD_MS', 5_000, 50, 3_600_000),
    cooldownUpMs: int(env, 'FASTGSHARE_AUTOSCALE_COOLDOWN_UP_MS', 0, 0, 86_400_000),
    cooldownDownMs: int(env, 'FASTGSHARE_AUTOSCALE_COOLDOWN_DOWN_MS', 30_000, 0, 86_400_000),
    idleAfterMs: int(env, 'FASTGSHARE_AUTOSCALE_IDLE_AFTER_MS', 60_000, 0, 86_400_000),
    peakWindowMs: int(env, 'FASTGSHARE_AUTOSCALE_PEAK_WINDOW_MS', 20_000, 0, 86_400_000),
    headroom: decimal(env, 'FASTGSHARE_AUTOSCALE_HEADROOM', 1.2, 1, 10),
    devicesPerNode: int(env, 'FASTGSHARE_AUTOSCALE_DEVICES_PER_NODE', 1, 1, 1024),
    applyConfig: flag(env, 'FASTGSHARE_AUTOSCALE_APPLY_CONFIG', true),
    vertical: flag(env, 'FASTGSHARE_AUTOSCALE_VERTICAL', true),
  };
}

export function readProfilerConfig(env: Env): ProfilerConfig | undefined {
  // on by default wherever Redis is configured explicitly
  if (!flag(env, 'FASTGSHARE_PROFILER', Boolean(env.REDIS_URL))) return undefined;
  const part = (name: string, dflt: string) => keyPart(env, name, dflt);
  return {
    prefix: part('FASTGSHARE_PROFILER_PREFIX', 'fastgshare'),
    queue: part('FASTGSHARE_PROFILER_QUEUE', 'profiler'),
    concurrency: int(env, 'FASTGSHARE_PROFILER_CONCURRENCY', 2, 1, 64),
    lockMs: int(env, 'FASTGSHARE_PROFILER_LOCK_MS', 30_000, 1000, 600_000),
    trialSeconds: int(env, 'FASTGSHARE_PROFILER_TRIAL_SECONDS', 20, 1, 3600),
    auto: flag(env, 'FASTGSHARE_PROFILER_AUTO', true),
  };
}

const KEY_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** A Redis key prefix or queue name part. */
function keyPart(env: Env, name: string, dflt: string): string {
  const v = env[name] || dflt;
  if (!KEY_PART.test(v)) throw new ConfigError(name, `"${v}" must be 1-63 letters, digits, '_', '.' or '-'`);
  return v;
}

export function readAsyncConfig(env: Env): AsyncConfig | undefined {
  // on by default wherever Redis is configured explicitly
  if (!flag(env, 'FASTGSHARE_ASYNC', Boolean(env.REDIS_URL))) return undefined;
  const part = (name: string, dflt: string) => keyPart(env, name, dflt);
  const backoffMs = int(env, 'FASTGSHARE_ASYNC_BACKOFF_MS', 1000, 1, 3_600_000);
  return {
    prefix: part('FASTGSHARE_ASYNC_PREFIX', 'fastgshare'),
    queue: part('FASTGSHARE_ASYNC_QUEUE', 'async-invocations'),
    maxBodyBytes: int(env, 'FASTGSHARE_ASYNC_MAX_BODY_BYTES', 1024 * 1024, 0, 64 * 1024 * 1024),
    maxAttempts: int(env, 'FASTGSHARE_ASYNC_MAX_ATTEMPTS', 5, 1, 100),
    backoffMs,
    backoffMaxMs: Math.max(backoffMs, int(env, 'FASTGSHARE_ASYNC_BACKOFF_MAX_MS', 60_000, 1, 86_400_000)),
    concurrency: int(env, 'FASTGSHARE_ASYNC_CONCURRENCY', 16, 1, 1000),
    functionConcurrency: int(env, 'FASTGSHARE_ASYNC_FUNCTION_CONCURRENCY', 4, 1, 1000),
    keepSeconds: int(env, 'FASTGSHARE_ASYNC_KEEP_SECONDS', 86_400, 1, 30 * 86_400),
    lockMs: int(env, 'FASTGSHARE_ASYNC_LOCK_MS', 30_000, 1000, 600_000),
    submitTimeoutMs: int(env, 'FASTGSHARE_ASYNC_SUBMIT_TIMEOUT_MS', 2000, 50, 60_000),
  };
}

export function readNodeConfig(env: Env, hostname: string, cwd = process.cwd()): NodeConfig {
  const port = int(env, 'FASTGSHARE_NODE_PORT', 8081, 0, 65535);
  const name = env.FASTGSHARE_NODE_NAME || hostname;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(name))
    throw new ConfigError('FASTGSHARE_NODE_NAME', `"${name}" is not a valid node name (letters, digits, '-', '.')`);
  return {
    ...readCommonConfig(env, cwd),
    port,
    host: env.FASTGSHARE_NODE_HOST || '127.0.0.1',
    name,
    advertiseUrl: url(env, 'FASTGSHARE_NODE_URL', undefined, ['http:', 'https:']) ?? `http://127.0.0.1:${port}`,
    drainTimeoutMs: int(env, 'FASTGSHARE_DRAIN_TIMEOUT_MS', 10_000, 0, 600_000),
    startTimeoutMs: int(env, 'FASTGSHARE_REPLICA_START_TIMEOUT_MS', 60_000, 1_000, 600_000),
    nvidiaSmi: env.FASTGSHARE_NVIDIA_SMI?.trim() || 'nvidia-smi',
    emulatedDevices: int(env, 'FASTGSHARE_EMULATED_DEVICES', 1, 1, 64),
    timelineEvents: int(env, 'FASTGSHARE_TIMELINE_EVENTS', 50_000, 0, 10_000_000),
    sandbox: readSandboxConfig(env),
  };
}

/** What one device class costs. */
export interface PriceRates {
  /** Per device-hour (pay-per-use: device-seconds used; reserved: share reserved). */
  deviceHour: number;
  /** Per GB-hour of replica memory. */
  gbHour: number;
  /** Per million invocations. */
  millionInvocations: number;
}

export interface PricingConfig {
  currency: string;
  /** Rates for device kinds not listed in `devices`. */
  default: PriceRates;
  /** Per device kind (cpu, emulated, cuda: the fastgshare/device annotation; core/contracts/devices.ts). */
  devices: Partial<Record<DeviceKind, PriceRates>>;
}

/**
 * Tenants and metering (gateway/tenants, gateway/metering):
 *   FASTGSHARE_TENANT_HASH_ROUNDS     bcrypt cost of tenant credentials (default 10, 4..15)
 *   FASTGSHARE_METERING               false turns metering off in this gateway (default on)
 *   FASTGSHARE_METER_POLL_MS          how often node usage is read (default 10000)
 *   FASTGSHARE_METER_FLUSH_MS         how often gateway counts are written (default 5000)
 *   FASTGSHARE_METER_MINUTE_DAYS      minute records kept this many days, then rolled up to hours (default 7)
 *   FASTGSHARE_PRICING_FILE           JSON or YAML {currency, default: rates, devices: {cpu: rates, ...}}
 *                                     (`classes`: the earlier name of `devices`, still read)
 *   FASTGSHARE_PRICE_DEVICE_HOUR, FASTGSHARE_PRICE_GB_HOUR, FASTGSHARE_PRICE_MILLION_INVOCATIONS
 *                                     the default rates (defaults 1, 0.01, 0.2)
 * Login throttling and password checks (gateway/tenants/login-throttle.ts, password-hasher.ts):
 *   FASTGSHARE_LOGIN_FREE_FAILURES    failed logins per user name and per source address before
 *                                     backoff starts (default 5, 1..1000)
 *   FASTGSHARE_LOGIN_BACKOFF_MS       first backoff; each further failure doubles it (default 1000)
 *   FASTGSHARE_LOGIN_BACKOFF_MAX_MS   longest backoff (default 300000)
 *   FASTGSHARE_AUTH_THREADS           worker threads that hash and check passwords (0..64; default 0:
 *                                     cores - 1, at least 1, at most 4)
 */
export interface TenancyConfig {
  hashRounds: number;
  login: LoginThrottleConfig;
  /** Worker threads for password hashing and checks (0: chosen from the machine's cores). */
  authThreads: number;
  metering: boolean;
  meterPollMs: number;
  meterFlushMs: number;
  minuteRetentionDays: number;
  pricing: PricingConfig;
}

function price(env: Env, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0)
    throw new ConfigError(name, `"${raw}" is not a price (a number >= 0)`);
  return v;
}

function parseRates(where: string, raw: unknown, fallback: PriceRates): PriceRates {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(
      'FASTGSHARE_PRICING_FILE',
      `${where} must be an object {deviceHour, gbHour, millionInvocations}`,
    );
  const out = { ...fallback };
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in out))
      throw new ConfigError(
        'FASTGSHARE_PRICING_FILE',
        `${where}.${k} is not a rate; use deviceHour, gbHour or millionInvocations`,
      );
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new ConfigError('FASTGSHARE_PRICING_FILE', `${where}.${k} must be a number >= 0`);
    out[k as keyof PriceRates] = v;
  }
  return out;
}

export function readPricingConfig(env: Env, cwd = process.cwd()): PricingConfig {
  const base: PriceRates = {
    deviceHour: price(env, 'FASTGSHARE_PRICE_DEVICE_HOUR', 1),
    gbHour: price(env, 'FASTGSHARE_PRICE_GB_HOUR', 0.01),
    millionInvocations: price(env, 'FASTGSHARE_PRICE_MILLION_INVOCATIONS', 0.2),
  };
  const file = env.FASTGSHARE_PRICING_FILE;
  if (!file) return { currency: 'USD', default: base, devices: {} };
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(resolve(cwd, file), 'utf8'));
  } catch (err) {
    throw new ConfigError('FASTGSHARE_PRICING_FILE', `cannot read "${file}": ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ConfigError('FASTGSHARE_PRICING_FILE', `"${file}" must hold an object {currency, default, devices}`);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d))
    if (!['currency', 'default', 'devices', 'classes'].includes(k))
      throw new ConfigError('FASTGSHARE_PRICING_FILE', `unknown key "${k}"; use currency, default and devices`);
  if (d.devices !== undefined && d.classes !== undefined)
    throw new ConfigError(
      'FASTGSHARE_PRICING_FILE',
      '"classes" is the earlier name of "devices": give one of them, not both',
    );
  if (d.currency !== undefined && (typeof d.currency !== 'string' || !/^[A-Za-z]{1,8}$/.test(d.currency)))
    throw new ConfigError('FASTGSHARE_PRICING_FILE', 'currency must be a short code such as USD');
  const dflt = parseRates('default', d.default, base);
  const key = d.devices !== undefined ? 'devices' : 'classes';
  const perDevice = d[key];
  const devices: Partial<Record<DeviceKind, PriceRates>> = {};
  if (perDevice !== undefined) {
    if (typeof perDevice !== 'object' || perDevice === null || Array.isArray(perDevice))
      throw new ConfigError('FASTGSHARE_PRICING_FILE', `${key} must map a device kind to its rates`);
    for (const [kind, rates] of Object.entries(perDevice)) {
      if (!isDeviceKind(kind))
        throw new ConfigError(
          'FASTGSHARE_PRICING_FILE',
          `${key}.${kind}: "${kind}" is not a device kind; use ${DEVICE_KINDS.join(', ')} (the fastgshare/device values)`,
        );
      devices[kind] = parseRates(`${key}.${kind}`, rates, dflt);
    }
  }
  return { currency: typeof d.currency === 'string' ? d.currency.toUpperCase() : 'USD', default: dflt, devices };
}

export interface LoginThrottleConfig {
  freeFailures: number;
  backoffMs: number;
  backoffMaxMs: number;
}

export function readTenancyConfig(env: Env, cwd = process.cwd()): TenancyConfig {
  const metering = (env.FASTGSHARE_METERING ?? '').toLowerCase();
  if (metering && !['true', 'false', '1', '0'].includes(metering))
    throw new ConfigError('FASTGSHARE_METERING', `"${env.FASTGSHARE_METERING}" must be true or false`);
  return {
    hashRounds: int(env, 'FASTGSHARE_TENANT_HASH_ROUNDS', 10, 4, 15),
    login: {
      freeFailures: int(env, 'FASTGSHARE_LOGIN_FREE_FAILURES', 5, 1, 1000),
      backoffMs: int(env, 'FASTGSHARE_LOGIN_BACKOFF_MS', 1000, 1, 3_600_000),
      backoffMaxMs: Math.max(
        int(env, 'FASTGSHARE_LOGIN_BACKOFF_MS', 1000, 1, 3_600_000),
        int(env, 'FASTGSHARE_LOGIN_BACKOFF_MAX_MS', 300_000, 1, 86_400_000),
      ),
    },
    authThreads: int(env, 'FASTGSHARE_AUTH_THREADS', 0, 0, 64),
    metering: metering === '' || metering === 'true' || metering === '1',
    meterPollMs: int(env, 'FASTGSHARE_METER_POLL_MS', 10_000, 50, 3_600_000),
    meterFlushMs: int(env, 'FASTGSHARE_METER_FLUSH_MS', 5_000, 50, 600_000),
    minuteRetentionDays: int(env, 'FASTGSHARE_METER_MINUTE_DAYS', 7, 1, 3650),
    pricing: readPricingConfig(env, cwd),
  };
}

/**
 * Admission control (gateway/admission/), sized for a small node by default:
 *   FASTGSHARE_TENANT_MAX_REPLICAS        Σ replicas over a tenant's functions (default 20, 0..100000)
 *   FASTGSHARE_TENANT_MAX_FUNCTIONS       functions a tenant may have (default 20, 0..100000)
 *   FASTGSHARE_TENANT_MAX_DEVICE_SHARE    Σ guaranteed device share (replicas × gpu_quota_request ×
 *                                         gpu_sm_partition/100), in devices (default 1, 0..100000)
 *   FASTGSHARE_TENANT_MAX_MEMORY          Σ replicas × limits.memory, a quantity such as "8Gi" (default 8Gi)
 *   FASTGSHARE_MAX_REPLICAS_PER_FUNCTION  hard ceiling of one function's replicas, the admin and the
 *                                         auto-scaler included (default 32, 1..1000)
 * The admin raises or lowers one tenant's limits with PUT /system/tenants/<name>/limits.
 */
export interface AdmissionConfig {
  tenantDefaults: TenantLimits;
  maxReplicasPerFunction: number;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** A memory quantity ("8Gi", "512Mi", "2G", bytes) in whole bytes. */
function memory(env: Env, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(raw.trim());
  if (!m)
    throw new ConfigError(
      name,
      `"${raw}" is not a memory quantity; use bytes or a number with Ki, Mi, Gi, Ti, k, M, G or T, e.g. "8Gi"`,
    );
  const bytes = Math.ceil(Number(m[1]) * MEMORY_UNITS[m[2] ?? '']!);
  if (bytes > 2 ** 50) throw new ConfigError(name, `"${raw}" is too large (at most 1Pi)`);
  return bytes;
}

export function readAdmissionConfig(env: Env): AdmissionConfig {
  return {
    tenantDefaults: {
      replicas: int(env, 'FASTGSHARE_TENANT_MAX_REPLICAS', 20, 0, 100_000),
      functions: int(env, 'FASTGSHARE_TENANT_MAX_FUNCTIONS', 20, 0, 100_000),
      deviceShare: decimal(env, 'FASTGSHARE_TENANT_MAX_DEVICE_SHARE', 1, 0, 100_000),
      memoryBytes: memory(env, 'FASTGSHARE_TENANT_MAX_MEMORY', 8 * 2 ** 30),
    },
    maxReplicasPerFunction: int(env, 'FASTGSHARE_MAX_REPLICAS_PER_FUNCTION', 32, 1, 1000),
  };
}

/**
 * The gateway's Prometheus /metrics on a listener of its own (as OpenFaaS serves it on :8082),
 * away from the public port, where only the admin may read it when auth is on.
 *   FASTGSHARE_METRICS_PORT  port (default 8082; 0 = any free port, the default when PORT is 0)
 *   FASTGSHARE_METRICS_HOST  address to listen on (default 127.0.0.1: local scrapers only)
 */
export interface MetricsListenConfig {
  port: number;
  host: string;
}

export function readMetricsListenConfig(env: Env): MetricsListenConfig {
  const anyPort = (env.PORT ?? '').trim() === '0';
  const port = int(env, 'FASTGSHARE_METRICS_PORT', anyPort ? 0 : 8082, 0, 65535);
  const host = (env.FASTGSHARE_METRICS_HOST ?? '').trim() || '127.0.0.1';
  if (isIP(host) === 0 && host !== 'localhost')
    throw new ConfigError(
      'FASTGSHARE_METRICS_HOST',
      `"${host}" is not an IP address (use 127.0.0.1 for local scrapers, 0.0.0.0 for all interfaces)`,
    );
  if (port !== 0 && port === int(env, 'PORT', 8080, 0, 65535))
    throw new ConfigError(
      'FASTGSHARE_METRICS_PORT',
      `${port} is the gateway's own PORT; pick another port for /metrics`,
    );
  return { port, host };
}
