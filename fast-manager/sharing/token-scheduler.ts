/**
 * The per-device multi-token scheduler (FaST-GShare §1, derived from Gemini/KubeShare), as pure
 * logic over an injected clock. Replicas ask for a token before running work; a token lets the
 * holder run for `quotaMs`. Per sliding window W each replica is guaranteed `quotaRequest·W` and
 * capped at `quotaLimit·W`; replicas below their request go first (largest unmet fraction first),
 * then the rest by least device use (held time × partition); and — the multi-token step — every candidate whose compute
 * partition still fits beside the current holders (Σ partition ≤ 100 %) is granted in the same
 * pass, with the running total kept inside the pass so one pass can never over-commit.
 *
 * Work conservation (beyond the paper): when a replica still owed its guaranteed share does not fit
 * beside the holders, it gets a reservation — the earliest time enough of the holders' tokens end
 * for its partition — and the replicas behind it are granted only tokens that do not delay it:
 * tokens that fit beside it at that time, or tokens cut to end by then (backfilling, as EASY
 * backfilling does for batch jobs) — or, when its most urgent request can wait longer, by shortly
 * before it must start (`backfillUntil`). A blanket "nobody else runs while it waits" left the device
 * idle with work waiting; letting everyone that fits run starved large partitions behind small ones.
 *
 * Contended time (beyond the paper): the order of the waiting replicas — who is still owed its
 * request, and who used the device least — counts only held time while some other replica within
 * its limits waited for a token. Time a replica used the device while nobody else wanted it took
 * nothing from anyone, so it is not paid back when others arrive (as a CPU scheduler places a
 * waking task at the run queue's minimum virtual time instead of charging the runner's solo time).
 * Charging it made a victim that had served alone at 0.47 of the device wait 250 ms behind eight
 * best-effort tokens when a noisy neighbour started (bench:sharing noisy neighbour). Limits count
 * all held time: a limit is a cap, whoever else wants the device.
 *
 * Time is charged by the scheduler's own clock (grant → release), never by what a replica says,
 * so under-reporting cannot exceed a limit; a replica that overran its token is charged all of it.
 * Nothing is pre-empted. `timeSharingOnly` turns off the multi-token step (one holder at a time),
 * which is the KubeShare/Gemini baseline.
 *
 * Beyond FaST-GShare (SLO-aware token length): a token is never longer than `sloTokenFraction` of
 * the tightest latency objective of the *other* replicas on the device, so a replica that cannot run
 * beside the holder (their partitions do not fit together) waits at most that long per token. The
 * adaptive length otherwise grows to quotaRequest·W under continuous load (600 ms for a request of
 * 0.6 at W = 1 s), which no 100 ms objective survives. Replicas without an SLO impose no cap.
 */
import type { Clock } from '../../core/clock.ts';
import type { AcquireHint } from '../../core/contracts/token-channel.ts';
import { PlatformError } from '../../core/errors.ts';

export interface ShareConfig {
  /** Guaranteed fraction of every window, 0..1. */
  quotaRequest: number;
  /** Most of a window it may use when others are idle, quotaRequest..1. */
  quotaLimit: number;
  /** Share of the device's compute it occupies while holding a token, 1..100 (%). */
  partition: number;
  /** Latency objective of its requests, ms (fastgshare/slo_ms): caps the others' tokens. */
  sloMs?: number;
}

export interface TokenSchedulerOptions {
  windowMs: number;
  baseQuotaMs: number;
  minQuotaMs: number;
  /** One holder at a time, whatever the partitions (time sharing only). */
  timeSharingOnly: boolean;
  /** A token lasts at most this fraction of the tightest SLO of the other replicas (0 = no cap). */
  sloTokenFraction: number;
}

export const DEFAULT_TOKEN_OPTIONS: TokenSchedulerOptions = {
  windowMs: 10_000,
  baseQuotaMs: 300,
  minQuotaMs: 20,
  timeSharingOnly: false,
  sloTokenFraction: 0.5,
};

export interface Grant {
  id: string;
  /** Token length: the holder may run this long before it must ask again. */
  quotaMs: number;
  grantedAt: number;
}

