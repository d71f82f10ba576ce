/**
 * End to end through the gateway: `fastgshare up --build --deploy stack.yml` as a real process
 * (one platform for the whole file), then the real model functions on the cpu device:
 * recognition, direction, detection, the OCR pipeline in reading order, VAD, bad input (400),
 * and deploy-time device checks (cuda without CUDA libraries, bad annotations → 400).
 */
import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { WaveFile } from '../../functions/vad/wavefile.ts';
import { startPlatform, type RunningPlatform } from '../../bench/lib/platform.ts';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';
import { PAGE_LINES } from '../functions/fixtures/page-lines.ts';

const fixture = (name: string) => readFile(new URL(`../functions/fixtures/${name}`, import.meta.url));

describe('model functions through the gateway (stack.yml)', function () {
  this.timeout(120_000);
  let platform: RunningPlatform;
  let gw: string;
  const post = (fn: string, body: Buffer | string, contentType?: string) =>
    fetch(`${gw}/function/${fn}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : new Uint8Array(body),
      headers: contentType ? { 'content-type': contentType } : {},
    });

  before(async () => {
    platform = await startPlatform({ stack: 'stack.yml', timeoutMs: 90_000 });
    gw = platform.gatewayUrl;
  });
  after(async () => {
    await platform?.stop();
  });

  it('recognises a rendered "Hello World 2024" line exactly (bytes and base64 JSON)', async () => {
    const png = await fixture('hello-world-2024.png');
    const res = await post('ocr-recognize', png, 'image/png');
    expect(res.status).to.equal(200);
    const out = (await res.json()) as { text: string; confidence: number };
    expect(out.text).to.equal('Hello World 2024');
    expect(out.confidence).to.be.greaterThan(0.9);
    const json = await post('ocr-recognize', JSON.stringify({ image: png.toString('base64') }), 'application/json');
    expect(((await json.json()) as { text: string }).text).to.equal('Hello World 2024');
  });

  it('classifies an upright line as 0 and the same line turned over as 180', async () => {
    const sharp = (await import('sharp')).default;
    const png = await fixture('hello-world-2024.png');
    const upright = (await (await post('text-direction', png, 'image/png')).json()) as { angle: number; score: number };
    expect(upright.angle).to.equal(0);
    const flipped = await sharp(png).rotate(180).png().toBuffer();
    const turned = (await (await post('text-direction', flipped, 'image/png')).json()) as {
      angle: number;
      score: number;
    };
    expect(turned.angle).to.equal(180);
    expect(turned.score).to.be.greaterThan(0.5);
  });

  it('detects one box per line of a page, top to bottom', async () => {
    const res = await post('ocr-detect', await fixture('page-lines.png'), 'image/png');
    expect(res.status).to.equal(200);
    const { boxes } = (await res.json()) as { boxes: { x: number; y: number; width: number; height: number }[] };
    expect(boxes).to.have.length(PAGE_LINES.length);
    for (let i = 1; i < boxes.length; i++)
      expect(boxes[i].y).to.be.greaterThan(boxes[i - 1].y + boxes[i - 1].height / 2);
  });

  it('reads a rendered page with several lines in reading order (ocr pipeline)', async () => {
    const res = await post('ocr', await fixture('page-lines.png'), 'image/png');
    expect(res.status).to.equal(200);
    const out = (await res.json()) as { lines: { text: string; box: { y: number } }[]; text: string };
    expect(out.lines.map((l) => l.text)).to.deep.equal(PAGE_LINES);
    expect(out.text).to.equal(PAGE_LINES.join('\n'));
  });

  it('finds the two spoken phrases in speech and nothing in silence (WAV and raw PCM)', async () => {
    const wav = await fixture('speech-16k.wav');
    const res = await post('vad', wav, 'audio/wav');
    expect(res.status).to.equal(200);
    const speech = (await res.json()) as { durationMs: number; segments: { startMs: number; endMs: number }[] };
    expect(speech.segments).to.have.length(2);
    expect(speech.segments[0].startMs).to.be.within(500, 1100);
    expect(speech.segments[1].startMs).to.be.greaterThan(speech.segments[0].endMs + 1000);
    const silence = new WaveFile();
    silence.fromScratch(1, 16000, '16', new Int16Array(16000 * 2));
    const quiet = (await (await post('vad', Buffer.from(silence.toBuffer()), 'audio/wav')).json()) as {
      segments: unknown[];
      durationMs: number;
    };
    expect(quiet).to.deep.equal({ durationMs: 2000, segments: [] });
    // the same speech as raw little-endian PCM, said so in the content type
    const w = new WaveFile(wav);
    const pcm = Buffer.from((w.data as { samples: Uint8Array }).samples);
    const raw = (await (await post('vad', pcm, 'audio/pcm; rate=16000; format=s16le')).json()) as {
      segments: unknown[];
    };
    expect(raw.segments).to.deep.equal(speech.segments);
  });

  it('answers 400 saying what was expected for undecodable input', async () => {
    const img = await post('ocr-recognize', 'definitely not an image', 'application/octet-stream');
    expect(img.status).to.equal(400);
    expect(await img.text()).to.match(/cannot decode the text-line image.*PNG, JPEG/);
    const json = await post('ocr', JSON.stringify({ picture: 'x' }), 'application/json');
    expect(json.status).to.equal(400);
    expect(await json.text()).to.contain('{"image": "<base64>"}');
    const audio = await post('vad', Buffer.alloc(1000, 1), 'application/octet-stream');
    expect(audio.status).to.equal(400);
    expect(await audio.text()).to.match(/not a WAV file.*audio\/pcm; rate=16000/);
  });

  it('pins cpu replicas to the cores of their partition', async () => {
    const fns = (await (await platform.nodeFetch(`/v1/functions`)).json()) as FunctionReplicas[];
    const info = (await (await fetch(`${gw}/function/vad`)).json()) as {
      device: { device: string; cores: number[]; intraOpThreads: number };
      settings: { sloMs: number; maxBatch: number };
    };
    expect(info.device.device).to.equal('cpu');
    expect(info.device.cores).to.have.length(1); // 50 % of 2 cores
    expect(info.device.intraOpThreads).to.equal(1);
    expect(info.settings).to.include({ sloMs: 1000, maxBatch: 8 });
    expect(fns.find((f) => f.name === 'vad')?.replicas[0]?.state).to.equal('ready');
  });

  it('replicas that run one model map one shared copy of its weights (model sharing, on by default)', async () => {
    // the ocr pipeline runs the direction classifier and the recogniser that text-direction and
    // ocr-recognize run: all three replicas should map the same weight files from the node's cache
    const fns = (await (await platform.nodeFetch(`/v1/functions`)).json()) as FunctionReplicas[];
    const pid = (name: string) => fns.find((f) => f.name === name)!.replicas.find((r) => r.state === 'ready')!.pid!;
    // a replica's pid leads its process group; in a sandbox it is bubblewrap's, and the server is another member
    const group = async (pgid: number) =>
      (await readdir('/proc'))
        .filter((n) => /^\d+$/.test(n))
        .filter((n) => {
          try {
            return readFileSync(`/proc/${n}/stat`, 'utf8').split(') ')[1]!.split(' ')[2] === String(pgid);
          } catch {
            return false;
          }
        });
    const weightFiles = async (name: string) =>
      (await Promise.all((await group(pid(name))).map((n) => readFile(`/proc/${n}/maps`, 'utf8').catch(() => ''))))
        .join('\n')
        .split('\n')
        .map((l) => l.split(/\s+/).slice(5).join(' '))
        .filter((p, i, all) => p.endsWith('/model.onnx.data') && all.indexOf(p) === i);
    const [direction, recognize, ocr] = await Promise.all(['text-direction', 'ocr-recognize', 'ocr'].map(weightFiles));
    expect(direction).to.have.length(1);
    expect(recognize).to.have.length(1);
    expect(direction![0]).to.contain(`${platform.dataDir}/model-cache/`);
    expect(direction![0]).to.not.equal(recognize![0]);
    expect(ocr).to.include.members([direction![0], recognize![0]]);
    expect(ocr).to.have.length(3); // + the detector
  });

  it('refuses cuda on this node at deploy time with a 400 naming what is missing', async () => {
    const res = await fetch(`${gw}/system/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'vad-cuda',
        image: 'vad:latest',
        annotations: { 'fastgshare/device': 'cuda', 'fastgshare/gpu_sm_partition': '50' },
      }),
    });
    expect(res.status).to.equal(400);
    const text = await res.text();
    expect(text).to.contain('fastgshare/device=cuda');
    expect(text).to.match(/missing .*lib(onnxruntime_providers_cuda|cuda|cudart)/);
    const list = (await (await fetch(`${gw}/system/functions`)).json()) as { name: string }[];
    expect(list.map((f) => f.name)).to.not.include('vad-cuda');
  });

  it('refuses a bad annotation value with a 400 naming the annotation', async () => {
    const res = await fetch(`${gw}/system/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'vad-bad',
        image: 'vad:latest',
        annotations: { 'fastgshare/gpu_sm_partition': '150' },
      }),
    });
    expect(res.status).to.equal(400);
    expect(await res.text()).to.contain('fastgshare/gpu_sm_partition');
  });
});
