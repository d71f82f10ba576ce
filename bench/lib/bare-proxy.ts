/**
 * The smallest possible proxy hop, for reference in bench:gateway: http-proxy with a keep-alive
 * agent and nothing else (no routing, headers, metrics, limits or retries). Run as its own
 * process: `tsx bench/lib/bare-proxy.ts <port> <target>`; prints "listening" when ready.
 */
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, target] = process.argv.slice(2);
if (!port || !target) {
  process.stderr.write('usage: bare-proxy.ts <port> <target-url>\n');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const proxy = httpProxy.createProxyServer({ agent });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502).end();
});
http.createServer((req, res) => proxy.web(req, res, { target })).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