interface Client {
  id: string;
  share: ShareConfig;
  /** Adaptive token length (previous quota). */
  quotaMs: number;
  burstKnown: boolean;
  /** The least it will run under its next token, however short (acquire's minRunMs): one batch cut to the token. */
  minRunMs?: number;
  /** When its most urgent request must start to meet its deadline (now + acquire's slackMs), scheduler clock. */
  startBy?: number;
  /** Urgent best-effort replicas went ahead of it in its current wait (letUrgentAhead); cleared as a wait starts. */
  deferred?: boolean;
  waiting: boolean;
  waitingSince: number;
  holding?: Grant;
  /** The least the token held now will last (minRunMs when it was granted): nothing is pre-empted. */
  holdingAtLeastMs?: number;
}

interface UsageRecord {
  id: string;
  start: number;
  end: number;
}

export function validateShare(s: ShareConfig, what = 'share'): ShareConfig {
  const bad = (field: string, msg: string) =>
    new PlatformError('bad_request', `${what}: ${field} ${msg}`, { details: { field } });
  if (!(s.quotaRequest >= 0 && s.quotaRequest <= 1))
    throw bad('quotaRequest', `must be between 0 and 1 (got ${s.quotaRequest})`);
  if (!(s.quotaLimit > 0 && s.quotaLimit <= 1))
    throw bad('quotaLimit', `must be above 0 and at most 1 (got ${s.quotaLimit})`);
  if (s.quotaLimit < s.quotaRequest)
    throw bad('quotaLimit', `(${s.quotaLimit}) must be at least quotaRequest (${s.quotaRequest})`);
  if (!(s.partition >= 1 && s.partition <= 100))
    throw bad('partition', `must be between 1 and 100 (got ${s.partition})`);
  if (s.sloMs !== undefined && !(s.sloMs > 0 && Number.isFinite(s.sloMs)))
    throw bad('sloMs', `must be a positive number of ms (got ${s.sloMs})`);
  return s;
}

export class TokenScheduler {
  private readonly opts: TokenSchedulerOptions;
  private readonly clients = new Map<string, Client>();
  private history: UsageRecord[] = [];
  /** Closed spans of the window in which some replica within its limits waited (sorted, disjoint). */
  private contention: { start: number; end: number }[] = [];
  /** Start of the open contention span, if replicas wait now. */
  private contendedSince: number | undefined;

  constructor(
    private readonly clock: Clock,
    opts: Partial<TokenSchedulerOptions> = {},
  ) {
    this.opts = { ...DEFAULT_TOKEN_OPTIONS, ...opts };
    const o = this.opts;
    if (!(o.windowMs > 0)) throw new PlatformError('bad_request', `windowMs must be positive (got ${o.windowMs})`);
    if (!(o.minQuotaMs > 0 && o.minQuotaMs <= o.windowMs))
      throw new PlatformError('bad_request', `minQuotaMs must be in (0, windowMs] (got ${o.minQuotaMs})`);
    if (!(o.baseQuotaMs >= o.minQuotaMs))
      throw new PlatformError('bad_request', `baseQuotaMs must be at least minQuotaMs (got ${o.baseQuotaMs})`);
    if (!(o.sloTokenFraction >= 0 && o.sloTokenFraction <= 1))
      throw new PlatformError('bad_request', `sloTokenFraction must be in [0, 1] (got ${o.sloTokenFraction})`);
  }

  get options(): Readonly<TokenSchedulerOptions> {
    return this.opts;
  }

  register(id: string, share: ShareConfig): void {
    validateShare(share, `replica ${id}`);
    const existing = this.clients.get(id);
    if (existing) {
      existing.share = { ...share };
      return;
    }
    this.clients.set(id, {
      id,
      share: { ...share },
      quotaMs: this.opts.baseQuotaMs,
      burstKnown: false,
      waiting: false,
      waitingSince: 0,
    });
  }

  /** Removes a replica (it stopped or died); a token it held is released and charged at once. */
  unregister(id: string): void {
    const c = this.clients.get(id);
    if (!c) return;
    if (c.holding) this.charge(c, this.clock.now());
    this.clients.delete(id);
  }

  has(id: string): boolean {
    return this.clients.has(id);
  }

