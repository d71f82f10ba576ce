/**
 * Request bodies for VAD: a WAV file (any PCM or float bit depth, mono, 8 or 16 kHz), or raw PCM
 * whose Content-Type says what it is:
 *   audio/L16; rate=16000[; channels=1]          16-bit signed, big-endian (RFC 2586)
 *   audio/pcm; rate=16000[; format=s16le|f32le]  16-bit signed or 32-bit float, little-endian
 * Decoded with wavefile; anything else is a PlatformError('bad_request') saying what to send.
 */
import { WaveFile } from './wavefile.ts';
import { PlatformError } from 'fastgshare/core/errors.ts';

export const SAMPLE_RATES = [8000, 16000];
/** Longest audio accepted, seconds. */
export const MAX_SECONDS = 600;

export interface Audio {
  sampleRate: number;
  /** Mono samples in [-1, 1]. */
  samples: Float32Array;
}

const bad = (message: string, cause?: unknown) =>
  new PlatformError('bad_request', message, cause === undefined ? undefined : { cause });

function parseContentType(contentType: string | undefined): { type: string; params: Record<string, string> } {
  const [type, ...rest] = (contentType ?? '').split(';').map((s) => s.trim());
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i > 0)
      params[p.slice(0, i).trim().toLowerCase()] = p
        .slice(i + 1)
        .trim()
        .replace(/^"|"$/g, '');
  }
  return { type: type.toLowerCase(), params };
}

function checkRate(rate: number): void {
  if (!SAMPLE_RATES.includes(rate))
    throw bad(`sample rate ${rate} Hz is not supported: resample to 16000 Hz (or 8000 Hz)`);
}

function checkLength(audio: Audio): Audio {
  const seconds = audio.samples.length / audio.sampleRate;
  if (seconds > MAX_SECONDS)
    throw new PlatformError(
      'payload_too_large',
      `the audio is ${seconds.toFixed(1)} s long; at most ${MAX_SECONDS} s per request`,
    );
  return audio;
}

function decodeWav(body: Buffer): Audio {
  let wav: WaveFile;
  try {
    wav = new WaveFile(body);
  } catch (err) {
    throw bad(`cannot read the WAV file: ${(err as Error).message}`, err);
  }
  const fmt = { ...(wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number }) };
  if (fmt.numChannels !== 1) throw bad(`the WAV file has ${fmt.numChannels} channels; send mono audio`);
  checkRate(fmt.sampleRate);
  // 16-bit PCM, by far the most common, is scaled here as wavefile scales it (÷ 32767 above zero, ÷ 32768 below):
  // its toBitDepth('32f') re-encodes the whole file first and took 340 ms for a 6 s clip (bench:models, vad)
  if (wav.bitDepth === '16' && fmt.audioFormat === 1) {
    const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array;
    const samples = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) samples[i] = raw[i]! > 0 ? raw[i]! / 32767 : raw[i]! / 32768;
    return checkLength({ sampleRate: fmt.sampleRate, samples });
  }
  try {
    if (wav.bitDepth !== '32f') wav.toBitDepth('32f');
  } catch (err) {
    throw bad(
      `the WAV file's encoding (format ${fmt.audioFormat}, ${wav.bitDepth} bits) is not PCM or float; send 16-bit PCM`,
      err,
    );
  }
  const samples = Float32Array.from(wav.getSamples(false, Float64Array) as unknown as Float64Array);
  return checkLength({ sampleRate: fmt.sampleRate, samples });
}

function decodeRaw(body: Buffer, type: string, params: Record<string, string>): Audio {
  const rate = Number(params.rate);
  if (!params.rate || !Number.isInteger(rate))
    throw bad(`raw audio needs its sample rate in the Content-Type, e.g. "${type}; rate=16000"`);
  checkRate(rate);
  if ((params.channels ?? '1') !== '1') throw bad(`raw audio has ${params.channels} channels; send mono audio`);
  const format = type === 'audio/l16' ? 's16be' : (params.format ?? 's16le').toLowerCase();
  const width = format === 'f32le' ? 4 : 2;
  if (!['s16be', 's16le', 'f32le'].includes(format))
    throw bad(`raw audio format "${format}" is not supported: use s16le or f32le`);
  if (body.length % width !== 0)
    throw bad(`raw ${format} audio must be a whole number of ${width}-byte samples; got ${body.length} bytes`);
  const n = body.length / width;
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    samples[i] =
      format === 'f32le'
        ? body.readFloatLE(i * 4)
        : (format === 's16le' ? body.readInt16LE(i * 2) : body.readInt16BE(i * 2)) / 32768;
  }
  return checkLength({ sampleRate: rate, samples });
}

export function decodeAudio(body: Buffer, contentType: string | undefined): Audio {
  if (body.length === 0)
    throw bad('empty body: send a 16 kHz mono WAV file, or raw PCM with Content-Type "audio/pcm; rate=16000"');
  const { type, params } = parseContentType(contentType);
  if (type === 'audio/l16' || type === 'audio/pcm') return decodeRaw(body, type, params);
  if (body.subarray(0, 4).toString('latin1') === 'RIFF' && body.subarray(8, 12).toString('latin1') === 'WAVE')
    return decodeWav(body);
  throw bad(
    `the body is not a WAV file (no RIFF/WAVE header) and Content-Type "${contentType ?? ''}" does not describe raw audio; send a 16 kHz mono WAV file, or raw PCM with Content-Type "audio/pcm; rate=16000; format=s16le"`,
  );
}
