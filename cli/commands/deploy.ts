/**
 * `deploy -f stack.yml [--filter fn] [--replace] [--update=true] [-n ns]`: sends each stack
 * function to the gateway as faas-cli does (PUT, then POST on 404; --replace: DELETE then POST).
 */
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import type { LoadedStack } from '../../core/images/stack-file.ts';
import type { OpenFaasClient } from '../api-client.ts';
import { connect, gatewayOptions, loadStack, type CommandContext, type GatewayOptions } from '../context.ts';

export interface DeployStackOptions {
  filter?: string;
  replace?: boolean;
  update?: boolean;
  namespace?: string;
  readTemplate?: boolean;
}

/** Deploys every selected function; returns the deployed (name, namespace) pairs. Failures are reported and counted. */
export async function deployStack(
  ctx: CommandContext,
  client: OpenFaasClient,
  stack: LoadedStack,
  opts: DeployStackOptions,
): Promise<{ deployed: Array<{ name: string; namespace?: string }>; failed: number }> {
  const out = ctx.io.stdout;
  const deployed: Array<{ name: string; namespace?: string }> = [];
  let failed = 0;
  // the stack schema and the templates are loaded when a deploy runs, not for `--help`
  const [{ selectFunctions }, { toFunctionDeployment }] = await Promise.all([
    import('../../core/images/stack-file.ts'),
    import('../deployment.ts'),
  ]);
  for (const [name, fn] of selectFunctions(stack, opts.filter)) {
    out.write(`Deploying: ${name}.\n`);
    try {
      const deployment = await toFunctionDeployment(stack, name, fn, {
        namespace: opts.namespace,
        readTemplate: opts.readTemplate,
      });
      const outcome = await client.deploy(deployment, { update: opts.update, replace: opts.replace });
      out.write(
        outcome.action === 'updated'
          ? `Deployed (rolling update). ${outcome.status}.\n`
          : `Deployed. ${outcome.status} Accepted.\n`,
      );
      const suffix = deployment.namespace ? `.${deployment.namespace}` : '';
      out.write(`URL: ${client.gateway}/function/${name}${suffix}\n\n`);
      deployed.push({ name, namespace: deployment.namespace });
    } catch (err) {
      if (err instanceof PlatformError && (err.code === 'unavailable' || err.code === 'unauthorized') && !err.details)
        throw err;
      failed++;
      ctx.io.stderr.write(`Error deploying ${name}: ${(err as Error).message}\n\n`);
    }
  }
  return { deployed, failed };
}

export function parseBool(flag: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new PlatformError('bad_request', `${flag}: "${value}" must be true or false`);
}

export function registerDeploy(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('deploy').description('deploy the functions of a stack file'))
    .option('--filter <function>', 'deploy only this function')
    .option('--replace', 'remove each function, then deploy it')
    .option('--update <bool>', 'update existing functions in place (PUT, then POST when absent)', 'true')
    .option('-n, --namespace <ns>', 'namespace for functions that name none')
    .option('--read-template <bool>', 'read fprocess from ./template/<lang>/template.yml', 'true')
    .action(
      async (
        o: GatewayOptions & {
          filter?: string;
          replace?: boolean;
          update: string;
          namespace?: string;
          readTemplate: string;
        },
      ) => {
        const stack = (await loadStack(ctx, o.yaml, true))!;
        const client = await connect(ctx, o, stack);
        const { failed } = await deployStack(ctx, client, stack, {
          filter: o.filter,
          replace: o.replace,
          update: parseBool('--update', o.update),
          namespace: o.namespace,
          readTemplate: parseBool('--read-template', o.readTemplate),
        });
        if (failed > 0) throw new PlatformError('bad_request', `${failed} function(s) failed to deploy`);
      },
    );
}
