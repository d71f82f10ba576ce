/**
 * The node's token channel: the protocol between the node agent's token server
 * (fast-manager/sharing/token-server.ts) and a token-gated replica
 * (templates/onnx-node/runtime/token-client.ts), over the unix socket the replica finds in
 * FASTGSHARE_TOKEN_SOCKET (core/contracts/replica-env.ts).
 *
 * Framing: newline-delimited JSON (core/net/ndjson.ts), one object per line, `op` naming the
 * message; a line longer than TOKEN_CHANNEL_MAX_LINE or not JSON is a broken peer.
 * replica → server   {"op":"hello","replicaId":"r1","key":"…"}  first message; only a registered id with its key is
 * accepted
 *                      {"op":"acquire","burstMs":12.5,"minRunMs":4.1,"slackMs":60}
 *                                                            wants a token; all fields optional: burstMs its last
 *                                                            burst; minRunMs the least it will run under any token
 *                                                            (one batch cut to the token: nothing is pre-empted);
 *                                                            slackMs how long its most urgent request can still
 *                                                            wait for the device
 *                      {"op":"release","usedMs":11.9}        done; usedMs is informational only
 *   server → replica   {"op":"welcome","device":"emulated","windowMs":1000}
 *                      {"op":"grant","quotaMs":50}           the token: run at most quotaMs, then release
 *                      {"op":"yield"}                        others wait for the device: a holder with no
 *                                                            work running gives its token back now
 *                      {"op":"error","code":"not_found","message":"..."}   then the server closes
 * The key is the replica's FASTGSHARE_TOKEN_KEY. An `acquire` while holding a token ends that token.
 * The server charges time by its own clock, grant → release; a closed connection releases the
 * replica's token.
 */
import { z } from 'zod';
import type { ErrorCode } from '../errors.ts';

/** Longest line a replica may send. */
export const TOKEN_CHANNEL_MAX_LINE = 4096;

export interface HelloMessage {
  op: 'hello';
  replicaId: string;
  /** The replica's FASTGSHARE_TOKEN_KEY. */
  key: string;
}
export interface AcquireMessage {
  op: 'acquire';
  /** How long the replica's last burst took, ms (the scheduler sizes tokens by it). */
  burstMs?: number;
  /**
   * The least the replica will run under the token, ms, however short the quota: its batch is cut to fit the token but
   * not below one item (nothing is pre-empted), so the scheduler counts on the token being held at least this long.
   */
  minRunMs?: number;
  /**
   * How long the replica's most urgent request can still wait for the device and meet its deadline, ms (its deadline
   * minus now minus its run time; 0 when already late). The scheduler grants urgent replicas first within their group
   * (owed their share, or past it), and lets urgent best-effort ones pass owed replicas whose own requests can wait, at
   * most once per wait (fast-manager/sharing/token-scheduler.ts).
   */
  slackMs?: number;
}
/** What a replica tells the scheduler with a request for a token (the acquire message's fields). */
export type AcquireHint = Omit<AcquireMessage, 'op'>;
export interface ReleaseMessage {
  op: 'release';
  /** The time the replica used, ms (informational: the server charges by its clock). */
  usedMs: number;
}
/** What a replica sends. */
export type TokenRequest = HelloMessage | AcquireMessage | ReleaseMessage;

export interface WelcomeMessage {
  op: 'welcome';
  /** The device id whose scheduler serves the replica (core/contracts/devices.ts). */
  device: string;
  /** That scheduler's window W, ms (quotas are fractions of it). */
  windowMs: number;
}
export interface GrantMessage {
  op: 'grant';
  /** Run at most this long, ms, then release (the overrun is charged, not pre-empted). */
  quotaMs: number;
}
export interface YieldMessage {
  op: 'yield';
}
/** Codes the server ends a connection with: a malformed message, an unknown replica id, a wrong key. */
export type TokenChannelErrorCode = Extract<ErrorCode, 'bad_request' | 'not_found' | 'unauthorized'>;
export interface TokenErrorMessage {
  op: 'error';
  code: TokenChannelErrorCode;
  message: string;
}
/** What the server sends. */
export type TokenServerMessage = WelcomeMessage | GrantMessage | YieldMessage | TokenErrorMessage;

const Envelope = z.object({ op: z.string() });
/**
 * The server's reading of a replica's messages. A replica id is required; a key that is not text
 * reads as none (a wrong key, refused as such); the informational numbers read as absent when they
 * are not finite and in range, never refused.
 */
const TokenRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('hello'), replicaId: z.string(), key: z.string().optional().catch(undefined) }),
  z.object({
    op: z.literal('acquire'),
    burstMs: z.number().positive().optional().catch(undefined),
    minRunMs: z.number().positive().finite().optional().catch(undefined),
    slackMs: z.number().finite().optional().catch(undefined),
  }),
  z.object({ op: z.literal('release'), usedMs: z.number().nonnegative().optional().catch(undefined) }),
]);
export type ReadTokenRequest = z.infer<typeof TokenRequestSchema>;

/**
 * A line from a replica: undefined when it is not an object with a text `op`; else its `op`, and
 * `msg` when it is one of the requests above (absent: an unknown op, or a hello without a replica id).
 */
export function readTokenRequest(raw: unknown): { op: string; msg?: ReadTokenRequest } | undefined {
  const envelope = Envelope.safeParse(raw);
  if (!envelope.success) return undefined;
  const msg = TokenRequestSchema.safeParse(raw);
  return { op: envelope.data.op, ...(msg.success ? { msg: msg.data } : {}) };
}
