/**
 * The visit coordinator: admits CCD coroutines under a memory budget, tracks gather rounds,
 * runs each reducer once when every live CCD has posted, resumes or replays the waiting CCDs.
 * Engine-agnostic: it talks to Hosts (inline or worker threads) and to the RecordStore.
 */
import { keys, readRecord, writeRecord, type CcdStatus, type Named, type RunCounters } from './durable.js';
import type { Host, HostEvents } from './host.js';
import { StoreError, type RecordStore } from './store.js';
import type { DetectorId, Failed, PipelineDef, VisitInfo } from './sensor.js';

export type CcdState = 'pending' | 'running' | 'waiting' | 'dropped' | 'done' | 'failed';

export interface CoordinatorOptions {
  /** Memory budget in bytes for live coroutines (Infinity: never drop). */
  memoryBytes: number;
  /** Retry CCDs recorded as failed by an earlier run (default true). */
  retryFailed?: boolean;
  onEvent?: (e: CoordinatorEvent) => void;
}

export type CoordinatorEvent =
  | { kind: 'start'; det: DetectorId; replay: boolean }
  | { kind: 'posted'; det: DetectorId; g: number; name: string }
  | { kind: 'drop'; det: DetectorId; g: number }
  | { kind: 'reduce'; g: number; name: string; ms: number }
  | { kind: 'done'; det: DetectorId; counters: RunCounters }
  | { kind: 'failed'; det: DetectorId; message: string };

export interface VisitOutcome {
  done: DetectorId[];
  failed: { det: DetectorId; message: string }[];
  /** totals over the run: how much work was computed vs replayed, how many drops happened */
  stepsComputed: number;
  stepsReplayed: number;
  drops: number;
  starts: number;
}

interface Round {
  name: string;
  posted: Set<DetectorId>;
  resolved: boolean;
}

export class Coordinator implements HostEvents {
  private readonly state = new Map<DetectorId, CcdState>();
  private readonly waitingAt = new Map<DetectorId, number>();
  private readonly hostOf = new Map<DetectorId, Host>();
  private readonly rounds = new Map<number, Round>();
  private readonly queue: DetectorId[] = [];
  /** RSS when the run started: the correction factor compares growth beyond it with the model */
  private readonly baseRss = process.memoryUsage.rss();
  private finish!: (o: VisitOutcome) => void;
  private fail!: (e: unknown) => void;
  private readonly outcome: VisitOutcome = { done: [], failed: [], stepsComputed: 0, stepsReplayed: 0, drops: 0, starts: 0 };
  private settled = false;

  constructor(
    private readonly pipeline: PipelineDef<any, any>,
    private readonly store: RecordStore,
    private readonly visit: VisitInfo,
    private readonly config: unknown,
    makeHosts: (events: HostEvents) => Host[],
    private readonly opts: CoordinatorOptions,
  ) {
    this.hosts = makeHosts(this);
  }

  private readonly hosts: Host[];

