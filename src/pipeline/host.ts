/**
 * A host runs sensor coroutines for the coordinator: inline in this thread, or in a worker thread
 * (worker-host.ts) with the same logic behind messages. The store is the only shared state.
 */
import { keys, makeDurableContext, readRecord, writeRecord, type CcdStatus, type Named, type RunCounters } from './durable.js';
import { StoreError, type RecordStore } from './store.js';
import type { DetectorId, PipelineDef } from './sensor.js';

export interface HostEvents {
  posted(det: DetectorId, g: number, name: string): void;
  done(det: DetectorId, counters: RunCounters): void;
  failed(det: DetectorId, message: string, counters: RunCounters): void;
  /** The store failed under det (disk full...): the visit must stop; nothing inconsistent was written. */
  fatal(det: DetectorId, message: string): void;
}

export interface Host {
  /** Run det's coroutine from the top (a fresh run or a replay). */
  start(det: DetectorId): void;
  /** The result of gather g is persisted: resume det, which waits on it. */
  resolve(det: DetectorId, g: number): void;
  /** Forget det's suspended coroutine: its frame becomes garbage; it will be replayed later. */
  drop(det: DetectorId): void;
  close(): Promise<void>;
}

/** Message of an error for the user: one line, without the stack. */
export function errorMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

export class InlineHost implements Host {
  private readonly waiters = new Map<DetectorId, { g: number; resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  constructor(
    private readonly pipeline: PipelineDef<any, any>,
    private readonly store: RecordStore,
    private readonly visit: string,
    private readonly config: unknown,
    private readonly events: HostEvents,
    private readonly debug = false,
  ) {}

  /** Per CCD, cumulative over its replays in this run; reported when it ends. */
  private readonly counters = new Map<DetectorId, RunCounters>();

  start(det: DetectorId): void {
    let counters = this.counters.get(det);
    if (!counters) this.counters.set(det, (counters = { stepsComputed: 0, stepsReplayed: 0, gathersReplayed: 0 }));
    const ctx = makeDurableContext(this.visit, det, this.config, this.store, {
      posted: (g, name) =>
        new Promise((resolve, reject) => {
          this.waiters.set(det, { g, resolve, reject });
          this.events.posted(det, g, name);
        }),
    }, counters);
    // The coroutine's promise is deliberately not stored: dropping the waiter frees the whole frame.
    Promise.resolve()
      .then(() => this.pipeline.sensor(ctx))
      .then((output) => {
        writeRecord(this.store, keys.status(det), { state: 'done', output } satisfies CcdStatus);
        this.events.done(det, counters);
      })
      .catch((err) => this.onError(det, err, counters));
  }

  private onError(det: DetectorId, err: unknown, counters: RunCounters): void {
    if (this.debug && err instanceof Error) process.stderr.write(`detector ${det}: ${err.stack}\n`);
    const message = errorMessage(err);
    if (err instanceof StoreError) {
      this.events.fatal(det, message);
      return;
    }
    try {
      writeRecord(this.store, keys.status(det), { state: 'failed', message } satisfies CcdStatus);
    } catch (e) {
      this.events.fatal(det, errorMessage(e));
      return;
    }
    this.events.failed(det, message, counters);
  }

  resolve(det: DetectorId, g: number): void {
    const w = this.waiters.get(det);
    if (!w || w.g !== g) throw new Error(`internal: detector ${det} is not waiting on gather ${g}`);
    this.waiters.delete(det);
    const rec = readRecord<Named<unknown>>(this.store, keys.result(g));
    if (!rec) w.reject(new Error(`gather #${g} result is missing from the store`));
    else w.resolve(rec.value);
  }

  drop(det: DetectorId): void {
    this.waiters.delete(det);
  }

  async close(): Promise<void> {
    this.waiters.clear();
  }
}
