/**
 * What the Slurm jobs run (through the hidden `lsst-prod _slurm-task` / `_slurm-reduce` commands):
 *  - a task replays one CCD's coroutine up to its next unresolved gather, persists its summary and exits
 *    (or runs it to the end and writes its status);
 *  - the reducer of round g runs the local engine's Coordinator over the recorded outcomes of the tasks, so
 *    a round is reduced exactly as `--engine local` reduces it (CCDs without a summary are Failed).
 * The repository on the shared filesystem is the only channel between them.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../catalog/write.js';
import { Coordinator } from '../../pipeline/coordinator.js';
import { keys, makeDurableContext, readRecord, writeRecord, type CcdStatus, type Named, type RunCounters } from '../../pipeline/durable.js';
import { errorMessage, type Host, type HostEvents } from '../../pipeline/host.js';
import { FsStore, StoreError, type RecordStore } from '../../pipeline/store.js';
import type { DetectorId } from '../../pipeline/sensor.js';
import { readJob } from '../state.js';
import { visitPipeline, type VisitJob } from '../visit-pipeline.js';
import { killSwitch } from './slurm-testhook.js';

/** How a task ended, as written to its report file (slurm/r<g>/t<n>/det-DDDD.json). */
export interface TaskReport {
  detector: DetectorId;
  outcome: 'posted' | 'done' | 'failed' | 'fatal';
  /** the gather the CCD posted to (outcome 'posted') */
  gather?: number;
  message?: string;
  counters: RunCounters;
}

/**
 * Run one CCD task: replay up to the next unresolved gather and post (or finish). Returns the process exit code:
 * 0 when the outcome is recorded in the store (posted, done, or failed: a CCD whose code throws is data, not a
 * task failure), 1 when the store itself failed (nothing recorded: the driver retries the task).
 */
export async function runSlurmTask(
  stateDir: string,
  det: DetectorId,
  reportFile: string,
  opts: { debug?: boolean; log?: (line: string) => void } = {},
): Promise<number> {
  const job = readJob(stateDir);
  if (!job.raws[String(det)]) throw new Error(`detector ${det} is not part of visit ${job.visit}`);
  const store: RecordStore = killSwitch(new FsStore(stateDir), stateDir, det);
  const counters: RunCounters = { stepsComputed: 0, stepsReplayed: 0, gathersReplayed: 0 };
  const report = (r: Omit<TaskReport, 'detector' | 'counters'>): void => {
    const what = r.outcome === 'posted' ? `posted its summary to gather #${r.gather}` : r.outcome === 'done' ? 'done' : `${r.outcome}: ${r.message}`;
    opts.log?.(`detector ${det}: ${what} (${counters.stepsComputed} steps computed, ${counters.stepsReplayed} replayed)`);
    mkdirSync(path.dirname(reportFile), { recursive: true });
    writeFileAtomic(reportFile, `${JSON.stringify({ detector: det, ...r, counters } satisfies TaskReport)}\n`);
  };

  const status = readRecord<CcdStatus>(store, keys.status(det));
  if (status) {
    // finished by an earlier attempt whose report was lost: nothing to do
    report({ outcome: status.state, ...(status.state === 'failed' ? { message: status.message } : {}) });
    return 0;
  }
  // The summary is persisted before posted() is called: the task's work for this round is complete. The
  // returned promise never settles; the process exits once the report is written.
  let posted!: (g: number) => void;
  const postedAt = new Promise<number>((resolve) => (posted = resolve));
  const ctx = makeDurableContext(job.visit, det, job, store, { posted: (g) => (posted(g), new Promise<never>(() => {})) }, counters);
  const ran = Promise.resolve()
    .then(() => visitPipeline.sensor(ctx))
    .then(
      (output) => ({ ok: true as const, output }),
      (err: unknown) => ({ ok: false as const, err }),
    );
  const first = await Promise.race([postedAt.then((g) => ({ posted: g })), ran]);
  if ('posted' in first) {
    report({ outcome: 'posted', gather: first.posted });
    return 0;
  }
  // The same status records as the local host (pipeline/host.ts InlineHost) writes.
  try {
    if (first.ok) {
      writeRecord(store, keys.status(det), { state: 'done', output: first.output } satisfies CcdStatus);
      report({ outcome: 'done' });
      return 0;
    }
    if (opts.debug && first.err instanceof Error) process.stderr.write(`detector ${det}: ${first.err.stack}\n`);
    const message = errorMessage(first.err);
    if (first.err instanceof StoreError) throw first.err;
    writeRecord(store, keys.status(det), { state: 'failed', message } satisfies CcdStatus);
    report({ outcome: 'failed', message });
    return 0;
  } catch (e) {
    report({ outcome: 'fatal', message: errorMessage(e) });
    return 1;
  }
}

/** Result of a reducer job. */
export type ReduceResult =
  | { kind: 'reduced' | 'already' | 'finished' }
  /** some CCDs have neither a summary nor a status (their tasks died): the driver resubmits them first */
  | { kind: 'incomplete'; missing: DetectorId[] };

/**
 * A Host whose coroutines are the recorded outcomes of round g's tasks: a CCD that posted reports its summary,
 * and ends once the round is resolved. CCDs with a status never start (the Coordinator reads it).
 */
class RecordHost implements Host {
  constructor(
    private readonly store: RecordStore,
    private readonly g: number,
    private readonly events: HostEvents,
  ) {}
  private static readonly none: RunCounters = { stepsComputed: 0, stepsReplayed: 0, gathersReplayed: 0 };
  start(det: DetectorId): void {
    queueMicrotask(() => {
      const s = readRecord<{ name: string }>(this.store, keys.summary(this.g, det));
      if (s) this.events.posted(det, this.g, s.name);
      else this.events.failed(det, 'no summary', RecordHost.none);
    });
  }
  resolve(det: DetectorId): void {
    queueMicrotask(() => this.events.done(det, RecordHost.none));
  }
  drop(): void {}
  async close(): Promise<void> {}
}

/** Run the reducer of gather round g once every live CCD has posted to it or failed (Failed: no summary). */
export async function runSlurmReduce(stateDir: string, g: number): Promise<ReduceResult> {
  const job: VisitJob = readJob(stateDir);
  const store = new FsStore(stateDir);
  if (readRecord<Named<unknown>>(store, keys.result(g))) return { kind: 'already' };
  const dets = Object.keys(job.raws).map(Number).sort((a, b) => a - b);
  const missing: DetectorId[] = [];
  const posted: DetectorId[] = [];
  const done: DetectorId[] = [];
  for (const det of dets) {
    const st = readRecord<CcdStatus>(store, keys.status(det));
    if (st?.state === 'done') done.push(det);
    else if (st) continue;
    else if (readRecord(store, keys.summary(g, det))) posted.push(det);
    else missing.push(det);
  }
  if (missing.length) return { kind: 'incomplete', missing };
  if (!posted.length) return { kind: 'finished' };
  if (done.length) {
    // every CCD reaches the same gathers: one that finished without posting here breaks the contract
    throw new Error(`gather #${g}: detectors ${done.join(', ')} finished while ${posted.join(', ')} wait on it (non-deterministic sensor code)`);
  }
  const coord = new Coordinator(
    visitPipeline,
    store,
    { visit: job.visit, detectors: dets },
    job,
    (events) => [new RecordHost(store, g, events)],
    { memoryBytes: Infinity, retryFailed: false },
  );
  try {
    await coord.run();
  } finally {
    await coord.close();
  }
  if (!readRecord<Named<unknown>>(store, keys.result(g))) throw new Error(`internal: gather #${g} was not reduced`);
  return { kind: 'reduced' };
}
