/**
 * onnx-node replica runtime. Run with the bundle as working directory:
 *   node --import tsx index.ts
 * Loads ./function/handler.ts (default export: an OnnxFunction, see runtime/service.ts), serves
 * it on $PORT and drains on SIGTERM/SIGINT.
 */
import { isOnnxFunction, runReplica } from './runtime/replica.ts';

async function main(): Promise<void> {
  const mod = (await import('./function/handler.ts')) as { default?: unknown };
  if (!isOnnxFunction(mod.default)) {
    throw new Error(
      'function/handler.ts must `export default defineModelFunction(...)` (an object with open(ctx)); see the onnx-node README',
    );
  }
  await runReplica({
    fn: mod.default,
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    exit: (code) => process.exit(code),
    onSignal: (signal, handler) => process.on(signal, handler),
  });
}

main().catch((err) => {
  process.stderr.write(`onnx-node: cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
