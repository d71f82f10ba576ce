/** `sim`: runs the scheduling policies side by side in the cluster simulator and prints/writes the comparison. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { policyNames } from '../../scheduler/policies/registry.ts';
import type { CommandContext } from '../context.ts';

interface SimFlags {
  trace: string;
  seed: string;
  nodes: string;
  devices: string;
  functions: string;
  duration: string;
  policies?: string;
  out?: string;
}

export function registerSim(program: Command, ctx: CommandContext): void {
  program
    .command('sim')
    .description('simulate an emulated GPU cluster under a load trace and compare scheduling policies')
    .option(
      '--trace <kind|file>',
      'steady, diurnal, bursty, or a CSV file time_s,function,rps[,model][,slo_ms]',
      'diurnal',
    )
    .option('--seed <n>', 'random seed', '1')
    .option('--nodes <n>', 'nodes', '4')
    .option('--devices <m>', 'devices per node', '4')
    .option('--functions <k>', 'functions (generated traces)', '8')
    .option('--duration <s>', 'simulated seconds', '300')
    .option('--policies <a,b>', `policies to compare (default all: ${policyNames().join(', ')})`)
    .option('--out <dir>', 'write sim.md, sim.svg and sim.json here')
    .action(async (f: SimFlags) => {
      // the simulator and the calibration data are loaded when it runs, not for `--help`
      const [{ loadCalibrationProfiles }, { runScenario }] = await Promise.all([
        import('../../core/profiles/calibration-profiles.ts'),
        import('../../scheduler/sim/scenario.ts'),
      ]);
      const r = runScenario({
        profiles: loadCalibrationProfiles(),
        trace: /^(steady|diurnal|bursty)$/.test(f.trace) ? f.trace : resolve(ctx.cli.cwd, f.trace),
        seed: Number(f.seed),
        nodes: Number(f.nodes),
        devicesPerNode: Number(f.devices),
        functions: Number(f.functions),
        durationS: Number(f.duration),
        policies: f.policies
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      });
      ctx.io.stdout.write(r.markdown);
      if (f.out) {
        const dir = resolve(ctx.cli.cwd, f.out);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'sim.md'), r.markdown);
        await writeFile(join(dir, 'sim.svg'), r.svg);
        await writeFile(
          join(dir, 'sim.json'),
          JSON.stringify(
            r.results.map(({ timeline, ...rest }) => ({ ...rest, timeline })),
            null,
            1,
          ),
        );
        ctx.io.stdout.write(`\nwrote ${join(dir, 'sim.md')}, ${join(dir, 'sim.svg')}, ${join(dir, 'sim.json')}\n`);
      }
    });
}
