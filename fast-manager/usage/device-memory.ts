/**
 * Device (GPU) memory in use per process, read from outside the replicas: onnxruntime-node takes
 * no `gpu_mem_limit` from JavaScript, so the agent measures what each process holds on the GPU
 * and enforces `fastgshare/gpu_mem` itself (see replicas/replica.ts). The reader behind the
 * `DeviceMemoryReader` seam runs
 *   nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits
 * and never throws: a missing binary, a failing driver or output it cannot read becomes an
 * unavailable reading with a message that says why, logged once per distinct problem.
 * `listGpus` runs the same binary once to list the node's GPUs for GET /v1/node.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../../core/logger.ts';

export interface DeviceProcessMemory {
  pid: number;
  /** Bytes held on the device; null when the driver does not report it ("[N/A]", "[Not Supported]"). */
  bytes: number | null;
}

export type DeviceMemoryReading = { ok: true; processes: DeviceProcessMemory[] } | { ok: false; error: string };

/** Reads the device memory held by every process using a GPU of this node. */
export interface DeviceMemoryReader {
  read(): Promise<DeviceMemoryReading>;
}

export interface ComputeAppsParse {
  processes: DeviceProcessMemory[];
  /** Lines that are neither a process nor a known "nothing runs" message. */
  unreadable: string[];
}

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  kb: 2 ** 10,
  mb: 2 ** 20,
  gb: 2 ** 30,
};

/**
 * Parses `pid, used_memory` CSV lines. Values without a unit are MiB (what `nounits` prints);
 * "1024 MiB" style values (without `nounits`) are accepted too. Bracketed values ("[N/A]",
 * "[Not Supported]", "[Insufficient Permissions]") are "not reported". The same pid on several
 * GPUs is summed.
 */
export function parseComputeApps(text: string): ComputeAppsParse {
  const byPid = new Map<number, number | null>();
  const unreadable: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || /^no running (compute )?processes found/i.test(line)) continue;
    const m = /^(\d+)\s*,\s*(.+)$/.exec(line);
    if (!m) {
      unreadable.push(line);
      continue;
    }
    const pid = Number(m[1]);
    const bytes = parseMemoryValue(m[2]!.trim());
    if (bytes === undefined) {
      unreadable.push(line);
      continue;
    }
    const prev = byPid.get(pid);
    byPid.set(pid, prev === undefined ? bytes : prev === null || bytes === null ? null : prev + bytes);
  }
  return { processes: [...byPid].map(([pid, bytes]) => ({ pid, bytes })), unreadable };
}

/** Bytes of one used_memory value; null when not reported; undefined when unreadable. */
function parseMemoryValue(v: string): number | null | undefined {
  if (/^\[.*\]$/.test(v)) return null;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v);
  if (!m) return undefined;
  const unit = m[2] ? UNIT_BYTES[m[2].toLowerCase()] : 2 ** 20;
  if (unit === undefined) return undefined;
  return Math.round(Number(m[1]) * unit);
}

export const NVIDIA_SMI_ARGS = ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'];

export interface NvidiaSmiReaderOptions {
  /** A path, or a name looked up on the agent's PATH. */
  binary: string;
  log: Logger;
  /** Longest one query may take (default 5000 ms). */
  timeoutMs?: number;
}

