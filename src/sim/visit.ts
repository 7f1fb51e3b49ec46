/**
 * Whole-visit simulator: `simulateVisit` draws the visit model, writes the reference catalogue, simulates every
 * requested detector (inline, or in `jobs` worker threads: the output is byte-identical either way) and writes the
 * visit truth. See visit-io.ts for the file layout and visit-model.ts for what is simulated.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadCamera } from '../camera/load.js';
import type { Camera } from '../camera/types.js';
import { checkVisit } from '../production/ids.js';
import { UserError } from '../util/errors.js';
import { simulateVisitCcd } from './visit-ccd.js';
import { checkVisitJson, writeCcd, writeRefcat, writeVisitJson } from './visit-io.js';
import { makeVisitModel, type DetectorTruthSummary, type VisitModel, type VisitModelOptions } from './visit-model.js';
import { refcatStars } from './visit-scene.js';

export { loadVisitTruth, nominalWcs, trueBackgroundAt, truePixelToSky, truePsfAt, trueSkyToPixel, trueZeroPoint, type TruePsf } from './visit-truth.js';
export type { VisitModel, DetectorTruthSummary } from './visit-model.js';

export interface SimulateVisitOptions extends Omit<VisitModelOptions, 'scale' | 'seed'> {
  /** a Camera, or a name / file for loadCamera */
  camera: Camera | string;
  visit: string | number;
  /** the repository root R */
  outDir: string;
  /** detector ids (default all) */
  detectors?: readonly number[];
  /** detector size scale factor in (0, 1] (default 1) */
  scale?: number;
  seed?: number;
  /** worker threads (default 1: inline) */
  jobs?: number;
  /** also write each CCD's 8-bit defect mask (truth/<visit>/mask_<visit>_<det>.fits) */
  masks?: boolean;
  /** called after each detector is written */
  onDetector?: (summary: DetectorTruthSummary, done: number, total: number) => void;
}

export interface SimulateVisitResult {
  model: VisitModel;
  /** absolute paths */
  raws: string[];
  refcat: string;
  truth: string;
  detectors: DetectorTruthSummary[];
  seconds: number;
}

/** Simulate one visit of a camera into the repository `outDir`. Bad options throw UserError. */
export async function simulateVisit(opts: SimulateVisitOptions): Promise<SimulateVisitResult> {
  const t0 = performance.now();
  const visit = checkVisit(String(opts.visit));
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new UserError(`--scale must be in (0, 1], got ${scale}`);
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UserError(`--seed must be a non-negative integer, got ${seed}`);
  const camera = typeof opts.camera === 'string' ? loadCamera(opts.camera) : opts.camera;
  const model = makeVisitModel(camera, visit, { ...opts, seed, scale });
  const known = new Set(model.camera.detectors.map((d) => d.id));
  const ids = opts.detectors ? [...new Set(opts.detectors)].sort((a, b) => a - b) : [...known].sort((a, b) => a - b);
  for (const id of ids) if (!known.has(id)) throw new UserError(`camera ${camera.name} has no detector ${id}`);
  const root = path.resolve(opts.outDir);
  checkVisitJson(root, model);
  const refcat = writeRefcat(root, model, refcatStars(model));
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, ids.length));
  const summaries: DetectorTruthSummary[] = [];
  const report = (s: DetectorTruthSummary) => {
    summaries.push(s);
    opts.onDetector?.(s, summaries.length, ids.length);
  };
  if (jobs === 1) {
    for (const id of ids) report(writeCcd(root, model, simulateVisitCcd(model, model.camera.detectors.find((d) => d.id === id)!), opts.masks));
  } else {
    await runWorkers(root, model, ids, jobs, !!opts.masks, report);
  }
  const truth = writeVisitJson(root, model, summaries);
  return {
    model,
    raws: [...summaries].sort((a, b) => a.id - b.id).map((s) => path.join(root, s.raw)),
    refcat: path.join(root, refcat),
    truth: path.join(root, truth),
    detectors: [...summaries].sort((a, b) => a.id - b.id),
    seconds: (performance.now() - t0) / 1000,
  };
}

const entry = new URL(`./visit-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/** Simulate detectors in worker threads, each taking the next id from a shared queue. */
async function runWorkers(root: string, model: VisitModel, ids: number[], jobs: number, masks: boolean, report: (s: DetectorTruthSummary) => void): Promise<void> {
  const queue = [...ids];
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const data = { root, model, masks };
      const w = entry.pathname.endsWith('.ts')
        ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData: data })
        : new Worker(entry, { workerData: data });
      const next = () => {
        const id = queue.shift();
        if (id === undefined) void w.terminate().then(() => resolve());
        else w.postMessage(id);
      };
      w.on('message', (m: { summary?: DetectorTruthSummary; error?: string; ready?: boolean }) => {
        if (m.error) {
          void w.terminate();
          reject(new Error(m.error));
          return;
        }
        if (m.summary) report(m.summary);
        next();
      });
      w.on('error', (e) => reject(e));
    });
  await Promise.all(Array.from({ length: jobs }, one));
}
