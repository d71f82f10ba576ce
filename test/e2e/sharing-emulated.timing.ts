/** Share enforcement on the emulated V100 device: resnet50 replicas (calibrated batch latency, no CPU burnt). */
import { describeEnforcement } from '../fast-manager/sharing/enforcement-cases.ts';

describeEnforcement('share enforcement with emulated inference (emulated V100 device, resnet50)', {
  stack: 'stack.emulated.yml',
  fn: 'resnet50',
  device: 'emulated',
  body: async () => Buffer.from('an item'),
  contentType: 'application/octet-stream',
  concurrency: 32,
});
