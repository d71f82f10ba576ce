/**
 * `explain NAME [-n ns] [--json]`: the auto-scaler's last decision for a function — demand, the
 * chosen configurations, the alternatives and why, and the placement — from
 * GET /system/explain/NAME (text by default, the JSON record with --json).
 */
import type { Command } from 'commander';
import { PlatformError, isErrorCode } from '../../core/errors.ts';
import { gatewayOptions, gatewayUrl, type CommandContext, type GatewayOptions } from '../context.ts';
import { resolveCredentials } from '../gateway-target.ts';
import { httpFetch, type HttpResponse } from '../http-fetch.ts';

export function registerExplain(program: Command, ctx: CommandContext): void {
  gatewayOptions(
    program.command('explain <name>').description("print the auto-scaler's last decision for a function and why"),
  )
    .option('-n, --namespace <ns>', 'namespace of the function')
    .option('--json', 'print the decision record as JSON')
    .action(async (name: string, o: GatewayOptions & { namespace?: string; json?: boolean }) => {
      const gateway = await gatewayUrl(ctx, o);
      const credentials = await resolveCredentials(gateway, o, ctx.authFile);
      const url = new URL(`${gateway}/system/explain/${encodeURIComponent(name)}`);
      if (o.namespace) url.searchParams.set('namespace', o.namespace);
      url.searchParams.set('format', o.json ? 'json' : 'text');
      const headers: Record<string, string> = {};
      if (credentials)
        headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      let res: HttpResponse;
      try {
        res = await (ctx.fetch ?? httpFetch)(url, { headers });
      } catch (err) {
        throw new PlatformError(
          'unavailable',
          `cannot reach the gateway at ${gateway}: is \`fastgshare up\` running? (${(err as Error).message})`,
          { cause: err },
        );
      }
      const text = await res.text();
      if (!res.ok) {
        let message = text.trim() || res.statusText;
        let code: unknown;
        try {
          ({ message, code } = JSON.parse(text) as { message: string; code?: unknown });
        } catch {
          /* not JSON */
        }
        throw new PlatformError(
          isErrorCode(code)
            ? code
            : res.status === 404
              ? 'not_found'
              : res.status === 401
                ? 'unauthorized'
                : 'internal',
          `explain ${name}: ${message} (HTTP ${res.status})`,
        );
      }
      ctx.io.stdout.write(o.json ? JSON.stringify(JSON.parse(text), null, 2) + '\n' : text);
    });
}
