/**
 * A device timeline as one self-contained HTML page (inline CSS and SVG, no scripts): one lane per
 * replica with its token waits (thin grey), tokens (light bars) and batches (solid bars), batches
 * the device could not attribute in lanes of their own (per device connection), Σ partition of
 * the running batches over time against the 100 % line, and the waste accounting as tables.
 * Colours and escaping are the cost report's (core/html/svg-chart.ts, core/html/escape.ts).
 */
import type { DeviceTimeline } from '../../core/contracts/node-agent.ts';
import { escapeXml } from '../../core/html/escape.ts';
import { PALETTE } from '../../core/html/svg-chart.ts';
import { DeviceState } from './device-state.ts';
import { wasteOf, wasteShares, type DeviceWaste } from './waste.ts';

interface Lane {
  key: string;
  label: string;
  partition: number;
  waits: [number, number][];
  tokens: [number, number][];
  batches: [number, number][];
}

/** Per lane, the spans of waits, tokens and batches, and Σ running partition as steps. */
export function timelineLanes(tl: DeviceTimeline): { lanes: Lane[]; steps: [number, number][] } {
  const { from, to } = tl.window;
  const lanes = new Map<string, Lane>();
  const info = new Map(tl.replicas.map((r) => [r.id, r]));
  const lane = (key: string, partition: number, label?: string): Lane => {
    let l = lanes.get(key);
    if (!l) {
      const r = info.get(key);
      lanes.set(
        key,
        (l = {
          key,
          label: label ?? `${r?.function ? `${r.function} ` : ''}${key}`,
          partition: r?.partition ?? partition,
          waits: [],
          tokens: [],
          batches: [],
        }),
      );
    }
    return l;
  };
  for (const r of tl.replicas) lane(r.id, r.partition);
  const batchLane = (replica: string | undefined, source: number | undefined, partition: number) =>
    replica !== undefined
      ? lane(replica, partition)
      : lane(`conn-${source ?? '?'}`, partition, `device connection #${source ?? '?'} (no token: replica unknown)`);

  const s = new DeviceState();
  const waitAt = new Map<string, number>(),
    holdAt = new Map<string, number>();
  const runAt = new Map<number, { at: number; lane: Lane }>();
  for (const w of tl.open.waiting) (waitAt.set(w.replica, from), s.waiting.set(w.replica, w));
  for (const h of tl.open.holding) (holdAt.set(h.replica, from), s.holding.set(h.replica, h));
  for (const b of tl.open.running)
    (runAt.set(b.batch, { at: from, lane: batchLane(b.replica, undefined, b.partition) }), s.running.set(b.batch, b));
  const steps: [number, number][] = [[from, s.runningPartition(tl.batches)]];
  const end = (
    m: Map<string, number>,
    id: string,
    t: number,
    into: (l: Lane) => [number, number][],
    partition: number,
  ) => {
    const at = m.get(id);
    if (at === undefined) return;
    m.delete(id);
    into(lane(id, partition)).push([at, t]);
  };
  for (const ev of tl.events) {
    const r = ev.replica;
    if (ev.kind === 'acquire' && r) {
      end(holdAt, r, ev.t, (l) => l.tokens, ev.partition);
      if (!waitAt.has(r)) waitAt.set(r, ev.t);
    } else if (ev.kind === 'grant' && r) {
      end(waitAt, r, ev.t, (l) => l.waits, ev.partition);
      holdAt.set(r, ev.t);
    } else if (ev.kind === 'release' && r) {
      end(holdAt, r, ev.t, (l) => l.tokens, ev.partition);
    } else if (ev.kind === 'leave' && r) {
      end(waitAt, r, ev.t, (l) => l.waits, ev.partition);
      end(holdAt, r, ev.t, (l) => l.tokens, ev.partition);
    } else if (ev.kind === 'batch-start' && ev.batch !== undefined) {
      runAt.set(ev.batch, { at: ev.t, lane: batchLane(r, ev.source, ev.partition) });
    } else if (ev.kind === 'batch-end' && ev.batch !== undefined) {
      const b = runAt.get(ev.batch);
      if (b) b.lane.batches.push([b.at, ev.t]);
      runAt.delete(ev.batch);
    }
    s.apply(ev);
    const sum = s.runningPartition(tl.batches);
    if (steps[steps.length - 1]![1] !== sum) steps.push([ev.t, sum]);
  }
  for (const [id, at] of waitAt) lane(id, 0).waits.push([at, to]);
  for (const [id, at] of holdAt) lane(id, 0).tokens.push([at, to]);
  for (const b of runAt.values()) b.lane.batches.push([b.at, to]);
  return { lanes: [...lanes.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)), steps };
}

