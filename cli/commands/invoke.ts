/**
 * `invoke NAME [-n ns] [--query k=v] [-m METHOD] [-H 'K: V'] [--async]`: sends stdin as the body
 * to /function/NAME.NS (no credentials, as faas-cli) and prints the response body.
 */
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { readAll } from '../io.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  const eq = text.indexOf('=');
  const at = colon < 0 ? eq : eq < 0 ? colon : Math.min(colon, eq);
  if (at <= 0)
    throw new PlatformError('bad_request', `header "${text}" must look like 'X-Name: value' (or X-Name=value)`);
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}

export function parseQuery(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new PlatformError('bad_request', `query "${text}" must look like key=value`);
  return [text.slice(0, at), text.slice(at + 1)];
}

export function registerInvoke(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('invoke <name>').description('invoke a function with stdin as the body'))
    .option('-n, --namespace <ns>', 'namespace of the function')
    .option('--query <k=v>', 'query parameter (repeatable)', collect, [])
    .option('-H, --header <header>', "request header 'K: V' (repeatable)", collect, [])
    .option('-m, --method <method>', 'HTTP method', 'POST')
    .option('--content-type <type>', 'content-type of the body')
    .option('-a, --async', 'queue the call (/async-function)')
    .action(
      async (
        name: string,
        o: GatewayOptions & {
          namespace?: string;
          query: string[];
          header: string[];
          method: string;
          contentType?: string;
          async?: boolean;
        },
      ) => {
        const client = await connectWithStack(ctx, o);
        const headers = o.header.map(parseHeader);
        if (o.contentType) headers.push(['content-type', o.contentType]);
        const method = o.method.toUpperCase();
        let body: Buffer = Buffer.alloc(0);
        if (!['GET', 'HEAD'].includes(method) || o.async) {
          if (ctx.io.stdin.isTTY) ctx.io.stderr.write('Reading from STDIN - hit (Control + D) to stop.\n');
          body = await readAll(ctx.io.stdin);
        }
        const res = await client.invoke(name, {
          namespace: o.namespace,
          method,
          query: o.query.map(parseQuery),
          headers,
          body,
          async: o.async,
        });
        if (res.status < 200 || res.status > 299) {
          const text = res.body.toString('utf8').trim();
          throw new PlatformError(
            res.status === 404 ? 'not_found' : 'upstream_failed',
            `server returned unexpected status code: ${res.status} - ${text || '(empty body)'}`,
          );
        }
        if (o.async) {
          ctx.io.stderr.write(`Function submitted asynchronously (${res.status}).\n`);
          const id = res.headers.get('x-call-id');
          if (id) ctx.io.stdout.write(`X-Call-Id: ${id}\n`);
          return;
        }
        ctx.io.stdout.write(res.body);
      },
    );
}