  /**
   * The replica wants to run. `burstMs`, when known, is how long its last burst of work took;
   * it adapts the token length: quota = 0.5·burst + 0.5·previous, clamped to
   * [minQuota, quotaRequest·W]. `minRunMs`, when known, is the least it will run under the token,
   * however short (its batch is cut to the token, but not below one item: nothing is pre-empted), so
   * a token is expected to be held at least that long: reservations count on it, and a backfill token
   * is granted only if that run ends before the reservation.
   */
  request(id: string, hint: AcquireHint = {}): void {
    const { burstMs, minRunMs, slackMs } = hint;
    const c = this.require(id);
    if (c.holding) return; // already holds a token
    c.minRunMs = minRunMs !== undefined && Number.isFinite(minRunMs) && minRunMs > 0 ? minRunMs : undefined;
    c.startBy = slackMs !== undefined && Number.isFinite(slackMs) ? this.clock.now() + Math.max(0, slackMs) : undefined;
    if (burstMs !== undefined && Number.isFinite(burstMs) && burstMs > 0) {
      c.quotaMs = c.burstKnown ? 0.5 * burstMs + 0.5 * c.quotaMs : burstMs;
      c.burstKnown = true;
    }
    if (!c.waiting) {
      c.waiting = true;
      c.waitingSince = this.clock.now();
      c.deferred = false;
    }
  }

  /** Withdraws a pending request (the replica no longer has work). */
  cancel(id: string): void {
    const c = this.clients.get(id);
    if (c) c.waiting = false;
  }

  /** Ends the holder's token; its use is charged as measured by the scheduler's clock. */
  release(id: string): number {
    const c = this.require(id);
    if (!c.holding) return 0;
    return this.charge(c, this.clock.now());
  }

  /** The current holder of `id`'s token, if any. */
  holding(id: string): Grant | undefined {
    return this.clients.get(id)?.holding;
  }

  holders(): Grant[] {
    return [...this.clients.values()].filter((c) => c.holding).map((c) => c.holding!);
  }

  /** Time charged to `id` in the window ending now (including a token it holds now). */
  usage(id: string, now = this.clock.now()): number {
    const from = now - this.opts.windowMs;
    let used = 0;
    for (const r of this.history) if (r.id === id) used += Math.max(0, Math.min(r.end, now) - Math.max(r.start, from));
    const c = this.clients.get(id);
    if (c?.holding) used += Math.max(0, now - Math.max(c.holding.grantedAt, from));
    return used;
  }

  /**
   * Time charged to `id` in the window ending now while some other replica waited for a token:
   * what orders the waiting replicas (see the file comment).
   */
  contendedUsage(id: string, now = this.clock.now()): number {
    const from = now - this.opts.windowMs;
    let used = 0;
    for (const r of this.history)
      if (r.id === id && r.end > from) used += this.contendedWithin(Math.max(r.start, from), Math.min(r.end, now));
    const c = this.clients.get(id);
    if (c?.holding) used += this.contendedWithin(Math.max(c.holding.grantedAt, from), now);
    return used;
  }

