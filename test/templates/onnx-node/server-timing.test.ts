/** The W3C Server-Timing header: recording, formatting, parsing (lenient, as the spec says), appending. */
import { expect } from 'chai';
import { appendServerTiming, formatServerTiming, parseServerTiming } from '../../../core/net/server-timing.ts';
import { createServerTiming } from '../../../templates/onnx-node/runtime/server-timing.ts';

describe('onnx-node Server-Timing', () => {
  it('records stages in order, adds up a stage measured in parts, clamps what cannot be a duration to 0', () => {
    const t = createServerTiming();
    t.add('decode', 1.23456);
    t.add('batch', -0.5); // clocks do not run backwards, but a subtraction of two readings may
    t.add('infer', 2);
    t.add('infer', 3);
    t.add('token', Number.NaN);
    expect(t.entries()).to.deep.equal([
      { name: 'decode', dur: 1.23456 },
      { name: 'batch', dur: 0 },
      { name: 'infer', dur: 5 },
      { name: 'token', dur: 0 },
    ]);
    expect(t.header()).to.equal('decode;dur=1.235, batch;dur=0, infer;dur=5, token;dur=0');
    expect(createServerTiming().header()).to.equal('');
  });

  it('parses what it formats, with descriptions and quoted strings', () => {
    const h = formatServerTiming([
      { name: 'cache', desc: 'hit, "warm"; yes' },
      { name: 'db', dur: 53 },
    ]);
    expect(parseServerTiming(h)).to.deep.equal([
      { name: 'cache', desc: 'hit, "warm"; yes' },
      { name: 'db', dur: 53 },
    ]);
  });

  it('parses leniently: bad metrics skipped, unknown parameters ignored, a dur that is not a number left out, repeated headers joined', () => {
    expect(parseServerTiming(['a;dur=1;foo=bar', 'b;dur=abc, ;dur=3, c d;dur=4, e;DUR=2.5;dur=9'])).to.deep.equal([
      { name: 'a', dur: 1 },
      { name: 'b' },
      { name: 'e', dur: 2.5 },
    ]);
    expect(parseServerTiming(undefined)).to.deep.equal([]);
    expect(parseServerTiming('')).to.deep.equal([]);
  });

  it('refuses a metric name that is not an HTTP token (no header injection)', () => {
    expect(() => formatServerTiming([{ name: 'x\r\nset-cookie: a=b', dur: 1 }])).to.throw(/not an HTTP token/);
    expect(() => formatServerTiming([{ name: 'a b', dur: 1 }])).to.throw(/not an HTTP token/);
    expect(() => createServerTiming().add('ok', 1)).to.not.throw();
  });

  it('appends to an existing header (one value or several)', () => {
    expect(appendServerTiming('decode;dur=1', [{ name: 'gateway', dur: 0.25 }])).to.equal(
      'decode;dur=1, gateway;dur=0.25',
    );
    expect(appendServerTiming(['a;dur=1', 'b;dur=2'], [{ name: 'gateway', dur: 1 }])).to.equal(
      'a;dur=1, b;dur=2, gateway;dur=1',
    );
    expect(appendServerTiming(undefined, [{ name: 'gateway', dur: 1 }])).to.equal('gateway;dur=1');
  });
});
