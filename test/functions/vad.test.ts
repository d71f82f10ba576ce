import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { WaveFile } from '../../functions/vad/wavefile.ts';
import { PlatformError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createCpuBackend } from '../../templates/onnx-node/runtime/backends/cpu.ts';
import type { Executor } from '../../templates/onnx-node/runtime/executor.ts';
import { createVadFunction } from '../../functions/vad/index.ts';
import { decodeAudio } from '../../functions/vad/audio.ts';
import { speechSegments } from '../../functions/vad/segments.ts';

// Made once by test/functions/fixtures/make-fixtures.ts with espeak-ng: 700 ms silence,
// "hello world" (1,249 ms), 1,500 ms silence, "testing one two three" (1,764 ms), 700 ms silence.
const speech = readFileSync(new URL('./fixtures/speech-16k.wav', import.meta.url));
const PHRASES = [
  [700, 1949],
  [3449, 5213],
];

function wav(samples: Int16Array, rate = 16000, channels = 1): Buffer {
  const w = new WaveFile();
  w.fromScratch(channels, rate, '16', samples);
  return Buffer.from(w.toBuffer());
}

describe('functions/vad (Silero VAD)', function () {
  this.timeout(30_000);
  const fn = createVadFunction();
  let exec: Executor;
  before(async () => {
    exec = await createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }).open(fn);
  });
  after(() => exec?.close());

  it('finds the two spoken phrases, each inside its span', async () => {
    const [r] = await fn.infer(exec, [await fn.decode(speech, 'audio/wav')]);
    expect(r.durationMs).to.equal(5913);
    expect(r.segments).to.have.length(2);
    r.segments.forEach((s, i) => {
      expect(s.startMs).to.be.within(PHRASES[i][0] - 100, PHRASES[i][1]);
      expect(s.endMs).to.be.within(s.startMs + 250, PHRASES[i][1] + 100);
    });
  });

  it('finds no speech in silence, in a batch with speech, each file with its own state', async () => {
    const silence = await fn.decode(Buffer.alloc(3 * 32000), 'audio/pcm; rate=16000; format=s16le');
    const out = await fn.infer(exec, [silence, await fn.decode(speech, 'audio/wav'), silence]);
    expect(out[0]).to.deep.equal({ durationMs: 3000, segments: [] });
    expect(out[2]).to.deep.equal({ durationMs: 3000, segments: [] });
    expect(out[1].segments).to.have.length(2);
  });

  it("decodes 16-bit PCM as wavefile's 32-bit float conversion does, sample for sample", () => {
    const body = speech;
    const wav = new WaveFile(body);
    expect(wav.bitDepth).to.equal('16');
    wav.toBitDepth('32f');
    const expected = Float32Array.from(wav.getSamples(false, Float64Array) as unknown as Float64Array);
    const got = decodeAudio(body, 'audio/wav');
    expect(got.sampleRate).to.equal(16_000);
    expect(got.samples.length).to.equal(expected.length);
    let differing = 0;
    for (let i = 0; i < expected.length; i++) if (got.samples[i] !== expected[i]) differing++;
    expect(differing).to.equal(0);
    expect(Math.min(...got.samples)).to.be.at.least(-1);
    expect(Math.max(...got.samples)).to.be.at.most(1);
  });

  it('reads raw big-endian L16 the same as the WAV', async () => {
    const pcm = new WaveFile(speech).getSamples(false, Int16Array) as unknown as Int16Array;
    const be = Buffer.alloc(pcm.length * 2);
    pcm.forEach((v, i) => be.writeInt16BE(v, i * 2));
    const [fromRaw, fromWav] = await fn.infer(exec, [
      await fn.decode(be, 'audio/L16; rate=16000; channels=1'),
      await fn.decode(speech, 'audio/wav'),
    ]);
    expect(fromRaw).to.deep.equal(fromWav);
  });

  it('answers bad audio with a 400 that says what to send', async () => {
    const cases: [Buffer, string | undefined, RegExp][] = [
      [Buffer.alloc(0), 'audio/wav', /empty body: send a 16 kHz mono WAV/],
      [Buffer.from('hello'), 'text/plain', /not a WAV file .* send a 16 kHz mono WAV file, or raw PCM/],
      [wav(new Int16Array(4410), 44100), 'audio/wav', /sample rate 44100 Hz is not supported: resample to 16000 Hz/],
      [wav(new Int16Array(3200), 16000, 2), 'audio/wav', /has 2 channels; send mono audio/],
      [Buffer.alloc(3), 'audio/pcm; rate=16000', /whole number of 2-byte samples; got 3 bytes/],
      [Buffer.alloc(4), 'audio/pcm', /needs its sample rate in the Content-Type/],
      [
        Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE'), Buffer.alloc(8)]),
        'audio/wav',
        /cannot read the WAV file/,
      ],
    ];
    for (const [body, type, pattern] of cases) {
      const err = await fn.decode(body, type).catch((e: unknown) => e);
      expect(err, String(pattern)).to.be.instanceOf(PlatformError);
      expect((err as PlatformError).code).to.equal('bad_request');
      expect((err as PlatformError).message).to.match(pattern);
    }
    expect(() => decodeAudio(Buffer.alloc(2 * 16000 * 601), 'audio/pcm; rate=16000')).to.throw(
      PlatformError,
      /601.0 s long; at most 600 s/,
    );
  });

  it('declares the output shapes the model has', async () => {
    const n = 2;
    const feeds = () => ({
      input: { type: 'float32' as const, dims: [n, 1536], data: new Float32Array(n * 1536) },
      sr: { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) },
      h: { type: 'float32' as const, dims: [2, n, 64], data: new Float32Array(2 * n * 64) },
      c: { type: 'float32' as const, dims: [2, n, 64], data: new Float32Array(2 * n * 64) },
    });
    const real = await exec.run(feeds());
    const declared = fn.outputShapes(feeds());
    for (const name of ['output', 'hn', 'cn']) expect(declared[name].dims, name).to.deep.equal(real[name].dims);
  });
});

describe('functions/vad segmentation rules', () => {
  const p = (s: string) => [...s].map((ch) => (ch === '#' ? 0.9 : ch === '~' ? 0.4 : 0.05));
  it('joins short gaps, drops short blips, pads and clips', () => {
    // 100 ms frames: speech 3 frames, one 100 ms dip (not enough silence to split), speech, silence
    expect(speechSegments(p('..###.##....'), 100, 1200)).to.deep.equal([{ startMs: 170, endMs: 830 }]);
    // a 100 ms blip is shorter than minSpeechMs 250
    expect(speechSegments(p('..#.......'), 100, 1000)).to.deep.equal([]);
    // hysteresis: 0.4 is below threshold but above threshold − 0.15, so speech goes on
    expect(speechSegments(p('###~~~###..'), 100, 1100)).to.deep.equal([{ startMs: 0, endMs: 930 }]);
    // speech running to the end
    expect(speechSegments(p('....####'), 100, 800)).to.deep.equal([{ startMs: 370, endMs: 800 }]);
  });
});