const ms = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

function svg(tl: DeviceTimeline, lanes: Lane[], steps: [number, number][]): string {
  const { from, to } = tl.window;
  const span = Math.max(1e-9, to - from);
  const left = 260,
    width = 1200,
    plotW = width - left - 20,
    laneH = 22,
    top = 30;
  const sumH = 120;
  const lanesH = lanes.length * laneH;
  const height = top + lanesH + 40 + sumH + 40;
  const x = (t: number) => left + ((Math.min(to, Math.max(from, t)) - from) / span) * plotW;
  const rect = (a: number, b: number, y: number, h: number, fill: string, opacity: number, title: string) => {
    const w = Math.max(0.5, x(b) - x(a));
    return `<rect x="${x(a).toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h}" fill="${fill}" fill-opacity="${opacity}"><title>${escapeXml(title)}</title></rect>`;
  };
  const p: string[] = [];
  p.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img" aria-label="device timeline">`,
  );
  p.push(
    `<text x="${left}" y="16" font-size="13" font-weight="bold">Lanes: token wait (grey line), token held (light), batch running (solid)</text>`,
  );
  lanes.forEach((l, i) => {
    const y = top + i * laneH;
    const colour = PALETTE[i % PALETTE.length]!;
    p.push(`<g class="lane" data-lane="${escapeXml(l.key)}">`);
    p.push(
      `<text x="${left - 6}" y="${y + laneH / 2 + 4}" text-anchor="end">${escapeXml(l.label.length > 40 ? `…${l.label.slice(-39)}` : l.label)} · ${l.partition} %</text>`,
    );
    p.push(`<line x1="${left}" x2="${left + plotW}" y1="${y + laneH - 1}" y2="${y + laneH - 1}" stroke="#eee"/>`);
    for (const [a, b] of l.waits)
      p.push(rect(a, b, y + 1, 3, '#888', 1, `${l.label} waits for a token ${ms(b - a)} ms`));
    for (const [a, b] of l.tokens)
      p.push(
        rect(a, b, y + 5, laneH - 8, colour, 0.3, `${l.label} holds a token ${ms(b - a)} ms (at +${ms(a - from)} ms)`),
      );
    for (const [a, b] of l.batches)
      p.push(rect(a, b, y + 9, laneH - 16, colour, 1, `${l.label} batch ${ms(b - a)} ms (at +${ms(a - from)} ms)`));
    p.push('</g>');
  });
  // Σ partition of what runs
  const y0 = top + lanesH + 40;
  const maxSum = Math.max(100, ...steps.map((s) => s[1]));
  const y = (v: number) => y0 + sumH - (v / maxSum) * sumH;
  p.push(
    `<text x="${left}" y="${y0 - 10}" font-size="13" font-weight="bold">Σ partition of running ${tl.batches ? 'batches' : 'token holders'} (%)</text>`,
  );
  p.push(
    `<line x1="${left}" x2="${left + plotW}" y1="${y(100).toFixed(1)}" y2="${y(100).toFixed(1)}" stroke="#e15759" stroke-dasharray="4 3"/><text x="${left - 6}" y="${(y(100) + 4).toFixed(1)}" text-anchor="end">100</text>`,
  );
  p.push(`<text x="${left - 6}" y="${(y(0) + 4).toFixed(1)}" text-anchor="end">0</text>`);
  const pts: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    const [t, v] = steps[i]!;
    const next = i + 1 < steps.length ? steps[i + 1]![0] : to;
    pts.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`, `${x(next).toFixed(1)},${y(v).toFixed(1)}`);
  }
  p.push(`<polyline class="sum" fill="none" stroke="#4e79a7" stroke-width="1.2" points="${pts.join(' ')}"/>`);
  p.push(`<line x1="${left}" x2="${left + plotW}" y1="${y0 + sumH}" y2="${y0 + sumH}" stroke="#333"/>`);
  for (let i = 0; i <= 4; i++) {
    const t = from + (span * i) / 4;
    p.push(
      `<text x="${x(t).toFixed(1)}" y="${y0 + sumH + 16}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">+${ms(t - from)} ms</text>`,
    );
  }
  p.push('</svg>');
  return p.join('');
}

function wasteTables(w: DeviceWaste): string {
  const sh = wasteShares(w);
  const rows: [string, string, string][] = [
    ['window', `${ms(w.windowMs)} ms`, ''],
    ['busy (anything running)', `${ms(w.busyMs)} ms`, pct(sh.busy)],
    ['utilisation (mean Σ running partition, capped at 100)', '', pct(sh.utilisation)],
    [
      'idle with work waiting (a waiting replica would fit)',
      `${ms(w.idleWithWorkWaitingMs)} ms`,
      pct(sh.idleWithWorkWaiting),
    ],
    ['grant hand-over (release → next grant while someone waits)', `${ms(w.handoverMs)} ms`, pct(sh.handover)],
    ['tokens held', `${ms(w.heldMs)} replica-ms`, ''],
    [
      'tokens held with no batch running',
      w.heldIdleMs === undefined ? 'n/a (device reports no batches)' : `${ms(w.heldIdleMs)} replica-ms`,
      sh.heldIdleOfHeld === undefined ? '' : `${pct(sh.heldIdleOfHeld)} of held`,
    ],
    [
      'token waits (acquire → grant)',
      `${ms(w.waitMs)} replica-ms over ${w.grants} grants`,
      w.grants ? `mean ${ms(w.waitMs / w.grants)} ms` : '',
    ],
    ['batches whose replica is unknown', String(w.unattributedBatches), ''],
  ];
  const main = `<table class="waste"><tr><th class="l">waste accounting</th><th>time</th><th>share</th></tr>${rows.map((r) => `<tr><td class="l">${escapeXml(r[0])}</td><td>${escapeXml(r[1])}</td><td>${escapeXml(r[2])}</td></tr>`).join('')}</table>`;
  const per = `<table class="replicas"><tr><th class="l">replica</th><th>partition</th><th>grants</th><th>wait ms</th><th>held ms</th><th>held, no batch ms</th><th>batch ms</th><th>batches</th></tr>${w.replicas
    .map(
      (r) =>
        `<tr><td class="l">${escapeXml(r.replica)}</td><td>${r.partition}</td><td>${r.grants}</td><td>${ms(r.waitMs)}</td><td>${ms(r.heldMs)}</td><td>${r.heldIdleMs === undefined ? '–' : ms(r.heldIdleMs)}</td><td>${r.batchMs === undefined ? '–' : ms(r.batchMs)}</td><td>${r.batches ?? '–'}</td></tr>`,
    )
    .join('')}</table>`;
  return main + per;
}

export function timelinePage(tl: DeviceTimeline, o: { node?: string } = {}): string {
  const { lanes, steps } = timelineLanes(tl);
  const w = wasteOf(tl);
  const title = `Device ${tl.device}${o.node ? ` on ${o.node}` : ''}: timeline of ${ms(tl.window.to - tl.window.from)} ms`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}.l{text-align:left}small{color:#666}</style></head>
<body><h1>${escapeXml(title)}</h1>
<p><small>${tl.events.length} events, ${lanes.length} lanes; ring buffer of ${tl.capacity} events per device, ${tl.dropped} dropped since the agent started. Times are the agent's clock, relative to the window's start.</small></p>
${wasteTables(w)}
${svg(tl, lanes, steps)}
</body></html>
`;
}
