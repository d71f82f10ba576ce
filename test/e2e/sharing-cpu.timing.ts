/** Share enforcement with real inference on the cpu device: text-direction replicas (~1.5 ms per item). */
import { readFile } from 'node:fs/promises';
import { describeEnforcement } from '../fast-manager/sharing/enforcement-cases.ts';

describeEnforcement('share enforcement with real inference (cpu device, text-direction)', {
  stack: 'stack.yml',
  fn: 'text-direction',
  device: 'cpu',
  body: () => readFile(new URL('../functions/fixtures/hello-world-2024.png', import.meta.url)),
  contentType: 'image/png',
  concurrency: 24,
});
