import { readFileSync, readdirSync } from 'node:fs';
import { openService } from './bench/lib/ocr-ours.ts';
import recognizeHandler from './functions/ocr-recognize/handler.ts';
import { createServerTiming } from './templates/onnx-node/runtime/server-timing.ts';
import { decodeImage } from './templates/onnx-node/runtime/image.ts';
const files = readdirSync('/tmp/rz/set').filter((f) => f.startsWith('line-clean')).map((f) => readFileSync('/tmp/rz/set/' + f));
const s = await openService(recognizeHandler as never, 'r');
const svc = (s as never as { read: unknown });
// use internal: reopen to access invoke with timing
const fn = recognizeHandler as never as { open: Function };
import { systemClock } from './core/clock.ts';
import { silentLogger } from './core/logger.ts';
import { createCpuBackend } from './templates/onnx-node/runtime/backends/cpu.ts';
import { systemTimers } from './templates/onnx-node/runtime/timers.ts';
const service = await fn.open({ backend: createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }), settings: { sloMs: 120000, maxBatch: 8, maxQueue: 256 }, clock: systemClock, timers: systemTimers, logger: silentLogger });
await service.warmUp();
for (let round = 0; round < 2; round++) {
  const sum = new Map<string, number>(); let total = 0; let widths = 0;
  const t0 = performance.now();
  for (const f of files) {
    const t = createServerTiming(); const a = performance.now();
    await service.invoke(f, 'image/png', t);
    total += performance.now() - a;
    for (const e of t.entries()) sum.set(e.name, (sum.get(e.name) ?? 0) + e.dur);
  }
  const wall = performance.now() - t0;
  console.log('lines/s', (files.length / wall * 1000).toFixed(1), 'per line ms', (total / files.length).toFixed(2), [...sum].map(([k, v]) => `${k} ${(v / files.length).toFixed(2)}`).join(' '));
}
let d = performance.now(); for (const f of files) await decodeImage(f); console.log('decode only', ((performance.now() - d) / files.length).toFixed(2));
const sizes = await Promise.all(files.map((f) => decodeImage(f)));
console.log('sizes', sizes.slice(0, 8).map((i) => `${i.width}x${i.height}`).join(' '));
await service.close(); await s.close();
