/**
 * Sends bytes as they are over a socket (fetch refuses malformed requests before they leave)
 * and reads the status line of the answer, or reports that none came within the timeout.
 */
import net from 'node:net';

export interface RawAnswer {
  status: number;
  text: string;
  /** True when the server closed the connection without an answer. */
  closed: boolean;
}

export function rawRequest(
  port: number,
  bytes: Buffer | string,
  opts: { timeoutMs?: number; endAfterWrite?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        new Error(`no answer within ${opts.timeoutMs ?? 5000} ms to ${JSON.stringify(String(bytes).slice(0, 120))}`),
      );
    }, opts.timeoutMs ?? 5000);
    const done = () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : 0, text: data.slice(data.indexOf('\r\n\r\n') + 4), closed: !m });
    };
    s.on('data', (d) => {
      data += d;
      // an answer to a request whose body never completes: stop once the headers and body arrived
      const head = data.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(data);
      if (head !== -1 && len && data.length >= head + 4 + Number(len[1])) {
        s.destroy();
        done();
      }
    });
    s.on('close', done);
    s.on('error', () => undefined);
    s.write(bytes, () => {
      if (opts.endAfterWrite) s.end();
    });
  });
}
