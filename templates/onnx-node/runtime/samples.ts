/** Sample request bodies for warming a model up (made at start-up, nothing shipped). */
import sharp from 'sharp';
import type { SampleRequest } from './service.ts';

/**
 * A white PNG of width × height with dark bars drawn across it (text-like strokes), so detectors
 * and recognisers run their real code paths.
 */
export async function sampleImage(width: number, height: number): Promise<SampleRequest> {
  const barH = Math.max(2, Math.round(height / 6));
  const bars = [];
  for (let y = barH; y + barH < height; y += barH * 3) {
    bars.push({
      input: {
        create: {
          width: Math.max(1, Math.round(width * 0.8)),
          height: barH,
          channels: 3 as const,
          background: '#202020',
        },
      },
      left: Math.round(width * 0.1),
      top: y,
    });
  }
  const body = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(bars)
    .png()
    .toBuffer();
  return { body, contentType: 'image/png' };
}

/** `ms` of quiet noise at `rate` Hz as raw 16-bit little-endian PCM. */
export function sampleAudio(ms: number, rate = 16000): SampleRequest {
  const n = Math.round((rate * ms) / 1000);
  const body = Buffer.alloc(n * 2);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    body.writeInt16LE(((seed % 200) - 100) | 0, i * 2);
  }
  return { body, contentType: `audio/pcm; rate=${rate}; format=s16le` };
}
