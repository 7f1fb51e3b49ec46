/**
 * `lsst-prod compare visit N`: quick mode on every CCD of a visit (the shared per-CCD core, CCD by CCD) against
 * production on the whole visit, per CCD and overall: detections and aperture fluxes, astrometry against the
 * reference catalogue (and truth for simulated visits), PSF size residuals on reserved stars, background steps at
 * CCD edges, zero points.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cachedRefCatalog, type RefCatalog } from '../astrometry/refcat.js';
import { celestialWcs, type Wcs } from '../astrometry/wcs.js';
import type { Catalog } from '../catalog/schema.js';
import { Header, type Card } from '../fits/header.js';
import { runPool } from '../util/pool.js';
import { readCatalogFits } from '../catalog/read.js';
import { ccdCore, psfReserveStats } from '../pipeline/ccd.js';
import type { Config } from '../pipeline/config.js';
import { keys, readRecord, type CcdStatus } from '../pipeline/durable.js';
import { loadHeader, type CcdInput } from '../pipeline/load.js';
import type { PipelineDef, SensorContext } from '../pipeline/sensor.js';
import { runSingle } from '../pipeline/single.js';
import { FsStore } from '../pipeline/store.js';
import { loadVisitTruth, truePixelToSky, trueBackgroundAt, truePsfAt, trueZeroPoint } from '../sim/visit-truth.js';
import type { VisitModel } from '../sim/visit-model.js';
import { UserError } from '../util/errors.js';
import { astrometryVsReference, backgroundMesh, backgroundSteps, compareDetections, median, psfFwhmRatios, rms, wcsVsTruth, type BackgroundMesh } from './compare-metrics.js';
import type { Repo } from './repo.js';
import { runVisitJob, type VisitRunOptions } from './visit-run.js';
import { ccdCatalogPath, type CcdOutput, type VisitJob } from './visit-pipeline.js';

/** What one CCD of either mode gives the comparison. */
export interface ModeCcd {
  catalog: Catalog;
  /** the header holding the CCD's celestial WCS (plain cards: results cross worker threads) */
  wcsCards: Card[];
  astromOk: boolean;
  refStars: number;
  zeroPoint: number;
  psf: { n: number; size: number; stars: number };
  bgMesh: BackgroundMesh;
}

export interface QuickJob {
  input: CcdInput;
  config: Config;
}

/** Quick mode's sensor (the shared per-CCD core) plus what the comparison needs from its intermediates. */
async function quickCompareSensor(ctx: SensorContext<QuickJob>): Promise<ModeCcd> {
  const { input, config } = ctx.config;
  const k = await ccdCore(ctx, input, config);
  const cards = k.calib?.astrometryOk ? k.calib.cards : k.ccd.header.cards;
  return {
    catalog: k.catalog,
    wcsCards: cards.map((c) => ({ ...c })),
    astromOk: !!k.calib?.astrometryOk,
    refStars: k.calib?.nStars ?? 0,
    zeroPoint: k.calib?.zeroPoint ?? NaN,
    psf: { ...psfReserveStats(k.psf?.model, k.catalog, k.det, k.maps, k.ccd), stars: k.psf?.nStars ?? 0 },
    bgMesh: backgroundMesh(k.bg.model, k.bg.globalRms),
  };
}

export const quickComparePipeline: PipelineDef<QuickJob, ModeCcd> = { name: 'quick-compare', sensor: quickCompareSensor, reducers: {} };

export interface CompareTask {
  det: number;
  visit: string;
  job: QuickJob;
}

/** One CCD in quick mode, for the comparison (in this thread or a worker's). */
export function runCompareTask(t: CompareTask): Promise<ModeCcd> {
  return runSingle(quickComparePipeline, t.visit, t.det, t.job);
}

/** Production's results for one CCD: its catalog file (with the WCS cards in the table header) and its output record. */
function prodCcd(job: VisitJob, det: number, out: CcdOutput): ModeCcd {
  const { catalog, header } = readCatalogFits(ccdCatalogPath(job, det));
  const ok = header.getString('ASTRSTAT') === 'OK';
  return {
    catalog,
    wcsCards: (ok ? header : loadHeader(job.raws[String(det)].input)).cards.map((c) => ({ ...c })),
    astromOk: ok,
    refStars: out.refStars,
    zeroPoint: out.zeroPoint,
    psf: { ...out.psfReserve, stars: out.psfStars },
    bgMesh: out.bgMesh,
  };
}

