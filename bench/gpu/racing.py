"""Racing on a real GPU: what several processes that share one device without partitioning get.

The emulated device (fast-manager/devices/emulated-contention.ts) assumes processor sharing
between racing batches and no interference; bench:sharing compares our token-gated sharing with
that racing. This script measures the real thing on a CUDA device, with PyTorch (the GPU machine
has no Node): N processes (1, 2, 4) each run batches of one model back to back for a fixed time,
started together behind a barrier; per process items/s and batch latency. Efficiency = total
items/s of N racing processes ÷ items/s of one process alone (1.0: racing loses nothing; above
1.0: processes fill each other's idle gaps; below: interference). No MPS and no settings changed:
processes of different contexts are time-sliced by the driver, as racing replicas would be.

Models are built from torch.nn only (no downloads): a ResNet-50-shaped convolutional network
(bottleneck blocks 3-4-6-3, 224x224) and a BERT-base-shaped encoder (12 layers, d=768, seq 128),
fp16, inference mode, random weights (speed does not depend on the weights).

Usage: python3 bench/gpu/racing.py [--seconds 5] [--out DIR]; prints a markdown table and a final
`RESULT {json}` line, and writes DIR/gpu-racing.md and DIR/gpu-racing.json.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.multiprocessing as mp
import torch.nn as nn


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, stride):
        super().__init__()
        cout = mid * 4
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.body(x) + self.skip(x))


def resnet50_shaped():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for mid, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            layers.append(Bottleneck(cin, mid, stride if i == 0 else 1))
            cin = mid * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000)]
    return nn.Sequential(*layers)


def bert_shaped():
    layer = nn.TransformerEncoderLayer(d_model=768, nhead=12, dim_feedforward=3072, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=12, enable_nested_tensor=False)


MODELS = {
    'resnet50': (resnet50_shaped, lambda b: torch.randn(b, 3, 224, 224)),
    'bert': (bert_shaped, lambda b: torch.randn(b, 128, 768)),
}


def worker(model_name, batch, seconds, barrier, queue):
    torch.backends.cudnn.benchmark = True
    make, sample = MODELS[model_name]
    model = make().cuda().half().eval()
    x = sample(batch).cuda().half()
    with torch.inference_mode():
        for _ in range(5):
            model(x)
        torch.cuda.synchronize()
        barrier.wait()
        lat = []
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            model(x)
            torch.cuda.synchronize()
            lat.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    queue.put({'batches': len(lat), 'items_per_s': len(lat) * batch / elapsed, 'p50_ms': 1000 * statistics.median(lat)})


def run(model_name, batch, procs, seconds):
    ctx = mp.get_context('spawn')
    barrier = ctx.Barrier(procs)
    queue = ctx.Queue()
    ps = [ctx.Process(target=worker, args=(model_name, batch, seconds, barrier, queue)) for _ in range(procs)]
    for p in ps:
        p.start()
    results = [queue.get(timeout=seconds + 180) for _ in ps]
    for p in ps:
        p.join()
    return {'items_per_s': sum(r['items_per_s'] for r in results), 'p50_ms': statistics.median(r['p50_ms'] for r in results)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=float, default=5)
    ap.add_argument('--out', default=os.environ.get('OUT', 'bench/results'))
    args = ap.parse_args()
    device = torch.cuda.get_device_name(0)
    rows = []
    for model_name, batches in [('resnet50', [1, 8, 32]), ('bert', [1, 8, 32])]:
        for batch in batches:
            alone = run(model_name, batch, 1, args.seconds)
            row = {'model': model_name, 'batch': batch, 'alone_items_per_s': alone['items_per_s'], 'alone_p50_ms': alone['p50_ms']}
            for n in (2, 4):
                r = run(model_name, batch, n, args.seconds)
                row[f'racing{n}_items_per_s'] = r['items_per_s']
                row[f'racing{n}_p50_ms'] = r['p50_ms']
                row[f'efficiency{n}'] = r['items_per_s'] / alone['items_per_s']
            rows.append(row)
            print(json.dumps(row), flush=True)
    head = '| model | batch | alone items/s | p50 ms | 2 racing items/s (eff.) | p50 ms | 4 racing items/s (eff.) | p50 ms |\n|---|---|---|---|---|---|---|---|\n'
    body = ''.join(
        f"| {r['model']} | {r['batch']} | {r['alone_items_per_s']:.0f} | {r['alone_p50_ms']:.2f} | {r['racing2_items_per_s']:.0f} ({r['efficiency2']:.2f}) | {r['racing2_p50_ms']:.2f} | {r['racing4_items_per_s']:.0f} ({r['efficiency4']:.2f}) | {r['racing4_p50_ms']:.2f} |\n"
        for r in rows)
    text = f"# Racing processes on one GPU ({device}, torch {torch.__version__}, {args.seconds:g} s per point, fp16)\n\n" + head + body
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'gpu-racing.md'), 'w') as f:
        f.write(text)
    with open(os.path.join(args.out, 'gpu-racing.json'), 'w') as f:
        json.dump({'device': device, 'rows': rows}, f, indent=1)
    print('RESULT ' + json.dumps({'device': device, 'efficiency': {f"{r['model']}@{r['batch']}": [round(r['efficiency2'], 3), round(r['efficiency4'], 3)] for r in rows}}))


if __name__ == '__main__':
    main()
