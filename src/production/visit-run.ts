/**
 * Driving one visit: build the job from the repository, take the lock, run the durable executor,
 * then write the visit catalog and the visit summary table. Used by `lsst-prod visit` and by tests.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeCatalog, writeFileAtomic, type CatalogFormat } from '../catalog/write.js';
import { FitsFile } from '../fits/index.js';
import { buildTable } from '../fits/table-write.js';
import { Header } from '../fits/header.js';
import { writeFits } from '../fits/write.js';
import { dumpConfig, type Config } from '../pipeline/config.js';
import type { CoordinatorEvent, VisitOutcome } from '../pipeline/coordinator.js';
import { keys, readRecord, type CcdStatus } from '../pipeline/durable.js';
import { runVisit } from '../pipeline/run-visit.js';
import { FsStore } from '../pipeline/store.js';
import { UserError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { Repo } from './repo.js';
import { cameraFromHdus } from '../camera/from-wcs.js';
import { julianEpoch } from '../astrometry/fit-ccd.js';
import { loadHeader } from '../pipeline/load.js';
import { visitPipeline, type CcdOutput, type VisitJob } from './visit-pipeline.js';
import { vectorSizes } from '../pipeline/ccd.js';
import { readCatalogFits } from '../catalog/read.js';

export interface VisitRunOptions {
  repo: Repo;
  visit: string;
  config: Config;
  detectors?: number[];
  jobs?: number;
  memoryBytes?: number;
  params?: string;
  onEvent?: (e: CoordinatorEvent) => void;
  debug?: boolean;
}

export interface VisitRunResult {
  outcome: VisitOutcome;
  outDir: string;
  stateDir: string;
  job: VisitJob;
}

/**
 * Image shape of an HDU from its header (plain or tile-compressed), without reading pixels. An unreadable
 * file gives 0 x 0 here: that CCD then fails alone when it loads, and the rest of the visit runs.
 */
function shapeOf(file: string, hdu: number): { width: number; height: number } {
  try {
    const f = FitsFile.open(file);
    try {
      const h = f.hdu(hdu);
      const n = h.shape.length;
      return n >= 2 ? { width: h.shape[n - 1], height: h.shape[n - 2] } : { width: 0, height: 0 };
    } finally {
      f.close();
    }
  } catch {
    return { width: 0, height: 0 };
  }
}

export function buildJob(repo: Repo, visit: string, config: Config, detectors?: number[], params?: string): VisitJob {
  let raws = repo.visitRaws(visit);
  if (detectors) {
    const missing = detectors.filter((d) => !raws.some((r) => r.detector === d));
    if (missing.length) throw new UserError(`visit ${visit}: no detector ${missing.join(', ')} in the repository`);
    raws = raws.filter((r) => detectors.includes(r.detector));
  }
  // the repository's registered reference catalog unless --refcat names another for this run
  if (!config.REFCAT_NAME && repo.refcatPath()) config = { ...config, REFCAT_NAME: repo.refcatPath() };
  // the focal plane of the joint fits, from the raw headers (CCDs without a WCS are left out of it)
  let frame: VisitJob['frame'];
  try {
    frame = cameraFromHdus(raws.map((r) => ({ file: r.file, hdu: r.hdu, id: r.detector })), { skipBad: true });
  } catch {
    frame = undefined;
  }
  const placed = new Map((frame?.camera.detectors ?? []).map((d) => [d.id, d]));
  const out: VisitJob['raws'] = {};
  for (const r of raws) {
    if (!existsSync(r.file)) throw new UserError(`${r.file}: raw file of visit ${visit} detector ${r.detector} is missing`);
    // the shape from the camera's header reading when the CCD is in it, else from its header alone
    const g = placed.get(r.detector);
    out[String(r.detector)] = { input: { image: { file: r.file, hdu: r.hdu } }, ...(g ? { width: g.width, height: g.height } : shapeOf(r.file, r.hdu)) };
  }
  let epoch: number | undefined;
  try {
    const mjd = raws.length ? loadHeader({ image: { file: raws[0].file, hdu: raws[0].hdu } }).getNumber('MJD-OBS') : undefined;
    if (mjd !== undefined && Number.isFinite(mjd)) epoch = julianEpoch(mjd);
  } catch {
    epoch = undefined;
  }
  return { visit, raws: out, config, outDir: repo.outDir(visit), params, ...(frame ? { frame } : {}), ...(epoch !== undefined ? { epoch } : {}) };
}

