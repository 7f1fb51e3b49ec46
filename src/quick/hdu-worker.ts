/** Worker thread of `lsst-quick --jobs N`: runs the CCD coroutine on one HDU per task. */
import { parentPort } from 'node:worker_threads';
import { ccdPipeline, type CcdJob, type CcdResult } from '../pipeline/ccd.js';
import { runSingle } from '../pipeline/single.js';
import { serveTasks } from '../util/pool.js';

serveTasks<{ ext: number; job: CcdJob }, CcdResult>(
  parentPort!,
  ({ ext, job }) => runSingle(ccdPipeline, 'quick', ext, job),
  (r) => [...new Set(Object.values(r.catalog).map((a) => a.buffer as ArrayBuffer))],
);