  /** Length of [a, b] that falls in contention spans (the open one runs to b). */
  private contendedWithin(a: number, b: number): number {
    if (b <= a) return 0;
    let total = 0;
    const spans = this.contention;
    // first span ending after a (spans are sorted and disjoint)
    let lo = 0,
      hi = spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (spans[mid]!.end <= a) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < spans.length && spans[i]!.start < b; i++)
      total += Math.min(b, spans[i]!.end) - Math.max(a, spans[i]!.start);
    if (this.contendedSince !== undefined && this.contendedSince < b) total += b - Math.max(a, this.contendedSince);
    return Math.max(0, total);
  }

  /**
   * Opens or closes the contention span after a pass: open while a waiting replica within its limits was not granted.
   */
  private markContention(contended: boolean, now: number): void {
    if (contended && this.contendedSince === undefined) this.contendedSince = now;
    else if (!contended && this.contendedSince !== undefined) {
      if (now > this.contendedSince) this.contention.push({ start: this.contendedSince, end: now });
      this.contendedSince = undefined;
    }
  }

  /**
   * One scheduling pass: grants tokens to every waiting replica that may run now. Returns the
   * new grants and, when some replica still waits, the time at which a pass could grant more
   * (window slide; a holder's token expiring is the caller's event), and how many waiting replicas
   * within their limits the tokens out kept waiting (`blocked`: a holder that does not use its token
   * should give it back).
   */
  schedule(): { grants: Grant[]; nextWakeAt?: number; blocked: number } {
    const now = this.clock.now();
    this.prune(now);
    const W = this.opts.windowMs;
    const waiting = [...this.clients.values()].filter((c) => c.waiting && !c.holding);
    type Cand = { c: Client; usage: number; missing: number; remaining: number };
    const cands: Cand[] = [];
    let wake: number | undefined;
    for (const c of waiting) {
      // a limit of the whole window limits nothing (held time cannot exceed wall time): cutting
      // tokens to what is left of it only chopped a busy replica's tokens into slivers
      const remaining = c.share.quotaLimit >= 1 ? Infinity : c.share.quotaLimit * W - this.usage(c.id, now);
      // a token shorter than minQuota is not worth granting: wait until one fits under the limit
      const smallest = Math.min(this.opts.minQuotaMs, c.share.quotaLimit * W);
      const usage = this.contendedUsage(c.id, now);
      if (remaining >= smallest - 1e-9) cands.push({ c, usage, missing: c.share.quotaRequest * W - usage, remaining });
      else {
        const at = this.whenUsageBelow(c.id, c.share.quotaLimit * W - smallest, now);
        wake = wake === undefined ? at : Math.min(wake, at);
      }
    }
    cands.sort((a, b) => {
      const am = a.missing > 1e-9,
        bm = b.missing > 1e-9;
      if (am !== bm) return am ? -1 : 1;
      // within each group, a replica whose most urgent request must start within one base token goes
      // before those whose requests can wait
      const au = this.urgent(a.c, now),
        bu = this.urgent(b.c, now);
      if (au !== bu) return au ? -1 : 1;
      if (am) {
        // owed their share (a victim owed half the device waited two 50 ms tokens of best-effort
        // neighbours that ranked ahead by unmet fraction, and missed its 100 ms SLO): urgency cannot
        // take a replica past its own request, since it is owed only until then. Otherwise, and
        // between two urgent ones, the largest unmet fraction goes first.
        const d = b.missing / (b.missing + b.usage) - a.missing / (a.missing + a.usage);
        if (Math.abs(d) > 1e-12) return d;
      } else {
        // past their requests: urgent ones earliest deadline first (a 12 % ResNet-50 waited 78 ms
        // behind two others that had used less, and its request missed the 100 ms SLO by a 16 ms
        // batch); then least device used first (held time × partition), so a small partition that
        // used the device for long but lightly is not put behind a large one. A replica that
        // overstates its urgency gains over best-effort use only (and over owed replicas as
        // letUrgentAhead bounds it), within its limit.
        if (au && Math.abs(a.c.startBy! - b.c.startBy!) > 1e-9) return a.c.startBy! - b.c.startBy!;
        const d = a.usage * this.partitionOf(a.c) - b.usage * this.partitionOf(b.c);
        if (Math.abs(d) > 1e-9) return d;
      }
      return a.c.waitingSince - b.c.waitingSince || (a.c.id < b.c.id ? -1 : 1);
    });
    this.letUrgentAhead(cands, now);

    const grants: Grant[] = [];
    const holders = [...this.clients.values()].filter((c) => c.holding);
    /** Tokens out now (holders and this pass's grants): partition and expected end. */
    const out = holders.map((c) => ({ p: this.partitionOf(c), end: this.expectedEnd(c, now) }));
    let occupied = out.reduce((s, t) => s + t.p, 0);
    let reservation: { at: number; p: number; urgentAt?: number } | undefined;
    let blocked = 0;
    for (const cand of cands) {
      const p = this.partitionOf(cand.c);
      const fits = this.opts.timeSharingOnly ? out.length === 0 : occupied + p <= 100 + 1e-9;
      if (!fits) {
        // the first replica still owed its guaranteed share that does not fit gets a reservation;
        // best-effort replicas never hold others back
        if (cand.missing > 1e-9 && !reservation)
          reservation = { at: this.freeAt(out, p, now), p, urgentAt: this.urgentAt(cand.c) };
        blocked++;
        continue;
      }
      const upper = Math.max(this.opts.minQuotaMs, cand.c.share.quotaRequest * W);
      let quota = Math.min(Math.max(cand.c.quotaMs, this.opts.minQuotaMs), upper);
      quota = Math.min(quota, Math.max(this.opts.minQuotaMs, this.sloCap(cand.c)));
      quota = Math.min(quota, cand.remaining);
      const minRun = cand.c.minRunMs ?? 0;
      if (reservation && !this.fitsBeside(out, p, reservation)) {
        // backfill: only a token that ends before the reserved replica starts — and since a batch is
        // never cut below one item, only if that much ends by then too (5 ms backfill tokens given to
        // 84 ms RNN-T batches kept a BERT replica owed its share waiting 490 ms)
        const room = this.backfillUntil(reservation) - now;
        quota = Math.min(quota, room);
        if (minRun > room + 1e-9 || quota < Math.min(this.opts.minQuotaMs, cand.c.minRunMs ?? Infinity) - 1e-9) {
          blocked++;
          continue;
        }
      }
      const grant: Grant = { id: cand.c.id, quotaMs: quota, grantedAt: now };
      cand.c.holding = grant;
      cand.c.holdingAtLeastMs = minRun;
      cand.c.waiting = false;
      cand.c.quotaMs = Math.max(this.opts.minQuotaMs, Math.min(cand.c.quotaMs, upper));
      occupied += p; // running total inside the pass
      out.push({ p, end: now + Math.max(quota, minRun) });
      grants.push(grant);
    }
    this.markContention(blocked > 0, now);
    return { grants, nextWakeAt: wake, blocked };
  }

  /**
   * How long tokens granted behind a reservation may last: until the reserved replica could start (`at`), or, when its
   * most urgent request can wait longer (acquire's slackMs), until it turns urgent (one base token before it must
   * start) — the device then runs what fits instead of idling for a start the reserved replica's deadlines do not
   * need. Published mix: 35 % of device time went idle with work waiting that would have fitted, mostly held for BERT
   * replicas (SLO 500 ms) owed their share whose requests had hundreds of ms of slack.
   */
  private backfillUntil(r: { at: number; urgentAt?: number }): number {
    return r.urgentAt === undefined ? r.at : Math.max(r.at, r.urgentAt);
  }

  /**
   * When a token out is expected to end: at the end of its quota or of the least run it was granted for, whichever is
   * later (nothing is pre-empted), or, once the holder has run past that, soon — one minimum token from now,
   * re-estimated at every pass. Taking an overrun
   * token as ended put a reservation at "now" that its replica could not use (the overrunning batch still held the
   * room), and held back every replica that fitted now but not beside it: on the published mix a 12 % replica waited
   * 80 ms beside a device 74 % full while an RNN-T batch ran 35 ms past its token.
   */
  private expectedEnd(c: Client, now: number): number {
    const g = c.holding!;
    const end = g.grantedAt + Math.max(g.quotaMs, c.holdingAtLeastMs ?? 0);
    return end > now ? end : now + this.opts.minQuotaMs;
  }

  /**
   * Deadline-aware step (beyond the paper): urgent best-effort replicas (see `urgent`) move ahead of the replicas still
   * owed their share whose own requests can wait — they declared a deadline further off than one base token plus the
   * urgent replica's least run — and each owed replica is passed over so at most once per wait (`deferred`, cleared
   * when its next wait starts), so its latency objective holds and its share is delayed by one round of urgent
   * batches at most, whatever the others claim. Published mix: two 50 % BERT replicas owed their share (SLO 500 ms,
   * ~450 ms of slack) were granted back to back ahead of four ResNet-50 replicas with 100 ms SLOs, which then waited
   * 50–60 ms and missed.
   */
  private letUrgentAhead(cands: { c: Client; missing: number }[], now: number): void {
    const firstBestEffort = cands.findIndex((x) => !(x.missing > 1e-9));
    if (firstBestEffort <= 0) return;
    const owed = cands.slice(0, firstBestEffort);
    const urgent = cands.slice(firstBestEffort).filter((x) => this.urgent(x.c, now));
    if (urgent.length === 0) return;
    const longest = Math.max(...urgent.map((x) => x.c.minRunMs ?? this.opts.minQuotaMs));
    const canWait = (c: Client) =>
      !c.deferred && c.startBy !== undefined && c.startBy - now > this.opts.baseQuotaMs + longest;
    if (!owed.every((x) => canWait(x.c))) return;
    for (const x of owed) x.c.deferred = true;
    const rest = cands.slice(firstBestEffort).filter((x) => !urgent.includes(x));
    cands.splice(0, cands.length, ...urgent, ...owed, ...rest);
  }

  /** Whether `c`'s most urgent request must start within one base token (acquire's slackMs) to meet its deadline. */
  private urgent(c: Client, now: number): boolean {
    const at = this.urgentAt(c);
    return at !== undefined && at <= now;
  }

  /** When `c` turns urgent: one base token before its most urgent request must start (undefined without slackMs). */
  private urgentAt(c: Client): number | undefined {
    return c.startBy === undefined ? undefined : c.startBy - this.opts.baseQuotaMs;
  }

  /** Earliest time at which `p` more fits beside the tokens out, as their expected ends pass. */
  private freeAt(out: readonly { p: number; end: number }[], p: number, now: number): number {
    if (this.opts.timeSharingOnly) return Math.max(now, ...out.map((t) => t.end));
    let occupied = out.reduce((s, t) => s + t.p, 0);
    for (const t of [...out].sort((a, b) => a.end - b.end)) {
      occupied -= t.p;
      if (occupied + p <= 100 + 1e-9) return Math.max(now, t.end);
    }
    return now;
  }

  /** Whether a token of partition `p` leaves room for the reservation once it starts. */
  private fitsBeside(out: readonly { p: number; end: number }[], p: number, r: { at: number; p: number }): boolean {
    if (this.opts.timeSharingOnly) return false;
    const then = out.reduce((s, t) => s + (t.end > r.at + 1e-9 ? t.p : 0), 0);
    return then + p + r.p <= 100 + 1e-9;
  }

  /** The longest token `c` may get so that no other replica waits past its share of its SLO. */
  private sloCap(c: Client): number {
    if (this.opts.sloTokenFraction <= 0) return Infinity;
    let cap = Infinity;
    for (const o of this.clients.values()) {
      if (o !== c && o.share.sloMs !== undefined) cap = Math.min(cap, o.share.sloMs * this.opts.sloTokenFraction);
    }
    return cap;
  }

  private partitionOf(c: Client): number {
    return this.opts.timeSharingOnly ? 100 : c.share.partition;
  }

  private charge(c: Client, now: number): number {
    const g = c.holding!;
    const used = Math.max(0, now - g.grantedAt);
    if (used > 0) this.history.push({ id: c.id, start: g.grantedAt, end: now });
    c.holding = undefined;
    return used;
  }

  /** Earliest time at which `id`'s windowed usage falls below `target` as the window slides. */
  private whenUsageBelow(id: string, target: number, now: number): number {
    const W = this.opts.windowMs;
    const from = now - W;
    let excess = this.usage(id, now) - target;
    const recs = this.history
      .filter((r) => r.id === id && r.end > from)
      .map((r) => ({ start: Math.max(r.start, from), end: r.end }))
      .sort((a, b) => a.start - b.start);
    for (const r of recs) {
      const len = r.end - r.start;
      if (len > excess) return r.start + excess + W + 1e-6;
      excess -= len;
    }
    return now + this.opts.minQuotaMs;
  }

  private prune(now: number): void {
    const from = now - this.opts.windowMs;
    if (this.history.length && this.history[0]!.end < from) this.history = this.history.filter((r) => r.end >= from);
    if (this.contention.length && this.contention[0]!.end < from)
      this.contention = this.contention.filter((r) => r.end >= from);
  }

  private require(id: string): Client {
    const c = this.clients.get(id);
    if (!c) throw new PlatformError('not_found', `replica ${id} is not registered with this device's token scheduler`);
    return c;
  }
}