/** The state directory of a job: keyed by everything that determines the results. */
export function jobDigest(job: VisitJob): string {
  const h = createHash('sha256');
  h.update(`${visitPipeline.name}\n${dumpConfig(job.config)}\n${job.params ?? ''}\n`);
  for (const [d, r] of Object.entries(job.raws).sort((a, b) => Number(a[0]) - Number(b[0]))) h.update(`${d} ${r.input.image.file} ${r.input.image.hdu}\n`);
  return h.digest('hex').slice(0, 16);
}

export async function runVisitJob(o: VisitRunOptions): Promise<VisitRunResult> {
  const job = buildJob(o.repo, o.visit, o.config, o.detectors, o.params);
  const digest = jobDigest(job);
  const stateDir = o.repo.stateDir(o.visit, digest);
  const unlock = o.repo.lock(o.visit);
  try {
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(job.outDir, { recursive: true });
    // job.json first: 'latest' never points at a state directory without its job
    writeFileAtomic(path.join(stateDir, 'job.json'), `${JSON.stringify(job, null, 1)}\n`);
    writeFileAtomic(path.join(path.dirname(stateDir), 'latest'), `${digest}\n`);
    const store = new FsStore(stateDir);
    const dets = Object.keys(job.raws).map(Number).sort((a, b) => a - b);
    const outcome = await runVisit({
      pipeline: visitPipeline,
      pipelineRef: { module: new URL(`./visit-pipeline.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href, export: 'visitPipeline' },
      store,
      visit: { visit: o.visit, detectors: dets },
      config: job,
      jobs: o.jobs,
      memoryBytes: o.memoryBytes,
      onEvent: o.onEvent,
      debug: o.debug,
    });
    await writeVisitOutputs(job, store, dets);
    return { outcome, outDir: job.outDir, stateDir, job };
  } finally {
    unlock();
  }
}

/** The visit catalog (one table per CCD, EXT_NUMBER = detector id) and the visit summary table. */
export async function writeVisitOutputs(job: VisitJob, store: FsStore, dets: number[]): Promise<void> {
  const rows: { det: number; st?: CcdStatus }[] = dets.map((det) => ({ det, st: readRecord<CcdStatus>(store, keys.status(det)) }));
  const fmt = job.config.CATALOG_TYPE as CatalogFormat;
  if (fmt === 'fits') {
    const hdus = [];
    for (const { det, st } of rows) {
      if (st?.state !== 'done') continue;
      const { catalog } = readCatalogFits(path.join(job.outDir, (st.output as CcdOutput).catalog));
      if (catalog.NUMBER) hdus.push({ extNumber: det, catalog, sizes: vectorSizes(job.config) });
    }
    await writeCatalog(path.join(job.outDir, 'visit.cat.fits'), 'fits', hdus, { provenance: { SOFTWARE: 'lsst-prod', SOFTVERS: VERSION, VISIT: job.visit } });
  }
  const n = rows.length;
  const f64 = (fn: (o: CcdOutput) => number) => Float64Array.from(rows.map(({ st }) => (st?.state === 'done' ? fn(st.output as CcdOutput) : NaN)));
  const t = buildTable(
    [
      { name: 'DETECTOR', data: Int32Array.from(rows.map((r) => r.det)) },
      { name: 'STATUS', data: rows.map(({ st }) => st?.state ?? 'pending') },
      { name: 'MESSAGE', data: rows.map(({ st }) => (st?.state === 'failed' ? st.message.slice(0, 200) : '')) },
      { name: 'NOBJ', data: Int32Array.from(rows.map(({ st }) => (st?.state === 'done' ? (st.output as CcdOutput).objects : -1))) },
      { name: 'BACKGROUND', data: f64((o) => o.background), unit: 'count' },
      { name: 'BACKGROUND_RMS', data: f64((o) => o.rms), unit: 'count' },
      { name: 'PSF_FWHM', data: f64((o) => o.psfFwhm), unit: 'pixel' },
      { name: 'NSTARS', data: Int32Array.from(rows.map(({ st }) => (st?.state === 'done' ? (st.output as CcdOutput).psfStars : -1))) },
      { name: 'ZEROPOINT', data: f64((o) => o.zeroPoint), unit: 'mag' },
      { name: 'NREFSTARS', data: Int32Array.from(rows.map(({ st }) => (st?.state === 'done' ? (st.output as CcdOutput).refStars : -1))) },
      { name: 'ASTROM_RMS', data: f64((o) => o.astromRms), unit: 'arcsec' },
    ],
    { extname: 'VISIT_SUMMARY', nrows: n },
  );
  const prim = new Header().set('BITPIX', 8).set('NAXIS', 0).set('VISIT', job.visit).set('SOFTWARE', 'lsst-prod').set('SOFTVERS', VERSION);
  writeFits(path.join(job.outDir, 'summary.fits'), [{ header: prim }, { header: t.header, data: t.data }]);
}
