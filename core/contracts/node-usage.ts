/**
 * `GET /v1/usage` of a node agent with device sharing (404 without it): its token meters, per
 * replica and per function, and the occupancy of each shared device, from the token server's own
 * clock. Per-function totals only grow while the agent runs (`bootId` changes when it restarts and
 * they begin again from zero); a replica's figures go when it stops. The agent builds it
 * (fast-manager/sharing/meter.ts, token-server.ts); the gateway's metering and the profiler read
 * it through `NodeAgentClient.usage()`, which checks it against NodeUsageSchema.
 */
import { z } from 'zod';

const figures = {
  /** Seconds a token was held. */
  heldSeconds: z.number(),
  /** Token-held time × partition / 100. */
  deviceSeconds: z.number(),
  /** quotaRequest × partition / 100 × wall time registered. */
  reservedDeviceSeconds: z.number(),
  tokensGranted: z.number(),
  waitSeconds: z.number(),
};

/** Unknown fields are dropped (a newer agent may send more); a missing or mistyped one is refused. */
export const NodeUsageSchema = z.object({
  /** When the figures were taken (ISO time). */
  at: z.string(),
  /** The agent's run. */
  bootId: z.string(),
  replicas: z.array(
    z.object({
      ...figures,
      replicaId: z.string(),
      /** `name.namespace` */
      function: z.string(),
      /** The token scheduler's device id (core/contracts/devices.ts). */
      device: z.string(),
      /** The share it registered with (fastgshare/gpu_quota_request, _limit, gpu_sm_partition, slo_ms). */
      share: z.object({
        quotaRequest: z.number(),
        quotaLimit: z.number(),
        partition: z.number(),
        sloMs: z.number().optional(),
      }),
    }),
  ),
  functions: z.array(z.object({ ...figures, function: z.string() })),
  devices: z.array(
    z.object({
      device: z.string(),
      /** The device's scheduling window W (quotas are fractions of it). */
      windowMs: z.number(),
      busySeconds: z.number(),
      holders: z.number(),
      maxHolders: z.number(),
    }),
  ),
});

export type NodeUsage = z.infer<typeof NodeUsageSchema>;
