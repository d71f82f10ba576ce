/**
 * core/net/ndjson.ts: the one line splitter, on a socket (limits, bad lines) and on a web stream (chunks split
 * anywhere).
 */
import { expect } from 'chai';
import net, { type AddressInfo } from 'node:net';
import { createLineSplitter, readJsonLines, readNdjson } from '../../../core/net/ndjson.ts';

const streamOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });

describe('core/net/ndjson', () => {
  it('splits lines across pushes and keeps what follows the last newline', () => {
    const s = createLineSplitter();
    expect(s.push('{"a":1}\n{"b"')).to.deep.equal(['{"a":1}']);
    expect(s.pending).to.equal('{"b"');
    expect(s.push(':2}\n\n{"c":3}\n')).to.deep.equal(['{"b":2}', '', '{"c":3}']);
    expect(s.pending).to.equal('');
  });

  it('reads a web stream cut inside a multi-byte character and a last line without newline', async () => {
    const bytes = new TextEncoder().encode('{"t":"größe"}\n\n  \n{"t":"π"}');
    const cut = bytes.indexOf(0xc3) + 1; // inside "ö"
    const out: { t: string }[] = [];
    for await (const v of readNdjson<{ t: string }>(streamOf([bytes.slice(0, cut), bytes.slice(cut)]))) out.push(v);
    expect(out).to.deep.equal([{ t: 'größe' }, { t: 'π' }]);
  });

  it('throws on a web stream line that is not JSON', async () => {
    const it = readNdjson(streamOf([new TextEncoder().encode('{"ok":1}\nnot json\n')]));
    expect((await it.next()).value).to.deep.equal({ ok: 1 });
    const err = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SyntaxError);
  });

  it('on a socket: hands over each message, and reports a line that is not JSON or too long', async () => {
    const got: unknown[] = [];
    const bad: string[] = [];
    const server = net.createServer((s) =>
      readJsonLines(s, { message: (m) => got.push(m), bad: (m) => bad.push(m) }, 16),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const send = async (text: string) => {
      const c = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      await new Promise((r) => c.once('connect', r));
      c.end(text);
      await new Promise((r) => c.once('close', r));
    };
    try {
      await send('{"a":1}\n{"b":2}\n');
      await send('nope\n{"c":3}\n');
      await send('{"long":"' + 'x'.repeat(40));
      await new Promise((r) => setImmediate(r));
      expect(got).to.deep.equal([{ a: 1 }, { b: 2 }]);
      expect(bad).to.deep.equal(['a line is not valid JSON', 'a line is longer than 16 bytes']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