export interface CompareRow {
  detector: number;
  /** SNR > 10 detections: quick, prod, and the smaller of the two matched fractions */
  nQuick: number;
  nProd: number;
  matched: number;
  apertureRatio: number;
  refStars: number;
  /** astrometry: per-axis rms (mas) against the reference catalogue and against truth; whether quick's fit failed */
  astromRefQuick: number;
  astromRefProd: number;
  astromTruthQuick: number;
  astromTruthProd: number;
  quickAstromFailed: boolean;
  /** PSF stars used (quick), reserve stars, size residual (robust rms of the relative size error) */
  psfStars: number;
  psfReserve: number;
  psfSizeQuick: number;
  psfSizeProd: number;
  /**
   * simulated visits: rms relative error of the model FWHM at the sources (SNR > 10) against the true FWHM, after
   * dividing by the mode's visit-wide median ratio (the moment FWHM of a Moffat differs from its FWHM by a constant)
   */
  psfTruthQuick: number;
  psfTruthProd: number;
  /** rms background step (units of sky noise) on this CCD's edges, against truth when simulated */
  bgStepQuick: number;
  bgStepProd: number;
  zpQuick: number;
  zpProd: number;
}

export interface CompareResult {
  visit: string;
  simulated: boolean;
  rows: CompareRow[];
  overall: {
    ccds: number;
    matched: number;
    apertureRatio: number;
    astromTruthQuick: number;
    astromTruthProd: number;
    quickAstromFailures: number;
    bgStepQuick: number;
    bgStepProd: number;
    /** PSF size residuals (reserve stars: median over CCDs) and FWHM errors against truth (rms over CCDs); *Sparse: CCDs with < 15 PSF stars */
    psfSizeQuick: number;
    psfSizeProd: number;
    psfTruthQuick: number;
    psfTruthProd: number;
    sparsePsfCcds: number;
    psfSizeQuickSparse: number;
    psfSizeProdSparse: number;
    psfTruthQuickSparse: number;
    psfTruthProdSparse: number;
    zpTruth: number;
    zpProd: number;
    zpQuickScatter: number;
    zpQuickMedian: number;
  };
}

export interface CompareOptions extends Omit<VisitRunOptions, 'onEvent'> {
  onEvent?: VisitRunOptions['onEvent'];
  /** called after each quick-mode CCD */
  onQuick?: (det: number, done: number, total: number) => void;
}