/** A `DeviceMemoryReader` that runs nvidia-smi; logs when reading starts or stops working. */
export function createNvidiaSmiReader(o: NvidiaSmiReaderOptions): DeviceMemoryReader {
  const log = o.log.child('device-memory');
  const timeoutMs = o.timeoutMs ?? 5_000;
  let lastProblem: string | undefined;
  let working = false;
  let lastStray: string | undefined;

  const query = async (): Promise<DeviceMemoryReading> => {
    const run = await runNvidiaSmi(o.binary, NVIDIA_SMI_ARGS, timeoutMs);
    if (!run.ok) return run;
    const parsed = parseComputeApps(run.stdout);
    const stray = parsed.unreadable[0] && JSON.stringify(parsed.unreadable[0].slice(0, 200));
    if (stray && parsed.processes.length === 0) {
      return { ok: false, error: `cannot read the output of "${o.binary} ${NVIDIA_SMI_ARGS.join(' ')}": ${stray}` };
    }
    // process lines next to a line we do not know (a driver warning): use them, say so once
    if (stray && stray !== lastStray)
      log.warn(`ignoring a line of "${o.binary}" output: ${stray}`, { binary: o.binary });
    lastStray = stray || undefined;
    return { ok: true, processes: parsed.processes };
  };

  return {
    async read() {
      const reading = await query();
      if (!reading.ok && reading.error !== lastProblem) {
        lastProblem = reading.error;
        working = false;
        log.warn(
          `cannot read device memory, so fastgshare/gpu_mem limits of cuda replicas are not enforced: ${reading.error}`,
          { binary: o.binary },
        );
      } else if (reading.ok && !working) {
        if (lastProblem !== undefined)
          log.info('device memory readable again; fastgshare/gpu_mem limits are enforced', { binary: o.binary });
        lastProblem = undefined;
        working = true;
      }
      return reading;
    },
  };
}

/** Runs nvidia-smi; never throws: a missing binary, a failure or a timeout is an error that says why. */
export function runNvidiaSmi(
  binary: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ ok: true; stdout: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      let why: string;
      if (e.code === 'ENOENT')
        why = `"${binary}" not found (install the NVIDIA driver utilities or set FASTGSHARE_NVIDIA_SMI to its path)`;
      else if (e.code === 'EACCES') why = `"${binary}" is not executable`;
      else if (e.killed) why = `"${binary}" did not answer within ${timeoutMs}ms`;
      else {
        const said = firstLine(stdout) || firstLine(stderr);
        why = `"${binary}" failed (${typeof e.code === 'number' ? `exit code ${e.code}` : (e.code ?? e.message)})${said ? `: ${said}` : ''}`;
      }
      resolve({ ok: false, error: why });
    });
  });
}

/** One GPU of the node as nvidia-smi lists it. */
export interface GpuInfo {
  /** nvidia-smi's index (what CUDA_VISIBLE_DEVICES and fastgshare/cuda_device count). */
  index: number;
  /** Total device memory; undefined when the driver does not report it. */
  memoryBytes?: number;
}

export const GPU_LIST_ARGS = ['--query-gpu=index,memory.total', '--format=csv,noheader,nounits'];

/** Parses `index, memory.total` CSV lines (MiB without a unit); throws on a line it cannot read. */
export function parseGpuList(text: string): GpuInfo[] {
  const out: GpuInfo[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || /^no devices were found/i.test(line)) continue;
    const m = /^(\d+)\s*,\s*(.+)$/.exec(line);
    const bytes = m ? parseMemoryValue(m[2]!.trim()) : undefined;
    if (!m || bytes === undefined)
      throw new Error(`cannot read GPU line ${JSON.stringify(line.slice(0, 200))} (want "index, memory.total MiB")`);
    out.push({ index: Number(m[1]), ...(bytes !== null ? { memoryBytes: bytes } : {}) });
  }
  return out.sort((a, b) => a.index - b.index);
}

/**
 * The node's GPUs, from `nvidia-smi --query-gpu=index,memory.total --format=csv,noheader,nounits`;
 * an error that says why when they cannot be listed (no nvidia-smi: a node without GPUs).
 */
export async function listGpus(o: {
  binary: string;
  timeoutMs?: number;
}): Promise<{ ok: true; gpus: GpuInfo[] } | { ok: false; error: string }> {
  const run = await runNvidiaSmi(o.binary, GPU_LIST_ARGS, o.timeoutMs ?? 5_000);
  if (!run.ok) return run;
  try {
    return { ok: true, gpus: parseGpuList(run.stdout) };
  } catch (err) {
    return { ok: false, error: `"${o.binary} ${GPU_LIST_ARGS.join(' ')}": ${(err as Error).message}` };
  }
}

function firstLine(s: string | undefined): string {
  return (
    (s ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find(Boolean)
      ?.slice(0, 300) ?? ''
  );
}
