/**
 * Freeze one CCD: copy exactly what it needs to re-run elsewhere (its raw files, its step records, the
 * visit's gather results, the job with paths made relative) into a directory; and thaw such a directory.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../catalog/write.js';
import { keys } from '../pipeline/durable.js';
import { FsStore } from '../pipeline/store.js';
import { UserError } from '../util/errors.js';
import { readJob, type VisitState } from './state.js';
import type { VisitJob } from './visit-pipeline.js';
import type { HduRef } from '../pipeline/load.js';
import { checkDetector, checkVisit } from './ids.js';

export function freezeCcd(st: VisitState, det: number, dir: string): string[] {
  const raw = st.job.raws[String(det)];
  if (!raw) throw new UserError(`detector ${det} is not part of visit ${st.job.visit}`);
  if (existsSync(dir) && readdirSync(dir).length) throw new UserError(`${dir}: exists and is not empty`);
  mkdirSync(path.join(dir, 'raw'), { recursive: true });
  const copied: string[] = [];
  const copy = (ref: HduRef | undefined): HduRef | undefined => {
    if (!ref) return undefined;
    const name = path.basename(ref.file);
    const dest = path.join(dir, 'raw', name);
    if (!existsSync(dest)) {
      copyFileSync(ref.file, dest);
      copied.push(dest);
    }
    return { file: path.join('raw', name), hdu: ref.hdu };
  };
  const input = { image: copy(raw.input.image)!, weight: copy(raw.input.weight), mask: copy(raw.input.mask) };
  const job: VisitJob = { ...st.job, raws: { [String(det)]: { ...raw, input } }, outDir: 'out' };
  const src = st.store;
  const dst = new FsStore(path.join(dir, 'state'));
  const records = [...src.list(keys.ccd(det))];
  for (let g = 0; ; g++) {
    const r = src.read(keys.result(g));
    if (!r) break;
    dst.write(keys.result(g), r);
  }
  for (const k of records) {
    if (k.endsWith('/status')) continue;
    dst.write(k, src.read(k)!);
  }
  writeFileAtomic(path.join(dir, 'job.json'), `${JSON.stringify(job, null, 1)}\n`);
  writeFileAtomic(path.join(dir, 'FROZEN.json'), `${JSON.stringify({ visit: st.job.visit, detector: det, records: records.length }, null, 1)}\n`);
  return copied;
}

/** Open a frozen directory: its job with paths resolved against it, its store, its one detector. */
export function thaw(dir: string): { job: VisitJob; store: FsStore; detector: number } {
  if (!existsSync(path.join(dir, 'FROZEN.json'))) throw new UserError(`${dir}: not a frozen CCD (no FROZEN.json)`);
  const job = readJob(dir);
  const dets = Object.keys(job.raws);
  if (dets.length !== 1) throw new UserError(`${dir}: a frozen job must hold one detector`);
  // every path of a frozen job must stay inside the frozen directory, whatever job.json says
  const root = path.resolve(dir);
  const inside = (p: unknown, what: string): string => {
    const full = typeof p === 'string' ? path.resolve(root, p) : '';
    if (!full || (full !== root && !full.startsWith(root + path.sep))) throw new UserError(`${path.join(dir, 'job.json')}: ${what} must stay inside ${dir}`);
    return full;
  };
  const abs = (r?: HduRef) => (r ? { file: inside(r.file, 'raw file'), hdu: r.hdu } : undefined);
  const raw = job.raws[dets[0]];
  raw.input = { image: abs(raw.input.image)!, weight: abs(raw.input.weight), mask: abs(raw.input.mask) };
  checkDetector(dets[0], `${path.join(dir, 'job.json')}: detector`);
  checkVisit(job.visit, `${path.join(dir, 'job.json')}: visit`);
  job.outDir = inside(job.outDir, 'outDir');
  mkdirSync(job.outDir, { recursive: true });
  return { job, store: new FsStore(path.join(dir, 'state')), detector: Number(dets[0]) };
}
