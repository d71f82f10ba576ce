/**
 * The built-in forking watchdog's settings, read once from the replica's environment under the
 * names the OpenFaaS watchdogs use (classic watchdog and of-watchdog): `fprocess` (or
 * `function_process`), `read_timeout`, `write_timeout`, `exec_timeout`, `combine_output`,
 * `cgi_headers`, `content_type`, `max_inflight`, `write_debug`; and this platform's `PORT`,
 * `HOST`, `max_body_bytes` and forward token, as the templates read them. An invalid value is an
 * error naming the variable.
 */
import { splitCommandLine } from '../apply/command-line.ts';
import { parseWatchdogDuration } from './duration.ts';
import { REPLICA_ENV } from '../../core/contracts/replica-env.ts';

export type Env = Record<string, string | undefined>;

export interface ForkingWatchdogConfig {
  /** The command line forked per request, and its argv (split as a shell would, without one). */
  fprocess: string;
  argv: string[];
  port: number;
  host: string;
  /** Longest wait for a request's body (0: none). */
  readTimeoutMs: number;
  /** Longest a request may take until its answer is written (0: none); the process is killed then. */
  writeTimeoutMs: number;
  /** Hard limit of one forked process (0: none); killed → 408, as the classic watchdog answers. */
  execTimeoutMs: number;
  /** stderr joins stdout in the answer (default, as OpenFaaS); false: stderr goes to the logs. */
  combineOutput: boolean;
  /** Request headers as `Http_*` variables of the process (default true). */
  cgiHeaders: boolean;
  /** Content-Type of every answer; unset: the request's own. */
  contentType?: string;
  /** Requests served at once (0: no limit); more get 429. */
  maxInflight: number;
  /** One log line per request. */
  writeDebug: boolean;
  maxBodyBytes: number;
  /** Requests without it in the forward-token header get 403 (set by the node agent). */
  forwardToken?: string;
}

/** of-watchdog's defaults for the three timeouts. */
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

function flag(env: Env, name: string, dflt: boolean): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return dflt;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error(`${name}: "${env[name]}" must be true or false`);
}

function wholeNumber(env: Env, name: string, dflt: number, max: number): number {
  const v = env[name]?.trim();
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new Error(`${name}: "${v}" must be a whole number from 0 to ${max}`);
  return Number(v);
}

export function readForkingWatchdogConfig(env: Env): ForkingWatchdogConfig {
  const fprocess = (env.function_process || env.fprocess || '').trim();
  if (!fprocess)
    throw new Error(
      'fprocess: no command to run; set "fprocess" (faas-cli --fprocess, stack file "fprocess:") to the process that reads a request on stdin and writes its answer to stdout',
    );
  const argv = splitCommandLine(fprocess, 'fprocess');
  if (argv.length === 0) throw new Error('fprocess: the command line is empty');
  if (flag(env, 'marshal_request', false))
    throw new Error(
      'marshal_request=true is not supported by the built-in watchdog: read the body from stdin and the headers from the Http_* variables (cgi_headers)',
    );
  const contentType = env.content_type?.trim();
  const token = env[REPLICA_ENV.forwardToken]?.trim();
  return {
    fprocess,
    argv,
    port: wholeNumber(env, REPLICA_ENV.port, 8080, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    readTimeoutMs: parseWatchdogDuration('read_timeout', env.read_timeout, DEFAULT_TIMEOUT_MS),
    writeTimeoutMs: parseWatchdogDuration('write_timeout', env.write_timeout, DEFAULT_TIMEOUT_MS),
    execTimeoutMs: parseWatchdogDuration('exec_timeout', env.exec_timeout, DEFAULT_TIMEOUT_MS),
    combineOutput: flag(env, 'combine_output', true),
    cgiHeaders: flag(env, 'cgi_headers', true),
    ...(contentType ? { contentType } : {}),
    maxInflight: wholeNumber(env, 'max_inflight', 0, 1_000_000),
    writeDebug: flag(env, 'write_debug', false),
    maxBodyBytes: wholeNumber(env, 'max_body_bytes', DEFAULT_MAX_BODY_BYTES, 2 ** 31),
    ...(token ? { forwardToken: token } : {}),
  };
}
