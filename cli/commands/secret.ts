/** `secret create|update NAME [--from-literal V | --from-file F | stdin]`, `secret list`, `secret remove NAME`. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { validateSecretName } from '../../core/names.ts';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { table } from '../format.ts';
import { readAll } from '../io.ts';

type SecretOptions = GatewayOptions & { namespace?: string; fromLiteral?: string; fromFile?: string };

async function secretValue(ctx: CommandContext, o: SecretOptions): Promise<{ value?: string; rawValue?: string }> {
  if (o.fromLiteral !== undefined && o.fromFile)
    throw new PlatformError('bad_request', 'use either --from-literal or --from-file, not both');
  if (o.fromLiteral !== undefined) return { value: o.fromLiteral };
  if (o.fromFile) {
    const bytes = await readFile(resolve(ctx.cli.cwd, o.fromFile)).catch((err: Error) => {
      throw new PlatformError('bad_request', `cannot read --from-file "${o.fromFile}": ${err.message}`);
    });
    return { rawValue: bytes.toString('base64') };
  }
  if (ctx.io.stdin.isTTY) ctx.io.stderr.write('Reading from STDIN - hit (Control + D) to stop.\n');
  const bytes = await readAll(ctx.io.stdin);
  if (bytes.length === 0)
    throw new PlatformError('bad_request', 'the secret is empty: give it with --from-literal, --from-file or on stdin');
  return { value: bytes.toString('utf8').trim() };
}

export function registerSecret(program: Command, ctx: CommandContext): void {
  const secret = program.command('secret').description('manage function secrets');
  for (const verb of ['create', 'update'] as const) {
    gatewayOptions(secret.command(`${verb} <name>`).description(`${verb} a secret`))
      .option('-n, --namespace <ns>', 'namespace of the secret')
      .option('--from-literal <value>', 'the secret value')
      .option('--from-file <file>', 'read the secret bytes from a file')
      .action(async (name: string, o: SecretOptions) => {
        validateSecretName(name, 'secret name');
        const value = await secretValue(ctx, o);
        const client = await connectWithStack(ctx, o);
        await client.createSecret({ name, namespace: o.namespace, ...value }, verb === 'update');
        ctx.io.stdout.write(`${verb === 'create' ? 'Created' : 'Updated'}: ${name}\n`);
      });
  }
  gatewayOptions(secret.command('list').alias('ls').description('list secrets'))
    .option('-n, --namespace <ns>', 'namespace')
    .action(async (o: SecretOptions) => {
      const client = await connectWithStack(ctx, o);
      const secrets = await client.listSecrets(o.namespace);
      ctx.io.stdout.write(
        table(
          ['NAME'],
          secrets.map((s) => [s.name]),
        ),
      );
    });
  gatewayOptions(secret.command('remove <name>').alias('rm').description('remove a secret'))
    .option('-n, --namespace <ns>', 'namespace')
    .action(async (name: string, o: SecretOptions) => {
      const client = await connectWithStack(ctx, o);
      await client.removeSecret(name, o.namespace);
      ctx.io.stdout.write(`Removed: ${name}\n`);
    });
}