  /** Stop the hosts (worker threads); call once run() has settled. */
  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.close()));
  }

  private estimate(det: DetectorId): number {
    return this.pipeline.estimateBytes?.(det, this.config) ?? 0;
  }

  /** Modelled bytes held by one CCD: its working set while running, less while suspended at a gather. */
  private held(det: DetectorId): number {
    const s = this.state.get(det);
    if (s === 'running') return this.estimate(det);
    if (s === 'waiting') return this.pipeline.suspendedBytes?.(det, this.config) ?? this.estimate(det);
    return 0;
  }

  private heldTotal(): number {
    let t = 0;
    for (const det of this.state.keys()) t += this.held(det);
    return t;
  }

  /**
   * Correction by measurement: when the process has grown more than the model says (RSS beyond the start),
   * scale the model up. Only ever makes the executor more careful; outputs do not depend on it.
   */
  private correction(model: number): number {
    if (!Number.isFinite(this.opts.memoryBytes) || model <= 0) return 1;
    return Math.max(1, (process.memoryUsage.rss() - this.baseRss) / model);
  }

  run(): Promise<VisitOutcome> {
    return new Promise<VisitOutcome>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
      const dets = [...this.visit.detectors].sort((a, b) => a - b);
      for (const det of dets) {
        const st = readRecord<CcdStatus>(this.store, keys.status(det));
        if (st?.state === 'done') this.setDone(det);
        else if (st?.state === 'failed' && this.opts.retryFailed === false) this.setFailed(det, st.message);
        else {
          this.state.set(det, 'pending');
          this.queue.push(det);
        }
      }
      this.pump();
    });
  }

  private setDone(det: DetectorId): void {
    this.state.set(det, 'done');
    this.outcome.done.push(det);
  }

  private setFailed(det: DetectorId, message: string): void {
    this.state.set(det, 'failed');
    this.outcome.failed.push({ det, message });
  }

  private live(): number {
    let n = 0;
    for (const s of this.state.values()) if (s === 'running' || s === 'waiting') n++;
    return n;
  }

  /** Admit queued CCDs while they fit in the budget (one always runs). */
  private pump(): void {
    if (this.settled) return;
    try {
      while (this.queue.length) {
        const det = this.queue[0];
        const est = this.estimate(det);
        const model = this.heldTotal();
        if (this.live() > 0 && (model + est) * this.correction(model) > this.opts.memoryBytes) {
          // Make room: drop coroutines suspended at unresolved gathers.
          if (!this.dropOneWaiting()) break;
          continue;
        }
        // CPU: one running coroutine per host (a worker thread, or this thread); suspended ones don't count
        const host = this.freeHost();
        if (!host) break;
        this.queue.shift();
        this.hostOf.set(det, host);
        this.state.set(det, 'running');
        this.outcome.starts++;
        const replay = this.store.list(keys.ccd(det)).length > 0;
        this.opts.onEvent?.({ kind: 'start', det, replay });
        host.start(det);
      }
      this.checkFinished();
    } catch (e) {
      this.abort(e);
    }
  }

  /** A host running no coroutine at the moment (the lowest-index one: deterministic), if any. */
  private freeHost(): Host | undefined {
    const busy = new Set<Host>();
    for (const [det, s] of this.state) if (s === 'running') busy.add(this.hostOf.get(det)!);
    return this.hosts.find((h) => !busy.has(h));
  }

  private release(det: DetectorId): void {
    this.hostOf.delete(det);
  }

  private dropOneWaiting(): boolean {
    // Drop the highest-numbered waiting CCD: deterministic, and low numbers resume first.
    const waiting = [...this.state.entries()].filter(([, s]) => s === 'waiting').map(([d]) => d).sort((a, b) => b - a);
    if (!waiting.length) return false;
    const det = waiting[0];
    const g = this.waitingAt.get(det)!;
    this.hostOf.get(det)!.drop(det);
    this.release(det);
    this.state.set(det, 'dropped');
    this.outcome.drops++;
    this.opts.onEvent?.({ kind: 'drop', det, g });
    return true;
  }

  posted(det: DetectorId, g: number, name: string): void {
    if (this.settled) return;
    try {
      let round = this.rounds.get(g);
      if (!round) this.rounds.set(g, (round = { name, posted: new Set(), resolved: false }));
      if (round.name !== name) {
        throw new Error(`gather #${g}: detector ${det} posted '${name}' but others posted '${round.name}' (every CCD must reach the same gathers in the same order)`);
      }
      round.posted.add(det);
      this.state.set(det, 'waiting');
      this.waitingAt.set(det, g);
      this.opts.onEvent?.({ kind: 'posted', det, g, name });
      // A round resolved before (by an earlier run, or before this replay): the result is in the store.
      if (round.resolved || readRecord<Named<unknown>>(this.store, keys.result(g))) {
        round.resolved = true;
        this.resume(det, g);
      } else this.tryReduce(g);
      this.pump();
    } catch (e) {
      this.abort(e);
    }
  }

  done(det: DetectorId, counters: RunCounters): void {
    if (this.settled) return;
    this.release(det);
    this.setDone(det);
    this.count(counters);
    this.opts.onEvent?.({ kind: 'done', det, counters });
    this.pump();
  }

  failed(det: DetectorId, message: string, counters: RunCounters): void {
    if (this.settled) return;
    this.release(det);
    this.setFailed(det, message);
    this.count(counters);
    this.opts.onEvent?.({ kind: 'failed', det, message });
    try {
      // A failed CCD no longer holds back any open round.
      for (const g of [...this.rounds.keys()].sort((a, b) => a - b)) this.tryReduce(g);
    } catch (e) {
      this.abort(e);
      return;
    }
    this.pump();
  }

  fatal(_det: DetectorId, message: string): void {
    this.abort(new StoreError(message));
  }

  private count(c: RunCounters): void {
    this.outcome.stepsComputed += c.stepsComputed;
    this.outcome.stepsReplayed += c.stepsReplayed;
  }

  private resume(det: DetectorId, g: number): void {
    if (this.state.get(det) === 'dropped') {
      this.state.set(det, 'pending');
      this.queue.push(det);
      this.queue.sort((a, b) => a - b);
    } else {
      this.state.set(det, 'running');
      this.hostOf.get(det)!.resolve(det, g);
    }
  }

  /** Run reducer g if every CCD has posted to it or failed. */
  private tryReduce(g: number): void {
    const round = this.rounds.get(g)!;
    if (round.resolved) return;
    for (const det of this.visit.detectors) {
      if (!round.posted.has(det) && this.state.get(det) !== 'failed') return;
    }
    const reducer = this.pipeline.reducers[round.name];
    if (!reducer) throw new Error(`pipeline '${this.pipeline.name}' has no reducer for gather '${round.name}'`);
    const summaries = [...this.visit.detectors].sort((a, b) => a - b).map((detector) => {
      const rec = readRecord<{ name: string; summary: unknown }>(this.store, keys.summary(g, detector));
      const failedMsg = this.outcome.failed.find((f) => f.det === detector)?.message ?? 'no summary';
      const summary: unknown = rec ? rec.summary : ({ failed: true, message: failedMsg } satisfies Failed);
      return { detector, summary };
    });
    const t0 = performance.now();
    const value = reducer(summaries, this.visit, this.config);
    writeRecord(this.store, keys.result(g), { name: round.name, value });
    round.resolved = true;
    this.opts.onEvent?.({ kind: 'reduce', g, name: round.name, ms: performance.now() - t0 });
    for (const det of [...round.posted].sort((a, b) => a - b)) {
      const s = this.state.get(det);
      if ((s === 'waiting' || s === 'dropped') && this.waitingAt.get(det) === g) this.resume(det, g);
    }
  }

  private checkFinished(): void {
    if (this.settled) return;
    let open = 0;
    for (const s of this.state.values()) if (s !== 'done' && s !== 'failed') open++;
    if (open === 0) {
      this.settled = true;
      this.outcome.done.sort((a, b) => a - b);
      this.outcome.failed.sort((a, b) => a.det - b.det);
      this.finish(this.outcome);
      return;
    }
    if (this.queue.length === 0 && this.live() === 0 && ![...this.state.values()].includes('running')) {
      // Everything left is dropped at rounds that cannot complete: a bug, never a hang.
      this.abort(new Error('internal: the visit cannot progress (all remaining CCDs wait on unresolved gathers)'));
    }
  }

  private abort(e: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.fail(e);
  }
}
