/**
 * The visit-level joint fits of production, as sensor fragments (per-CCD summaries, gathers, per-CCD results)
 * and the reducers that run centrally: focal-plane background, focal-plane PSF, full-visit astrometry and
 * the visit zero point.
 */
import type { BackgroundModel } from '../background/index.js';
import { applyFocalBackground, focalBackgroundGrid, mergeFocalBackground, solveFocalBackground, summarizeFocalBackground, type FocalBackground, type FocalBackgroundSummary } from '../background/focal.js';
import type { DetectorGeom } from '../camera/types.js';
import { applyVisitCalibration, solveVisitCalibration, visitCalibSummary, type VisitCalibResult, type VisitCalibSummary } from '../astrometry/visit-calibrate.js';
import type { GatheredSummary } from '../astrometry/visit-solve.js';
import { cachedRefCatalog } from '../astrometry/refcat.js';
import type { Catalog } from '../catalog/schema.js';
import type { DetectionResult } from '../detect/types.js';
import type { Header } from '../fits/header.js';
import { calibrateStep, type Calibration } from '../pipeline/calibrate.js';
import { psfInput, psfReserveStats, psfStep, reserveSummary, type backgroundStep, type Maps, type PsfStepResult } from '../pipeline/ccd.js';
import { focalAccumulate, focalFinish, focalSelect, reduceFocalGeometry, reduceFocalModel, type FocalCcd, type FocalFwhmSummary, type FocalGeometryResult, type FocalModelResult } from '../psf/focal.js';
import type { PsfSummary } from '../psf/accumulate.js';
import type { PsfModel } from '../psf/model.js';
import type { LoadedCcd } from '../pipeline/load.js';
import { isFailed, type Failed, type Reducer, type SensorContext } from '../pipeline/sensor.js';
import type { VisitJob } from './visit-pipeline.js';

export type Gather = <S, R>(name: string, summary: S) => Promise<R>;
type Ctx = SensorContext<VisitJob>;
export type CcdBackground = ReturnType<typeof backgroundStep>;

/**
 * Focal-plane background: every CCD's mesh statistics binned in focal-plane superpixels (gather 'background'),
 * one surface + per-CCD offsets + residual grid for the visit, evaluated back on each CCD's mesh grid.
 * A CCD outside the frame (no WCS in its header) keeps its own background.
 */
export async function visitBackground(ctx: Ctx, gather: Gather, local: CcdBackground, geom: DetectorGeom | undefined): Promise<CcdBackground> {
  const frame = ctx.config.frame;
  const summary = frame && geom ? summarizeFocalBackground(local.model, geom, focalBackgroundGrid(frame.camera)) : null;
  const fb = await gather<FocalBackgroundSummary | null, FocalBackground | null>('background', summary);
  if (!fb || !geom) return local;
  const model = await ctx.step('background.visit', () => applyFocalBackground(local.model, geom, fb));
  return { ...local, model, globalBackground: model.globalBackground };
}

/** The central background fit (failed CCDs and CCDs outside the frame are left out). */
export const backgroundReducer: Reducer<FocalBackgroundSummary | null, FocalBackground | null, VisitJob> = (summaries, _visit, job) => {
  if (!job.frame) return null;
  const parts = [...summaries]
    .sort((a, b) => a.detector - b.detector)
    .map((s) => s.summary)
    .filter((s): s is FocalBackgroundSummary => s !== null && !isFailed(s));
  if (!parts.length) return null;
  return solveFocalBackground(mergeFocalBackground(parts), focalBackgroundGrid(job.frame.camera));
};

export interface VisitPsfInput {
  measured: Catalog;
  /** the detection's segmentation map, unpacked on use (neighbours are masked in PSF stamps) */
  segmentation: () => Int32Array;
  bg: CcdBackground;
  geom: DetectorGeom | undefined;
  pixels: (model: BackgroundModel) => { ccd: LoadedCcd; maps: Maps };
  width: number;
  height: number;
}

export type VisitPsfResult = Omit<PsfStepResult, 'model'> & { reserve: { n: number; size: number } };

/** Gathers of the focal-plane PSF: geometry, then accumulation passes (the first without a prior). */
const PSF_PASSES = ['psf.pass0', 'psf.pass1'] as const;

/**
 * The focal-plane PSF (src/psf/focal.ts): every CCD selects its stars as quick mode does (same reserve set) and
 * posts its FWHM (gather 'psf.fwhm' -> one model geometry and stellar locus), then accumulates its stars in the
 * focal-plane frame (gathers 'psf.pass0', 'psf.pass1': one model, polynomial in focal-plane position, refined
 * with the first pass's model as prior); finally PSF photometry with the visit model re-expressed in CCD pixels.
 * A CCD outside the frame fits its own PSF, as quick mode does.
 */
