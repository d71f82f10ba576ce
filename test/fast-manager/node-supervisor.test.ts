/**
 * The node supervisor on its own (no replicas run): an apply that was still resolving its image
 * when stopAll ran is refused instead of starting replicas that nothing would stop.
 */
import { expect } from 'chai';
import type { ImageBundle, ImageStore } from '../../core/images/image-store.ts';
import { CaptureSink, createLogger } from '../../core/logger.ts';
import { PlatformError } from '../../core/errors.ts';
import { validateApply } from '../../fast-manager/apply/request.ts';
import type { ReplicaDeps } from '../../fast-manager/replicas/replica.ts';
import { createNodeSupervisor } from '../../fast-manager/supervisor/node-supervisor.ts';
import { makeSpec } from './harness.ts';

describe('fast-manager: node supervisor shutdown', () => {
  it('refuses an apply whose image resolved after stopAll began, and runs nothing for it', async () => {
    let resolveImage!: (b: ImageBundle) => void;
    const images = { resolve: () => new Promise<ImageBundle>((r) => (resolveImage = r)) } as unknown as ImageStore;
    let replicasMade = 0;
    const replicaDeps = new Proxy(
      {},
      {
        get: () => {
          replicasMade++;
          throw new Error('no replica should be made');
        },
      },
    ) as ReplicaDeps;
    const supervisor = createNodeSupervisor({
      images,
      replicaDeps,
      observer: { onChange: () => undefined, onCrash: () => undefined },
      log: createLogger({ sink: new CaptureSink() }),
    });

    const applying = supervisor.apply(
      validateApply({ spec: makeSpec({ name: 'late' }), replicas: 1 }, { namespace: 'openfaas-fn', name: 'late' }),
    );
    await supervisor.stopAll();
    resolveImage({
      ref: 'echo:latest',
      dir: '/nonexistent',
      manifest: { fprocess: 'node server.mjs', builtAt: 'now' },
    } as ImageBundle);
    const err = await applying.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PlatformError);
    expect((err as PlatformError).code).to.equal('unavailable');
    expect(supervisor.list()).to.deep.equal([]);
    expect(replicasMade).to.equal(0);
  });
});
