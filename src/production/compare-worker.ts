/** Worker thread of `lsst-prod compare --jobs N`: quick mode on one CCD per task. */
import { parentPort } from 'node:worker_threads';
import { serveTasks } from '../util/pool.js';
import { runCompareTask, type CompareTask, type ModeCcd } from './compare.js';

serveTasks<CompareTask, ModeCcd>(parentPort!, runCompareTask, (r) => [...new Set(Object.values(r.catalog).map((a) => a.buffer as ArrayBuffer))]);
