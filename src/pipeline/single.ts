/**
 * Run a sensor coroutine for one CCD with nothing persisted and every gather resolved at once by the
 * pipeline's reducer over this CCD's summary alone: quick mode's engine. Same sensor code as production.
 */
import type { DetectorId, PipelineDef, SensorContext } from './sensor.js';

export interface SingleRunHooks {
  /** sees every step result (check images are made from them) */
  onStep?(name: string, value: unknown): void;
}

export async function runSingle<C, O>(pipeline: PipelineDef<C, O>, visit: string, detector: DetectorId, config: C, hooks: SingleRunHooks = {}): Promise<O> {
  const ctx: SensorContext<C> = {
    visit,
    detector,
    config,
    async step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
      const v = await fn();
      hooks.onStep?.(name, v);
      return v;
    },
    async gather<S, R>(name: string, summary: S): Promise<R> {
      const reducer = pipeline.reducers[name];
      if (!reducer) throw new Error(`pipeline '${pipeline.name}' has no reducer for gather '${name}'`);
      return reducer([{ detector, summary }], { visit, detectors: [detector] }, config) as R;
    },
  };
  return pipeline.sensor(ctx);
}