/** Run production (resuming whatever is recorded) and quick mode on every CCD, then compare. */
export async function compareVisit(o: CompareOptions): Promise<CompareResult> {
  if (o.config.CATALOG_TYPE !== 'fits') throw new UserError('compare needs FITS catalogs (CATALOG_TYPE fits)');
  const prod = await runVisitJob(o);
  const job = prod.job;
  const dets = Object.keys(job.raws).map(Number).sort((a, b) => a - b);
  const store = new FsStore(prod.stateDir);
  const truthFile = path.join(o.repo.root, 'truth', o.visit, 'visit.json');
  const truth: VisitModel | undefined = existsSync(truthFile) ? loadVisitTruth(truthFile) : undefined;
  const ref: RefCatalog | undefined = job.config.REFCAT_NAME ? cachedRefCatalog(job.config.REFCAT_NAME as string) : undefined;
  const quick = new Map<number, ModeCcd>();
  const prodCcds = new Map<number, ModeCcd>();
  const ok: number[] = [];
  for (const det of dets) {
    const st = readRecord<CcdStatus>(store, keys.status(det), true);
    if (st?.state !== 'done') continue;
    prodCcds.set(det, prodCcd(job, det, st.output as CcdOutput));
    ok.push(det);
  }
  // quick mode on every CCD: this thread and jobs - 1 workers (results land by CCD, whatever the order)
  let done = 0;
  const tasks = ok.map((det) => ({ det, visit: o.visit, job: { input: job.raws[String(det)].input, config: job.config } }));
  const results = await runPool<CompareTask, ModeCcd>(
    new URL(`./compare-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
    tasks,
    o.jobs ?? 1,
    (i) => o.onQuick?.(ok[i], ++done, ok.length),
    runCompareTask,
  );
  results.forEach((r, i) => quick.set(ok[i], r));
  return summarize(job, dets.filter((d) => quick.has(d)), quick, prodCcds, ref, truth);
}

function summarize(job: VisitJob, dets: number[], quick: Map<number, ModeCcd>, prod: Map<number, ModeCcd>, ref: RefCatalog | undefined, truth: VisitModel | undefined): CompareResult {
  const nAper = (job.config.PHOT_APERTURES as number[]).length;
  const camera = job.frame?.camera;
  const trueBg = truth ? (d: number, x: number, y: number) => trueBackgroundAt(truth, d, x, y) : undefined;
  const steps = (m: Map<number, ModeCcd>) =>
    camera ? backgroundSteps(camera, new Map([...m].map(([d, v]) => [d, v.bgMesh])), trueBg) : [];
  const stepsQ = steps(quick);
  const stepsP = steps(prod);
  const perCcd = (s: typeof stepsQ, d: number) => rms(s.filter((e) => e.a === d || e.b === d).map((e) => e.step));
  const fwhmRatios = new Map<Catalog, number[]>();
  if (truth) {
    for (const d of dets) {
      for (const c of [quick.get(d)!.catalog, prod.get(d)!.catalog]) fwhmRatios.set(c, psfFwhmRatios(c, (x, y) => truePsfAt(truth, d, x, y).fwhm));
    }
  }
  const scaleQ = median(dets.flatMap((d) => fwhmRatios.get(quick.get(d)!.catalog) ?? []));
  const scaleP = median(dets.flatMap((d) => fwhmRatios.get(prod.get(d)!.catalog) ?? []));
  const agreements = dets.map((d) => compareDetections(quick.get(d)!.catalog, prod.get(d)!.catalog, nAper));
  const rows: CompareRow[] = dets.map((d, k) => {
    const q = quick.get(d)!;
    const p = prod.get(d)!;
    const agree = agreements[k];
    const raw = job.raws[String(d)];
    const tr = (w: Wcs | undefined) => (truth && w ? wcsVsTruth(w, raw.width, raw.height, (x, y) => truePixelToSky(truth, d, x, y)) : NaN);
    const vsRef = (c: Catalog) => (ref ? astrometryVsReference(c, ref).rmsMas : NaN);
    const psfTruth = (c: Catalog, scale: number) => rms((fwhmRatios.get(c) ?? []).map((v) => v / scale - 1));
    return {
      detector: d,
      nQuick: agree.nA,
      nProd: agree.nB,
      matched: Math.min(agree.nA ? agree.matchedA / agree.nA : 1, agree.nB ? agree.matchedB / agree.nB : 1),
      apertureRatio: agree.apertureRatio,
      refStars: q.refStars,
      astromRefQuick: vsRef(q.catalog),
      astromRefProd: vsRef(p.catalog),
      astromTruthQuick: tr(celestialWcs(new Header(q.wcsCards))),
      astromTruthProd: tr(celestialWcs(new Header(p.wcsCards))),
      quickAstromFailed: !!ref && !q.astromOk,
      psfStars: q.psf.stars,
      psfReserve: q.psf.n,
      psfSizeQuick: q.psf.size,
      psfSizeProd: p.psf.size,
      psfTruthQuick: psfTruth(q.catalog, scaleQ),
      psfTruthProd: psfTruth(p.catalog, scaleP),
      bgStepQuick: perCcd(stepsQ, d),
      bgStepProd: perCcd(stepsP, d),
      zpQuick: q.zeroPoint,
      zpProd: p.zeroPoint,
    };
  });
  let nA = 0;
  let mA = 0;
  for (const a of agreements) {
    nA += a.nA + a.nB;
    mA += a.matchedA + a.matchedB;
  }
  const zq = rows.map((r) => r.zpQuick).filter(Number.isFinite);
  const zqMed = median(zq);
  const sparse = rows.filter((r) => r.psfStars < 15);
  return {
    visit: job.visit,
    simulated: !!truth,
    rows,
    overall: {
      ccds: rows.length,
      matched: nA ? mA / nA : NaN,
      apertureRatio: median(rows.map((r) => r.apertureRatio)),
      astromTruthQuick: rms(rows.map((r) => r.astromTruthQuick)),
      astromTruthProd: rms(rows.map((r) => r.astromTruthProd)),
      quickAstromFailures: rows.filter((r) => r.quickAstromFailed).length,
      bgStepQuick: rms(stepsQ.map((e) => e.step)),
      bgStepProd: rms(stepsP.map((e) => e.step)),
      psfSizeQuick: median(rows.map((r) => r.psfSizeQuick)),
      psfSizeProd: median(rows.map((r) => r.psfSizeProd)),
      psfTruthQuick: rms(rows.map((r) => r.psfTruthQuick)),
      psfTruthProd: rms(rows.map((r) => r.psfTruthProd)),
      sparsePsfCcds: sparse.length,
      psfSizeQuickSparse: median(sparse.map((r) => r.psfSizeQuick)),
      psfSizeProdSparse: median(sparse.map((r) => r.psfSizeProd)),
      psfTruthQuickSparse: rms(sparse.map((r) => r.psfTruthQuick)),
      psfTruthProdSparse: rms(sparse.map((r) => r.psfTruthProd)),
      zpTruth: truth ? trueZeroPoint(truth) : NaN,
      zpProd: median(rows.map((r) => r.zpProd)),
      zpQuickScatter: zq.length > 1 ? Math.sqrt(zq.reduce((s, z) => s + (z - zqMed) ** 2, 0) / (zq.length - 1)) : NaN,
      zpQuickMedian: zqMed,
    },
  };
}

const f = (v: number, d: number, w: number) => (Number.isFinite(v) ? v.toFixed(d) : '-').padStart(w);

/** The comparison as a text table (one line per CCD, then the overall figures). */
export function formatCompare(r: CompareResult): string {
  const head =
    ' det  nQ>10  nP>10 match  apRatio  nRef  astQ/mas  astP/mas' +
    (r.simulated ? ' truQ/mas truP/mas' : '') +
    ' nPsf nRes  psfQ   psfP' +
    (r.simulated ? ' fwhmQ  fwhmP' : '') +
    '  bgQ/sig bgP/sig    zpQ      zpP';
  const lines = [head];
  for (const x of r.rows) {
    lines.push(
      String(x.detector).padStart(4) +
        String(x.nQuick).padStart(7) +
        String(x.nProd).padStart(7) +
        f(100 * x.matched, 1, 6) +
        f(x.apertureRatio, 4, 9) +
        String(x.refStars).padStart(6) +
        f(x.astromRefQuick, 1, 10) +
        f(x.astromRefProd, 1, 10) +
        (r.simulated ? f(x.astromTruthQuick, 1, 9) + f(x.astromTruthProd, 1, 9) : '') +
        String(x.psfStars).padStart(5) +
        String(x.psfReserve).padStart(5) +
        f(x.psfSizeQuick, 4, 7) +
        f(x.psfSizeProd, 4, 7) +
        (r.simulated ? f(x.psfTruthQuick, 4, 7) + f(x.psfTruthProd, 4, 7) : '') +
        f(x.bgStepQuick, 3, 8) +
        f(x.bgStepProd, 3, 8) +
        f(x.zpQuick, 4, 9) +
        f(x.zpProd, 4, 9) +
        (x.quickAstromFailed ? '  quick astrometry failed' : ''),
    );
  }
  const o = r.overall;
  lines.push(
    '',
    `visit ${r.visit}: ${o.ccds} CCD(s)`,
    `  detections SNR>10 matched quick<->prod: ${f(100 * o.matched, 2, 0)}%   median aperture-flux ratio prod/quick: ${f(o.apertureRatio, 5, 0)}`,
    `  astrometry vs truth (rms per axis): quick ${f(o.astromTruthQuick, 1, 0)} mas, prod ${f(o.astromTruthProd, 1, 0)} mas; quick failed on ${o.quickAstromFailures} CCD(s)`,
    `  PSF size residual on reserve stars (median over CCDs): quick ${f(o.psfSizeQuick, 4, 0)}, prod ${f(o.psfSizeProd, 4, 0)}; on the ${o.sparsePsfCcds} CCD(s) with < 15 PSF stars: quick ${f(o.psfSizeQuickSparse, 4, 0)}, prod ${f(o.psfSizeProdSparse, 4, 0)}` +
      (r.simulated ? `\n  PSF FWHM vs truth (rms relative, visit scale removed): quick ${f(o.psfTruthQuick, 4, 0)}, prod ${f(o.psfTruthProd, 4, 0)}; CCDs with < 15 PSF stars: quick ${f(o.psfTruthQuickSparse, 4, 0)}, prod ${f(o.psfTruthProdSparse, 4, 0)}` : ''),
    `  background step at CCD edges (rms, sky sigma${r.simulated ? ', against truth' : ''}): quick ${f(o.bgStepQuick, 3, 0)}, prod ${f(o.bgStepProd, 3, 0)}`,
    `  zero point: prod ${f(o.zpProd, 4, 0)}${r.simulated ? ` (truth ${f(o.zpTruth, 4, 0)}, diff ${f(o.zpProd - o.zpTruth, 4, 0)})` : ''}; quick per-CCD median ${f(o.zpQuickMedian, 4, 0)}, scatter ${f(o.zpQuickScatter, 4, 0)} mag`,
  );
  return lines.join('\n') + '\n';
}
