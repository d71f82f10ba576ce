// @ts-check
// A piscina worker thread of gateway/tenants/password-hasher.ts: bcrypt runs here, on its own
// thread, so a burst of logins never stalls the gateway's event loop. Plain JavaScript so that it
// loads in a worker without the TypeScript loader (as templates/onnx-node/runtime/executor-worker.mjs).
import bcrypt from 'bcryptjs';

/**
 * @param {{ op: 'hash', password: string, rounds: number } | { op: 'compare', password: string, hash: string }} task
 */
export default function run(task) {
  if (task.op === 'hash') return bcrypt.hashSync(task.password, task.rounds);
  if (task.op === 'compare') return bcrypt.compareSync(task.password, task.hash);
  throw new Error(`unknown password task "${String(/** @type {{ op?: unknown }} */ (task).op)}"`);
}
