/**
 * The durable SensorContext: step results and gather results come from the store when recorded,
 * so a coroutine re-run from the top replays cheaply up to new work. Record layout in a store:
 *   ccd-<det>/s<seq>            {name, value}        one per persisted step, in call order
 *   ccd-<det>/status            {state, output|message}
 *   gather/g<seq>/ccd-<det>     {name, summary}      posted summaries
 *   gather/g<seq>/result        {name, value}        the reducer's result
 */
import { CorruptRecordError, decodeRecord, encodeRecord } from './codec.js';
import type { RecordStore } from './store.js';
import { NondeterminismError, checkName, type DetectorId, type SensorContext, type StepOptions } from './sensor.js';

const pad = (n: number, w: number) => String(n).padStart(w, '0');
export const keys = {
  ccd: (det: DetectorId) => `ccd-${pad(det, 4)}`,
  step: (det: DetectorId, seq: number) => `ccd-${pad(det, 4)}/s${pad(seq, 4)}`,
  status: (det: DetectorId) => `ccd-${pad(det, 4)}/status`,
  round: (g: number) => `gather/g${pad(g, 3)}`,
  summary: (g: number, det: DetectorId) => `gather/g${pad(g, 3)}/ccd-${pad(det, 4)}`,
  result: (g: number) => `gather/g${pad(g, 3)}/result`,
};

export interface Named<T> {
  name: string;
  value: T;
}

/**
 * Read a record; a corrupt one (bad checksum, truncated) is reported as absent, to be recomputed, and removed
 * unless `readOnly` (inspection commands such as `status` change nothing).
 */
export function readRecord<T>(store: RecordStore, key: string, readOnly = false): T | undefined {
  const bytes = store.read(key);
  if (!bytes) return undefined;
  try {
    return decodeRecord<T>(bytes);
  } catch (e) {
    if (e instanceof CorruptRecordError) {
      if (!readOnly) store.remove(key);
      return undefined;
    }
    throw e;
  }
}

export function writeRecord(store: RecordStore, key: string, value: unknown): void {
  store.write(key, encodeRecord(value));
}

export type CcdStatus = { state: 'done'; output: unknown } | { state: 'failed'; message: string };

export interface GatherHooks {
  /** Called after the summary is persisted; resolves with the central result (or never, if the coroutine is dropped). */
  posted(g: number, name: string): Promise<unknown>;
}

/** Statistics of one coroutine run: how much was replayed and how much computed. */
export interface RunCounters {
  stepsComputed: number;
  stepsReplayed: number;
  gathersReplayed: number;
}

export function makeDurableContext<C>(
  visit: string,
  detector: DetectorId,
  config: C,
  store: RecordStore,
  hooks: GatherHooks,
  counters: RunCounters = { stepsComputed: 0, stepsReplayed: 0, gathersReplayed: 0 },
): SensorContext<C> {
  let seq = 0;
  let g = 0;
  return {
    visit,
    detector,
    config,
    async step<T>(name: string, fn: () => T | Promise<T>, opts?: StepOptions): Promise<T> {
      checkName('step', name);
      const s = seq++;
      const persist = opts?.persist !== false;
      if (persist) {
        const rec = readRecord<Named<T>>(store, keys.step(detector, s));
        if (rec) {
          if (rec.name !== name) {
            throw new NondeterminismError(
              `detector ${detector}: step #${s} was recorded as '${rec.name}' but the replay called '${name}' (non-deterministic sensor code)`,
            );
          }
          counters.stepsReplayed++;
          return rec.value;
        }
      }
      const value = await fn();
      counters.stepsComputed++;
      if (persist) writeRecord(store, keys.step(detector, s), { name, value });
      return value;
    },
    async gather<S, R>(name: string, summary: S): Promise<R> {
      checkName('gather', name);
      const k = g++;
      const result = readRecord<Named<R>>(store, keys.result(k));
      if (result) {
        if (result.name !== name) {
          throw new NondeterminismError(
            `detector ${detector}: gather #${k} was '${result.name}' but the replay called '${name}' (non-deterministic sensor code)`,
          );
        }
        counters.gathersReplayed++;
        return result.value;
      }
      const prior = readRecord<{ name: string }>(store, keys.summary(k, detector));
      if (prior && prior.name !== name) {
        throw new NondeterminismError(`detector ${detector}: gather #${k} was posted as '${prior.name}', now '${name}'`);
      }
      if (!prior) writeRecord(store, keys.summary(k, detector), { name, summary });
      return (await hooks.posted(k, name)) as R;
    },
  };
}
