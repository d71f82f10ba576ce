/**
 * fast-manager/usage/device-memory: the nvidia-smi compute-apps parser (table cases), the
 * reader running a real (fake) nvidia-smi executable (missing binary, driver failure, hang,
 * unreadable output; each problem logged once), and the usage sampler attributing device memory
 * to a real process group (leader and child) and to nothing else.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { systemClock } from '../../core/clock.ts';
import { CaptureSink, createLogger, silentLogger } from '../../core/logger.ts';
import {
  createNvidiaSmiReader,
  listGpus,
  parseComputeApps,
  parseGpuList,
  type DeviceMemoryReading,
} from '../../fast-manager/usage/device-memory.ts';
import { createProcReader } from '../../fast-manager/usage/proc.ts';
import { createUsageSampler, type UsageSample } from '../../fast-manager/usage/sampler.ts';
import { signalGroup } from '../../fast-manager/replicas/process-group.ts';
import { readNodeConfig } from '../../core/config.ts';
import { createFakeNvidiaSmi, type FakeNvidiaSmi } from './fixtures/fake-nvidia-smi.ts';

const MiB = 2 ** 20;

describe('fast-manager/usage/device-memory', function () {
  this.timeout(15_000);

  describe('parseComputeApps', () => {
    const cases: {
      name: string;
      text: string;
      processes: { pid: number; bytes: number | null }[];
      unreadable?: string[];
    }[] = [
      { name: 'no processes: empty output', text: '', processes: [] },
      { name: 'no processes: only blank lines', text: '\n  \n', processes: [] },
      { name: 'no processes: the message some versions print', text: 'No running processes found\n', processes: [] },
      {
        name: 'nounits values are MiB',
        text: '1234, 512\n5678, 1\n',
        processes: [
          { pid: 1234, bytes: 512 * MiB },
          { pid: 5678, bytes: MiB },
        ],
      },
      { name: 'CRLF and extra spaces', text: '  42 ,  3  \r\n', processes: [{ pid: 42, bytes: 3 * MiB }] },
      {
        name: 'values with units',
        text: '1, 2 MiB\n2, 1 GiB\n3, 4096 KiB\n4, 10 B\n',
        processes: [
          { pid: 1, bytes: 2 * MiB },
          { pid: 2, bytes: 2 ** 30 },
          { pid: 3, bytes: 4 * MiB },
          { pid: 4, bytes: 10 },
        ],
      },
      {
        name: 'not reported values',
        text: '7, [N/A]\n8, [Not Supported]\n9, [Insufficient Permissions]\n',
        processes: [
          { pid: 7, bytes: null },
          { pid: 8, bytes: null },
          { pid: 9, bytes: null },
        ],
      },
      {
        name: 'one pid on two GPUs is summed',
        text: '11, 100\n12, 5\n11, 28\n',
        processes: [
          { pid: 11, bytes: 128 * MiB },
          { pid: 12, bytes: 5 * MiB },
        ],
      },
      {
        name: 'a pid on two GPUs, one not reported',
        text: '11, 100\n11, [N/A]\n',
        processes: [{ pid: 11, bytes: null }],
      },
      { name: 'fractional MiB', text: '5, 1.5\n', processes: [{ pid: 5, bytes: 1.5 * MiB }] },
      {
        name: 'lines it cannot read are returned, not guessed',
        text: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n13, 7\npid, used_memory [MiB]\n14, lots\n15, 3 furlongs\n",
        processes: [{ pid: 13, bytes: 7 * MiB }],
        unreadable: [
          "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
          'pid, used_memory [MiB]',
          '14, lots',
          '15, 3 furlongs',
        ],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const r = parseComputeApps(c.text);
        expect(r.processes).to.deep.equal(c.processes);
        expect(r.unreadable).to.deep.equal(c.unreadable ?? []);
      });
    }
  });

  describe('GPU listing', () => {
    it('parses index, memory.total lines (MiB), sorted by index; not reported memory stays unknown', () => {
      expect(parseGpuList('1, 81559\r\n0, 16384\n\n2, [N/A]\n')).to.deep.equal([
        { index: 0, memoryBytes: 16384 * MiB },
        { index: 1, memoryBytes: 81559 * MiB },
        { index: 2 },
      ]);
      expect(parseGpuList('')).to.deep.equal([]);
      expect(parseGpuList('No devices were found\n')).to.deep.equal([]);
      expect(() => parseGpuList('0, 16384\nNVIDIA-SMI has failed\n')).to.throw(
        /cannot read GPU line "NVIDIA-SMI has failed"/,
      );
    });

    it('lists the GPUs a real (fake) nvidia-smi prints; none with a reason when it is missing', async () => {
      const smi = await createFakeNvidiaSmi();
      try {
        expect(await listGpus({ binary: smi.path })).to.deep.equal({ ok: true, gpus: [] });
        await smi.setGpus([16160, 32768]);
        expect(await listGpus({ binary: smi.path })).to.deep.equal({
          ok: true,
          gpus: [
            { index: 0, memoryBytes: 16160 * MiB },
            { index: 1, memoryBytes: 32768 * MiB },
          ],
        });
      } finally {
        await smi.cleanup();
      }
      const missing = await listGpus({ binary: '/nonexistent/fastgshare/nvidia-smi' });
      expect(missing.ok).to.equal(false);
      expect(!missing.ok && missing.error).to.match(/not found/);
    });
  });

  it('takes the nvidia-smi to run from FASTGSHARE_NVIDIA_SMI (default: nvidia-smi on PATH)', () => {
    expect(readNodeConfig({ FASTGSHARE_NODE_PORT: '0' }, 'h').nvidiaSmi).to.equal('nvidia-smi');
    expect(
      readNodeConfig({ FASTGSHARE_NODE_PORT: '0', FASTGSHARE_NVIDIA_SMI: ' /opt/nvidia/bin/nvidia-smi ' }, 'h')
        .nvidiaSmi,
    ).to.equal('/opt/nvidia/bin/nvidia-smi');
  });

  describe('nvidia-smi reader (real executable)', () => {
    let smi: FakeNvidiaSmi;
    let sink: CaptureSink;
    beforeEach(async () => {
      smi = await createFakeNvidiaSmi();
      sink = new CaptureSink();
    });
    afterEach(async () => {
      await smi.cleanup();
    });
    const warnings = () => sink.records.filter((r) => r.level === 'warn').map((r) => r.message);

    it('reads the processes and their memory', async () => {
      await smi.set(['100, 256', '200, [N/A]']);
      const reader = createNvidiaSmiReader({ binary: smi.path, log: createLogger({ sink }) });
      expect(await reader.read()).to.deep.equal({
        ok: true,
        processes: [
          { pid: 100, bytes: 256 * MiB },
          { pid: 200, bytes: null },
        ],
      });
      await smi.set([]);
      expect(await reader.read()).to.deep.equal({ ok: true, processes: [] });
      expect(warnings()).to.deep.equal([]);
    });

    it('says so, once, when the binary is missing', async () => {
      const reader = createNvidiaSmiReader({
        binary: '/nonexistent/fastgshare/nvidia-smi',
        log: createLogger({ sink }),
      });
      const readings: DeviceMemoryReading[] = [];
      for (let i = 0; i < 3; i++) readings.push(await reader.read());
      for (const r of readings) {
        expect(r.ok).to.equal(false);
        expect(!r.ok && r.error).to.equal(
          '"/nonexistent/fastgshare/nvidia-smi" not found (install the NVIDIA driver utilities or set FASTGSHARE_NVIDIA_SMI to its path)',
        );
      }
      expect(warnings()).to.have.length(1);
      expect(warnings()[0]).to.equal(
        'cannot read device memory, so fastgshare/gpu_mem limits of cuda replicas are not enforced: "/nonexistent/fastgshare/nvidia-smi" not found (install the NVIDIA driver utilities or set FASTGSHARE_NVIDIA_SMI to its path)',
      );
    });

    it('reports a failing driver with its message, and recovers', async () => {
      await smi.set(["NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."], 9);
      const reader = createNvidiaSmiReader({ binary: smi.path, log: createLogger({ sink }) });
      const r = await reader.read();
      expect(r).to.deep.equal({
        ok: false,
        error: `"${smi.path}" failed (exit code 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.`,
      });
      await reader.read();
      expect(warnings()).to.have.length(1);
      await smi.setMiB({ 300: 12 });
      expect(await reader.read()).to.deep.equal({ ok: true, processes: [{ pid: 300, bytes: 12 * MiB }] });
      expect(sink.records.map((x) => x.message)).to.include(
        'device memory readable again; fastgshare/gpu_mem limits are enforced',
      );
    });

    it('gives up on a query that hangs', async () => {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(smi.path, '#!/bin/sh\nexec sleep 5\n');
      const reader = createNvidiaSmiReader({ binary: smi.path, log: createLogger({ sink }), timeoutMs: 200 });
      const t0 = Date.now();
      const r = await reader.read();
      expect(Date.now() - t0).to.be.lessThan(3_000);
      expect(r).to.deep.equal({ ok: false, error: `"${smi.path}" did not answer within 200ms` });
    });

    it('refuses output it cannot read, and skips a stray line next to process lines', async () => {
      await smi.set(['pid, used_memory [MiB]']);
      const reader = createNvidiaSmiReader({ binary: smi.path, log: createLogger({ sink }) });
      const r = await reader.read();
      expect(r.ok).to.equal(false);
      expect(!r.ok && r.error)
        .to.contain('cannot read the output of')
        .and.contain('"pid, used_memory [MiB]"');
      await smi.set(['WARNING: infoROM is corrupted at gpu 0000:00:04.0', '400, 64']);
      expect(await reader.read()).to.deep.equal({ ok: true, processes: [{ pid: 400, bytes: 64 * MiB }] });
      expect(await reader.read()).to.deep.include({ ok: true });
      expect(warnings().filter((w) => w.startsWith('ignoring a line'))).to.deep.equal([
        `ignoring a line of "${smi.path}" output: "WARNING: infoROM is corrupted at gpu 0000:00:04.0"`,
      ]);
    });
  });

  describe('usage sampler: device memory of a process group', () => {
    let smi: FakeNvidiaSmi;
    let group: ChildProcess;
    let childPid: number;
    let other: ChildProcess;
    before(async () => {
      smi = await createFakeNvidiaSmi();
      // a group leader (sh) with a child (sleep), like a replica and a process it started
      group = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
      const [line] = (await once(group.stdout!, 'data')) as [Buffer];
      childPid = Number(line.toString().trim());
      other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    });
    after(async () => {
      signalGroup(group.pid!, 'SIGKILL');
      signalGroup(other.pid!, 'SIGKILL');
      await smi.cleanup();
    });

    it("sums the group's processes, leaves out other processes, and counts unreported ones", async () => {
      const proc = createProcReader();
      const reader = createNvidiaSmiReader({ binary: smi.path, log: silentLogger });
      const sampler = createUsageSampler({
        proc,
        clock: systemClock,
        intervalMs: 60_000,
        log: silentLogger,
        deviceMemory: reader,
      });
      try {
        const seen: UsageSample[] = [];
        const plain: UsageSample[] = [];
        const unwatch = sampler.watch(group.pid!, (s) => seen.push(s), { deviceMemory: true });
        sampler.watch(other.pid!, (s) => plain.push(s));
        // leader 40 MiB + child 70 MiB; the other group and a pid that is gone do not count
        await smi.setMiB({ [group.pid!]: 40, [childPid]: 70, [other.pid!]: 500, 999_999_999: 900 });
        await sampler.sampleNow();
        expect(seen.at(-1)?.device).to.deep.equal({ ok: true, bytes: 110 * MiB, unreported: 0 });
        expect(seen.at(-1)!.rssBytes).to.be.greaterThan(0);
        expect(plain.at(-1)).to.not.have.property('device');
        // not on the GPU at all: zero
        await smi.setMiB({ [other.pid!]: 500 });
        await sampler.sampleNow();
        expect(seen.at(-1)?.device).to.deep.equal({ ok: true, bytes: 0, unreported: 0 });
        await smi.setMiB({ [group.pid!]: 40, [childPid]: '[N/A]' });
        await sampler.sampleNow();
        expect(seen.at(-1)?.device).to.deep.equal({ ok: true, bytes: 40 * MiB, unreported: 1 });
        await smi.set(['oops'], 3);
        await sampler.sampleNow();
        expect(seen.at(-1)?.device).to.deep.equal({ ok: false, error: `"${smi.path}" failed (exit code 3): oops` });
        unwatch();
      } finally {
        sampler.stop();
      }
    });
  });
});
