/** Run one visit's CCD coroutines to completion: inline (--jobs 1) or over worker threads (--jobs N). */
import { Coordinator, type CoordinatorEvent, type VisitOutcome } from './coordinator.js';
import { InlineHost, type Host } from './host.js';
import { FsStore, type RecordStore } from './store.js';
import type { PipelineDef, VisitInfo } from './sensor.js';
import { WorkerHost, type PipelineRef } from './worker-host.js';

export interface RunVisitOptions<C> {
  pipeline: PipelineDef<C>;
  /** how worker threads import the same pipeline (needed for jobs > 1) */
  pipelineRef?: PipelineRef;
  store: RecordStore;
  visit: VisitInfo;
  config: C;
  jobs?: number;
  memoryBytes?: number;
  retryFailed?: boolean;
  onEvent?: (e: CoordinatorEvent) => void;
  debug?: boolean;
}

export async function runVisit<C>(o: RunVisitOptions<C>): Promise<VisitOutcome> {
  const jobs = Math.max(1, o.jobs ?? 1);
  if (jobs > 1 && (!o.pipelineRef || !(o.store instanceof FsStore))) {
    throw new Error('--jobs > 1 needs an on-disk store and an importable pipeline');
  }
  const coord = new Coordinator(
    o.pipeline,
    o.store,
    o.visit,
    o.config,
    (events): Host[] =>
      jobs === 1
        ? [new InlineHost(o.pipeline, o.store, o.visit.visit, o.config, events, o.debug)]
        : Array.from({ length: jobs }, () =>
            new WorkerHost(
              { pipeline: o.pipelineRef!, storeRoot: (o.store as FsStore).root, visit: o.visit.visit, config: o.config, debug: !!o.debug },
              events,
            ),
          ),
    { memoryBytes: o.memoryBytes ?? Infinity, retryFailed: o.retryFailed, onEvent: o.onEvent },
  );
  try {
    return await coord.run();
  } finally {
    await coord.close();
  }
}
