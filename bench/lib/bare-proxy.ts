/**
 * The smallest possible proxy hop, for reference in bench:gateway: http-proxy with a keep-alive
 * agent and nothing else (no routing, headers, metrics, limits or retries). Run as its own
 * process: `tsx bench/lib/bare-proxy.ts <port> <target> [forward-token]`; prints "listening" when ready.
 * The replica's forward token (which it requires) is set on each proxied request, as the gateway does.
 */
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, target, forwardToken] = process.argv.slice(2);
if (!port || !target) {
  process.stderr.write('usage: bare-proxy.ts <port> <target-url>\n');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const proxy = httpProxy.createProxyServer({ agent });
if (forwardToken) proxy.on('proxyReq', (proxyReq) => proxyReq.setHeader('x-fastgshare-forward', forwardToken));
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502).end();
});
http
  .createServer((req, res) => proxy.web(req, res, { target }))
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
