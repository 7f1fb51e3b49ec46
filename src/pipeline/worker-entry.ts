/** Worker-thread side of WorkerHost: an InlineHost over the on-disk store, driven by messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { InlineHost } from './host.js';
import { FsStore } from './store.js';
import type { PipelineDef } from './sensor.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-host.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const mod = (await import(init.pipeline.module)) as Record<string, PipelineDef>;
const pipeline = mod[init.pipeline.export];
if (!pipeline) throw new Error(`${init.pipeline.module} exports no pipeline '${init.pipeline.export}'`);
const post = (m: FromWorker) => port.postMessage(m);
const host = new InlineHost(pipeline, new FsStore(init.storeRoot), init.visit, init.config, {
  posted: (det, g, name) => post({ ev: 'posted', det, g, name }),
  done: (det, counters) => post({ ev: 'done', det, counters }),
  failed: (det, message, counters) => post({ ev: 'failed', det, message, counters }),
  fatal: (det, message) => post({ ev: 'fatal', det, message }),
}, init.debug);
port.on('message', (m: ToWorker) => {
  if (m.op === 'start') host.start(m.det);
  else if (m.op === 'resolve') host.resolve(m.det, m.g);
  else host.drop(m.det);
});
