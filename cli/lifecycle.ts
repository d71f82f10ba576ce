/**
 * Shared by the long-running commands (up, gateway, node): close what was opened in reverse
 * order, and wait for SIGINT/SIGTERM before doing so.
 */
import type { Logger } from '../core/logger.ts';
import type { Store } from '../core/store/open-store.ts';
import type { CommandContext } from './context.ts';

export interface Closable {
  close(): Promise<void>;
}

/** Closes in reverse order of opening, logging (not throwing) each failure. */
export async function closeAll(parts: Closable[], log: Logger): Promise<void> {
  for (const p of [...parts].reverse()) {
    await p.close().catch((err: unknown) => log.error('shutdown step failed', { error: err as Error }));
  }
}

/** Waits for SIGINT/SIGTERM, then drains and closes everything gracefully. */
export async function runUntilStopped(ctx: CommandContext, parts: Closable[], log: Logger): Promise<void> {
  const signal = await ctx.stopSignal();
  ctx.io.stderr.write(`${signal} received: draining replicas and shutting down\n`);
  await closeAll(parts, log);
  ctx.io.stderr.write('stopped\n');
}

export function describeStore(store: Store): string {
  return store.kind === 'embedded'
    ? `embedded MongoDB-wire store at ${store.uri} (set MONGODB_URI to use a MongoDB server)`
    : `MongoDB at ${store.uri.replace(/\/\/([^@/]*)@/, '//***@')}`;
}
