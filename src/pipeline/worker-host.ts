/**
 * Hosts coroutines in worker threads (--jobs N): the same InlineHost logic runs inside each worker over the
 * shared on-disk store; only control messages cross threads. The pipeline is loaded by module URL + export name.
 */
import { Worker } from 'node:worker_threads';
import type { RunCounters } from './durable.js';
import type { Host, HostEvents } from './host.js';
import type { DetectorId } from './sensor.js';

export interface PipelineRef {
  /** file: URL of the module exporting the PipelineDef */
  module: string;
  export: string;
}

export interface WorkerInit {
  pipeline: PipelineRef;
  storeRoot: string;
  visit: string;
  config: unknown;
  debug: boolean;
}

export type ToWorker = { op: 'start' | 'drop'; det: DetectorId } | { op: 'resolve'; det: DetectorId; g: number };
export type FromWorker =
  | { ev: 'posted'; det: DetectorId; g: number; name: string }
  | { ev: 'done'; det: DetectorId; counters: RunCounters }
  | { ev: 'failed'; det: DetectorId; message: string; counters: RunCounters }
  | { ev: 'fatal'; det: DetectorId; message: string };

const entry = new URL(`./worker-entry.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export class WorkerHost implements Host {
  private readonly worker: Worker;

  constructor(init: WorkerInit, events: HostEvents) {
    // Under the TypeScript sources (tests), the worker registers the tsx loader first; the compiled build does not.
    this.worker = entry.pathname.endsWith('.ts')
      ? new Worker(
          `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`,
          { eval: true, workerData: init },
        )
      : new Worker(entry, { workerData: init });
    this.worker.on('message', (m: FromWorker) => {
      if (m.ev === 'posted') events.posted(m.det, m.g, m.name);
      else if (m.ev === 'done') events.done(m.det, m.counters);
      else if (m.ev === 'failed') events.failed(m.det, m.message, m.counters);
      else events.fatal(m.det, m.message);
    });
    this.worker.on('error', (e) => events.fatal(-1, `worker thread died: ${e.message}`));
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  start(det: DetectorId): void {
    this.send({ op: 'start', det });
  }
  resolve(det: DetectorId, g: number): void {
    this.send({ op: 'resolve', det, g });
  }
  drop(det: DetectorId): void {
    this.send({ op: 'drop', det });
  }
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
