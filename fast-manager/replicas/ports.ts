/**
 * Picks free TCP ports for replicas: asks the kernel for one (listen on port 0) and never hands
 * out a port that one of our own replicas holds, even if the kernel would.
 */
import { createServer } from 'node:net';

export interface PortAllocator {
  acquire(): Promise<number>;
  release(port: number): void;
}

export function createPortAllocator(host = '127.0.0.1'): PortAllocator {
  const held = new Set<number>();
  const probe = () =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen({ port: 0, host, exclusive: true }, () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(port));
      });
    });
  return {
    async acquire() {
      for (let i = 0; i < 50; i++) {
        const port = await probe();
        if (port > 0 && !held.has(port)) {
          held.add(port);
          return port;
        }
      }
      throw new Error('no free TCP port found for a replica after 50 tries');
    },
    release(port) {
      held.delete(port);
    },
  };
}
