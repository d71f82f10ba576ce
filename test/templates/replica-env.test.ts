/**
 * core/contracts/replica-env.ts on both sides: what the node agent sets for a replica
 * (replicas/env.ts, devices/device-env.ts) the onnx-node runtime reads back as the same values, and
 * the node-http template, which declares the names itself to stay self-contained, reads the
 * contract's names.
 */
import { expect } from 'chai';
import { REPLICA_ENV as E } from '../../core/contracts/replica-env.ts';
import { readDeviceRequest } from '../../core/contracts/annotations.ts';
import { buildReplicaEnv } from '../../fast-manager/replicas/env.ts';
import { deviceEnv } from '../../fast-manager/devices/device-env.ts';
import { readRuntimeConfig } from '../../templates/node-http/runtime/config.ts';
import { readOnnxRuntimeConfig } from '../../templates/onnx-node/runtime/http/config.ts';

describe('replica environment contract', () => {
  it('names only FASTGSHARE_* variables, each once, besides PORT', () => {
    const names = Object.values(E);
    expect(new Set(names).size).to.equal(names.length);
    for (const n of names) if (n !== 'PORT') expect(n).to.match(/^FASTGSHARE_[A-Z_]+$/);
  });

  it("node-http reads the identity, secrets folder, forward token and port under the contract's names", () => {
    const c = readRuntimeConfig({
      [E.port]: '9123',
      [E.function]: 'f',
      [E.namespace]: 'ns',
      [E.replicaId]: 'f-1',
      [E.secretsDir]: '/s',
      [E.forwardToken]: 'tok',
    });
    expect(c).to.deep.include({
      port: 9123,
      functionName: 'f',
      namespace: 'ns',
      replicaId: 'f-1',
      secretsDir: '/s',
      forwardToken: 'tok',
    });
  });

  it('the onnx-node runtime reads back what the agent sets', () => {
    const base = buildReplicaEnv({
      envVars: {},
      name: 'f',
      namespace: 'ns',
      replicaId: 'f-1',
      port: 9123,
      secretsDir: '/s',
      tmpDir: '/t',
      host: { path: '/usr/bin', home: '/h' },
      fprocess: 'node index.ts',
    });
    const emulated = readDeviceRequest({
      'fastgshare/device': 'emulated',
      'fastgshare/gpu_sm_partition': '40',
      'fastgshare/emulated_profile': 'resnet50',
      'fastgshare/slo_ms': '250',
      'fastgshare/max_batch': '4',
      'fastgshare/gpu_quota_request': '0.3',
    });
    const env = {
      ...base,
      ...deviceEnv(emulated, {
        calibrationDir: '/cal',
        modelCacheDir: '/cache',
        emulatedDeviceSocket: '/run/emu.sock',
      }),
      [E.tokenSocket]: '/run/tokens.sock',
      [E.tokenKey]: 'key',
    };
    const c = readOnnxRuntimeConfig(env, 2);
    expect(c).to.deep.include({
      port: 9123,
      functionName: 'f',
      namespace: 'ns',
      replicaId: 'f-1',
      secretsDir: '/s',
      tokenSocket: '/run/tokens.sock',
      tokenKey: 'key',
    });
    expect(c.settings).to.deep.equal({ sloMs: 250, maxBatch: 4 });
    expect(c.backend).to.deep.include({
      device: 'emulated',
      partitionPercent: 40,
      emulatedProfile: 'resnet50',
      calibrationDir: '/cal',
      emulatedDeviceSocket: '/run/emu.sock',
      modelCacheDir: '/cache',
    });

    const cpu = readOnnxRuntimeConfig(
      {
        ...base,
        ...deviceEnv(readDeviceRequest({ 'fastgshare/device': 'cpu', 'fastgshare/model_sharing': 'off' }), {
          cores: [2, 3],
          coreList: '2-3',
          calibrationDir: '/cal',
          modelCacheDir: '/cache',
        }),
      },
      8,
    );
    expect(cpu.backend).to.deep.include({ device: 'cpu', cores: [2, 3], modelCacheDir: undefined });

    const cuda = readOnnxRuntimeConfig(
      {
        ...base,
        ...deviceEnv(
          readDeviceRequest({
            'fastgshare/device': 'cuda',
            'fastgshare/cuda_device': '1',
            'fastgshare/gpu_mem': '1Gi',
          }),
          { calibrationDir: '/cal' },
        ),
      },
      8,
    );
    expect(cuda.backend).to.deep.include({ device: 'cuda', cudaDeviceId: 1, gpuMemLimitBytes: 2 ** 30 });
  });
});