export async function visitPsf(ctx: Ctx, gather: Gather, i: VisitPsfInput): Promise<VisitPsfResult> {
  const c = ctx.config.config;
  const geom = i.geom;
  const own = () =>
    ctx.step('psf', () => {
      const { ccd, maps } = i.pixels(i.bg.model);
      const det = { segmentation: i.segmentation() };
      const r = psfStep(i.measured, det, maps, ccd, c, ctx.detector);
      const reserve = psfReserveStats(r.model, { ...i.measured, ...r.columns }, det, maps, ccd);
      return { columns: r.columns, problem: r.problem, fwhm: r.fwhm, nStars: r.nStars, reserve };
    });
  if (!ctx.config.frame) return own();
  const focalCcd = (): FocalCcd => {
    const { ccd, maps } = i.pixels(i.bg.model);
    return { detector: geom!, input: psfInput(i.measured, i.segmentation(), maps, ccd) };
  };
  // star selection needs the catalog only, not pixels
  const sel = geom
    ? await ctx.step('psf.select', () => {
        const image = { width: i.width, height: i.height, data: new Float32Array(0) };
        return focalSelect({ detector: geom, input: { image, rms: 0, gain: 0, catalog: i.measured } });
      })
    : undefined;
  const geo = await gather<FocalFwhmSummary | null, FocalGeometryResult>('psf.fwhm', sel?.summary ?? null);
  let visit: FocalModelResult = { problem: geo.problem };
  let status: Uint8Array | undefined;
  if (geo.geometry) {
    let prior: PsfModel | undefined;
    for (const [pass, name] of PSF_PASSES.entries()) {
      const acc = sel ? await ctx.step(`psf.accumulate${pass}`, () => focalAccumulate(focalCcd(), sel.selection, geo, prior)) : undefined;
      const res = await gather<PsfSummary | null, FocalModelResult>(name, acc?.summary ?? null);
      if (!res.model) {
        // keep the previous pass's model when a refining pass fails
        if (!prior) visit = res;
        break;
      }
      status = acc?.status;
      visit = res;
      prior = res.model;
    }
  }
  if (!sel) return own();
  return ctx.step('psf', () => {
    const r = focalFinish(focalCcd(), sel.selection, visit, status, { magZeropoint: c.MAG_ZEROPOINT as number });
    return { columns: { ...r.columns }, problem: r.problem, fwhm: r.fwhm, nStars: sel.summary.nStars, reserve: reserveSummary(r.reserve) };
  });
}

const withoutNull = <S>(summaries: ReadonlyArray<{ detector: number; summary: S | null | Failed }>) =>
  summaries.filter((s): s is { detector: number; summary: S | Failed } => s.summary !== null);

const psfReducers: Record<string, Reducer<any, any, VisitJob>> = {
  'psf.fwhm': (summaries: ReadonlyArray<{ detector: number; summary: FocalFwhmSummary | null | Failed }>, _v, job) =>
    job.frame ? reduceFocalGeometry(withoutNull(summaries), job.frame.camera) : { problem: 'no focal plane' },
  ...Object.fromEntries(PSF_PASSES.map((name) => [name, (summaries: ReadonlyArray<{ detector: number; summary: PsfSummary | null | Failed }>) => reduceFocalModel(withoutNull(summaries))])),
};

export interface VisitCalibrateInput {
  /** the catalog with instrumental magnitudes (MAG_ZEROPOINT) */
  catalog: Catalog;
  header: Header;
  geom: DetectorGeom | undefined;
  width: number;
  height: number;
}

/**
 * Astrometry and photometric calibration of the whole visit (gather 'calibrate'): each CCD posts its bright
 * sources in focal-plane mm with their photometry; one pattern match and one focal-plane polynomial fit (with
 * per-CCD affine terms where significant), one zero point and aperture correction; each CCD gets its TAN-SIP WCS.
 * A CCD outside the frame calibrates alone, as quick mode does.
 */
export async function visitCalibrate(ctx: Ctx, gather: Gather, i: VisitCalibrateInput): Promise<Calibration> {
  const c = ctx.config.config;
  const geom = i.geom;
  const result = await gather<VisitCalibSummary | null, VisitCalibResult | null>('calibrate', ctx.config.frame && geom ? visitCalibSummary(i.catalog, geom) : null);
  if (!result || !geom) {
    const ccd = { header: i.header, image: { width: i.width, height: i.height } } as LoadedCcd;
    return ctx.step('calibrate', () => calibrateStep(i.catalog, ccd, c));
  }
  return ctx.step('calibrate.visit', () => {
    const { wcs: _wcs, zeroPointErr, apcorr, ...r } = applyVisitCalibration(i.catalog, geom, result, c.MAG_ZEROPOINT as number);
    return { ...r, zeroPointErr, apcorr };
  });
}

/** The central astrometric and photometric fit of the visit. */
export const calibrateReducer: Reducer<VisitCalibSummary | null, VisitCalibResult | null, VisitJob> = (summaries, _visit, job) => {
  const file = job.config.REFCAT_NAME as string;
  if (!job.frame || !file) return null;
  const usable: GatheredSummary<VisitCalibSummary>[] = withoutNull(summaries);
  if (!usable.some((s) => !isFailed(s.summary))) return null;
  return solveVisitCalibration(usable, job.frame.camera, job.frame.pointing, cachedRefCatalog(file), {
    ...(job.epoch !== undefined ? { epoch: job.epoch } : {}),
    maxRms: job.config.ASTROM_MAXRMS as number,
  });
};

export const VISIT_REDUCERS: Record<string, Reducer<any, any, VisitJob>> = {
  background: backgroundReducer,
  calibrate: calibrateReducer,
  ...psfReducers,
};
