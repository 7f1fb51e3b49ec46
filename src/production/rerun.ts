/**
 * Freeze-dry: re-execute persisted steps of one CCD from its recorded intermediates and report whether each
 * recomputed result is byte-identical to its record. Earlier steps and gathers return their records.
 */
import { encodeRecord } from '../pipeline/codec.js';
import { keys, readRecord, type Named } from '../pipeline/durable.js';
import type { RecordStore } from '../pipeline/store.js';
import { NondeterminismError, type DetectorId, type PipelineDef, type SensorContext } from '../pipeline/sensor.js';
import { UserError } from '../util/errors.js';

export interface StepCheck {
  step: string;
  seq: number;
  identical: boolean;
  ms: number;
}

class Stop extends Error {}

/** Re-run step `target` (first occurrence) or every persisted step ('all') of one CCD. */
export async function rerunSteps<C>(pipeline: PipelineDef<C>, store: RecordStore, visit: string, detector: DetectorId, config: C, target: string): Promise<StepCheck[]> {
  const checks: StepCheck[] = [];
  let seq = 0;
  let g = 0;
  const ctx: SensorContext<C> = {
    visit,
    detector,
    config,
    async step<T>(name: string, fn: () => T | Promise<T>, opts?: { persist?: boolean }): Promise<T> {
      const s = seq++;
      if (opts?.persist === false) return fn();
      const key = keys.step(detector, s);
      const recBytes = store.read(key);
      const rec = readRecord<Named<T>>(store, key);
      if (rec && rec.name !== name) throw new NondeterminismError(`detector ${detector}: step #${s} was recorded as '${rec.name}', the re-run called '${name}'`);
      if (target === 'all' || target === name) {
        if (!rec || !recBytes) throw new UserError(`detector ${detector}: step '${name}' has no persisted result to compare with (run the visit first)`);
        const t0 = performance.now();
        const value = await fn();
        const ms = performance.now() - t0;
        const identical = Buffer.from(encodeRecord({ name, value })).equals(Buffer.from(recBytes));
        checks.push({ step: name, seq: s, identical, ms });
        if (target !== 'all') throw new Stop();
        return value;
      }
      if (!rec) throw new UserError(`detector ${detector}: step '${name}' (before '${target}') has no persisted result`);
      return rec.value;
    },
    async gather<S, R>(name: string): Promise<R> {
      const k = g++;
      const res = readRecord<Named<R>>(store, keys.result(k));
      if (!res) throw new UserError(`detector ${detector}: gather '${name}' has no central result yet (run the visit first)`);
      if (res.name !== name) throw new NondeterminismError(`gather #${k} was '${res.name}', the re-run called '${name}'`);
      return res.value;
    },
  };
  try {
    await pipeline.sensor(ctx);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  if (target !== 'all' && !checks.length) throw new UserError(`detector ${detector}: the pipeline has no step '${target}'`);
  return checks;
}
