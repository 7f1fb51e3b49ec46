/**
 * The focal-plane PSF model of a visit: ONE pixelized model whose samples vary as a polynomial of the focal-plane
 * position (mm), fitted to the PSF stars of every CCD, as gathers of per-CCD summaries and central reducers:
 *  phase 0  per CCD  focalSelect: PSF stars as quick mode selects them (reserve seeded by the detector id);
 *                    summary { fwhm, nStars } -> reducer reduceFocalGeometry: the visit's PsfGeometry;
 *  phase 1+ per CCD  focalAccumulate: the CCD's non-reserve stars accumulated in the focal-plane frame, stamps
 *                    re-oriented into the reference axes (focal-orient.ts) -> reducer reduceFocalModel: merge in
 *                    detector order and solve (degree chosen from the total star count). As in quick mode
 *                    (fitPsfCcd), `refine` further passes accumulate again with the solved model as prior (flux by
 *                    PSF fit, chi^2 outliers dropped);
 *  final    per CCD  focalFinish: the model re-expressed in the CCD's pixel frame and axes (a PsfModel that
 *                    psfPhotometry / writePsfex use unchanged), the PSF columns exactly as quick mode makes them,
 *                    the CCD's model FWHM and the reserve-star residuals.
 * fitVisitPsf runs every phase in-process.
 */
import { focalPlaneRadius, pixelToFocal } from '../camera/geometry.js';
import type { Camera, DetectorGeom } from '../camera/types.js';
import { accumulatePsf, reducePsfSummaries, STAR_OUTLIER, STAR_USED, type PsfSummary } from './accumulate.js';
import { fitFocalLocus, locusAt, type FocalLocus, type LocusSamples } from './focal-locus.js';
import { ccdModelFromFocal, detectorDihedral, isIdentity, orientArray, orientPlane, orientPoint, type Dihedral } from './focal-orient.js';
import { failedColumns, psfGeometry, starsOf, type CcdPsfInput, type PsfCatalogColumns, type PsfFitOptions } from './fit.js';
import type { PsfGeometry, PsfModel } from './model.js';
import { psfPhotometry } from './photometry.js';
import { focalFrame } from './poly.js';
import { selectPsfStars, type StarSelection } from './select.js';
import { solvePsf } from './solve.js';
import { reserveResiduals, type ReserveResiduals } from './validate.js';

/**
 * Stars needed for degrees 1..5 of the focal-plane polynomial: stricter than a CCD's above degree 3, since a visit's
 * stars leave holes (clouds, failed CCDs) where a high degree extrapolates wildly.
 */
export const FOCAL_DEGREE_THRESHOLDS: readonly number[] = [10, 30, 100, 600, 1500];

/** Options of the focal-plane fit: those of fitPsfCcd but the frame; maxDegree defaults to 4, degreeThresholds to FOCAL_DEGREE_THRESHOLDS. */
export type FocalPsfOptions = Omit<PsfFitOptions, 'frame'> & {
  /** quantile of the per-CCD FWHM estimates that sets the model size (default 0.9: room for the widest PSFs) */
  sizeQuantile?: number;
  /** leave out of the fit the stars off the visit's stellar locus (focal-locus.ts; default true) */
  locusClip?: boolean;
};

/** One CCD of the visit: its geometry and the inputs of fitPsfCcd (positions 1-based XWIN_IMAGE, YWIN_IMAGE). */
export interface FocalCcd {
  detector: DetectorGeom;
  input: CcdPsfInput;
}

/** Phase-0 gather summary of a CCD: FWHM estimate, star count and (at most 500 of) its stars for the locus. */
export interface FocalFwhmSummary {
  fwhm: number;
  nStars: number;
  locus: LocusSamples;
}

/** Result of the geometry reducer: the shared geometry (and stellar locus), or why there is none. */
export interface FocalGeometryResult {
  geometry?: PsfGeometry;
  /** absent when clipping is off or there are too few stars for it */
  locus?: FocalLocus;
  problem?: string;
}

/** Result of the model reducer. */
export interface FocalModelResult {
  model?: PsfModel;
  problem?: string;
}

export type GatherEntry<S> = { detector: number; summary: S | { failed: true; message?: string } };

/** Phase 0: PSF star selection of a CCD, exactly as quick mode's (reserve seeded by the detector id). */
export function focalSelect(ccd: FocalCcd, opts: FocalPsfOptions = {}): { selection: StarSelection; summary: FocalFwhmSummary } {
  const { width, height } = ccd.input.image;
  const cat = ccd.input.catalog;
  const selection = selectPsfStars(cat, width, height, { ...opts.select, seed: ccd.detector.id });
  const rows = selection.stars;
  const stride = Math.max(1, Math.ceil(rows.length / 500));
  const m = Math.ceil(rows.length / stride);
  const locus: LocusSamples = { fx: new Float64Array(m), fy: new Float64Array(m), lnr: new Float64Array(m) };
  const rw = cat.XWIN_IMAGE.length > 0 ? cat.FLUX_RADIUS.length / cat.XWIN_IMAGE.length : 1;
  for (let k = 0; k < m; k++) {
    const i = rows[k * stride];
    [locus.fx[k], locus.fy[k]] = pixelToFocal(ccd.detector, cat.XWIN_IMAGE[i] - 1, cat.YWIN_IMAGE[i] - 1);
    locus.lnr[k] = Math.log(cat.FLUX_RADIUS[i * rw]);
  }
  return { selection, summary: { fwhm: selection.fwhm, nStars: rows.length, locus } };
}

/** Phase-0 reducer: one geometry for the visit (size from a quantile of the CCDs' FWHM estimates, focal frame). */
export function reduceFocalGeometry(entries: ReadonlyArray<GatherEntry<FocalFwhmSummary>>, camera: Camera, opts: FocalPsfOptions = {}): FocalGeometryResult {
  const ok = entries
    .filter((e): e is { detector: number; summary: FocalFwhmSummary } => !('failed' in e.summary))
    .sort((a, b) => a.detector - b.detector)
    .map((e) => e.summary)
    .filter((s) => s.nStars > 0 && s.fwhm > 0);
  if (ok.length === 0) return { problem: 'no CCD has PSF stars' };
  const f = ok.map((s) => s.fwhm).sort((a, b) => a - b);
  const q = Math.min(1, Math.max(0, opts.sizeQuantile ?? 0.9));
  const fwhm = f[Math.round(q * (f.length - 1))];
  const frame = focalFrame(focalPlaneRadius(camera));
  const geometry = psfGeometry(fwhm, frame, { ...opts, maxDegree: opts.maxDegree ?? 4 });
  const locus = opts.locusClip === false ? undefined : fitFocalLocus(ok.map((s) => s.locus), frame);
  return { geometry, locus };
}

/** Per selected star: 1 when on the visit's locus (or without a locus), 0 when it is left out. */
export function onLocus(ccd: FocalCcd, selection: StarSelection, locus: FocalLocus | undefined): Uint8Array {
  const rows = selection.stars;
  const keep = new Uint8Array(rows.length).fill(1);
  if (!locus) return keep;
  const cat = ccd.input.catalog;
  const rw = cat.XWIN_IMAGE.length > 0 ? cat.FLUX_RADIUS.length / cat.XWIN_IMAGE.length : 1;
  rows.forEach((i, k) => {
    const [fx, fy] = pixelToFocal(ccd.detector, cat.XWIN_IMAGE[i] - 1, cat.YWIN_IMAGE[i] - 1);
    keep[k] = Math.abs(Math.log(cat.FLUX_RADIUS[i * rw]) - locusAt(locus, fx, fy)) <= locus.band ? 1 : 0;
  });
  return keep;
}

/** A CCD's stars re-oriented into the reference axes, with focal-plane frame positions. */
function orientedStars(ccd: FocalCcd, rows: ArrayLike<number>, d: Dihedral) {
  const s = starsOf(ccd.input, rows);
  const { width, height } = ccd.input.image;
  const n = s.x.length;
  const fx = new Float64Array(n);
  const fy = new Float64Array(n);
  for (let k = 0; k < n; k++) [fx[k], fy[k]] = pixelToFocal(ccd.detector, s.x[k], s.y[k]);
  if (isIdentity(d)) return { ...s, fx, fy };
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) [x[k], y[k]] = orientPoint(d, width, height, s.x[k], s.y[k]);
  return {
    ...s,
    x,
    y,
    fx,
    fy,
    image: orientPlane(d, s.image),
    rms: typeof s.rms === 'number' ? s.rms : orientPlane(d, s.rms),
    mask: s.mask && orientArray(d, width, height, s.mask),
    segmentation: s.segmentation && orientArray(d, width, height, s.segmentation),
  };
}

/**
 * Phase 1 (and refining passes, with the previous pass's visit model as `prior`): the CCD's non-reserve stars on the
 * visit's locus (`visit` is the geometry reducer's result) accumulated in the focal-plane frame. The summary goes to
 * the gather; `status` (per selected star, STAR_OUTLIER for those off the locus) is kept by the CCD for PSF_STAR.
 */
export function focalAccumulate(ccd: FocalCcd, selection: StarSelection, visit: FocalGeometryResult, prior: PsfModel | undefined, opts: FocalPsfOptions = {}): { summary: PsfSummary; status: Uint8Array } {
  if (!visit.geometry) throw new RangeError(visit.problem ?? 'no focal-plane PSF geometry');
  const { d } = detectorDihedral(ccd.detector);
  const keep = onLocus(ccd, selection, visit.locus);
  const rows = selection.stars.filter((_, k) => keep[k] === 1);
  const stars = orientedStars(ccd, rows, d);
  const acc = accumulatePsf(visit.geometry, stars, { prior, accuracy: opts.accuracy, maxChi2: opts.maxChi2, chi2Floor: opts.chi2Floor, maxReplaced: opts.maxReplaced, skyError: opts.skyError });
  const status = new Uint8Array(selection.stars.length).fill(STAR_OUTLIER);
  let j = 0;
  for (let k = 0; k < keep.length; k++) if (keep[k] === 1) status[k] = acc.status[j++];
  return { summary: acc.summary, status };
}

/** Reducer of an accumulation pass: merge in detector order (failed CCDs skipped) and solve. */
export function reduceFocalModel(entries: ReadonlyArray<GatherEntry<PsfSummary>>, opts: FocalPsfOptions = {}): FocalModelResult {
  const ok = entries.filter((e) => !('failed' in e.summary));
  if (ok.length === 0) return { problem: 'no PSF summaries' };
  try {
    return { model: solvePsf(reducePsfSummaries(ok as { detector: number; summary: PsfSummary }[]), { degree: opts.degree, degreeThresholds: opts.degreeThresholds ?? FOCAL_DEGREE_THRESHOLDS }) };
  } catch (e) {
    if (e instanceof RangeError) return { problem: e.message };
    throw e;
  }
}

/** What a CCD keeps from the focal-plane fit. */
export interface FocalCcdResult {
  /** the visit model re-expressed in this CCD's pixel frame and axes (undefined when there is no visit model) */
  model?: PsfModel;
  problem?: string;
  columns: PsfCatalogColumns;
  /** model FWHM at the CCD centre (pixels), NaN without a model */
  fwhm: number;
  reserve?: ReserveResiduals;
  /** residual rotation (degrees) of the CCD's axes ignored by the dihedral re-orientation */
  residualRotation: number;
}

/**
 * Final per-CCD step after the last gather: the CCD's model, PSF photometry of every catalog row (columns as
 * fitPsfCcd's), PSF_STAR (1 used, 2 reserved, 4 rejected in the last pass) and the reserve-star residuals.
 */
export function focalFinish(ccd: FocalCcd, selection: StarSelection, visit: FocalModelResult, status: Uint8Array | undefined, opts: FocalPsfOptions = {}): FocalCcdResult {
  const nrows = ccd.input.catalog.XWIN_IMAGE.length;
  const { d, residualDeg } = detectorDihedral(ccd.detector);
  if (!visit.model) return { problem: visit.problem ?? 'no focal-plane PSF model', columns: failedColumns(nrows), fwhm: NaN, residualRotation: residualDeg };
  const model = ccdModelFromFocal(visit.model, ccd.detector, d);
  const all = starsOf(ccd.input, Int32Array.from({ length: nrows }, (_, i) => i));
  const cols = psfPhotometry(model, all, { magZeropoint: opts.magZeropoint, ...opts.photometry });
  const psfStar = new Int32Array(nrows);
  selection.stars.forEach((i, k) => (psfStar[i] = status === undefined || status[k] === STAR_USED ? 1 : 4));
  for (const i of selection.reserved) psfStar[i] = 2;
  const reserve = selection.reserved.length > 0 ? reserveResiduals(model, starsOf(ccd.input, selection.reserved)) : undefined;
  return { model, columns: { ...cols, PSF_STAR: psfStar }, fwhm: model.fwhm, reserve, residualRotation: residualDeg };
}

/** Everything fitVisitPsf produced. */
export interface VisitPsfResult {
  geometry?: PsfGeometry;
  locus?: FocalLocus;
  /** the visit model (focal-plane frame, reference axes) */
  model?: PsfModel;
  problem?: string;
  /** per CCD, in input order */
  ccds: FocalCcdResult[];
  /** per pass, per CCD (input order) */
  summaries: PsfSummary[][];
  selections: StarSelection[];
}

/** All phases in-process (the lead runs them through gathers): select, geometry, 1 + refine accumulate/solve passes, finish. */
export function fitVisitPsf(ccds: readonly FocalCcd[], camera: Camera, opts: FocalPsfOptions = {}): VisitPsfResult {
  const phase0 = ccds.map((c) => focalSelect(c, opts));
  const selections = phase0.map((p) => p.selection);
  const geo = reduceFocalGeometry(phase0.map((p, i) => ({ detector: ccds[i].detector.id, summary: p.summary })), camera, opts);
  const summaries: PsfSummary[][] = [];
  let visit: FocalModelResult = { problem: geo.problem };
  let status: (Uint8Array | undefined)[] = ccds.map(() => undefined);
  if (geo.geometry) {
    const passes = 1 + (opts.refine ?? 1);
    let prior: PsfModel | undefined;
    for (let pass = 0; pass < passes; pass++) {
      const acc = ccds.map((c, i) => focalAccumulate(c, selections[i], geo, prior, opts));
      summaries.push(acc.map((a) => a.summary));
      const next = reduceFocalModel(acc.map((a, i) => ({ detector: ccds[i].detector.id, summary: a.summary })), opts);
      if (!next.model) {
        // keep the previous pass's model when a refining pass fails
        if (!prior) visit = next;
        break;
      }
      status = acc.map((a) => a.status);
      visit = next;
      prior = next.model;
    }
  }
  const out = ccds.map((c, i) => focalFinish(c, selections[i], visit, status[i], opts));
  return { geometry: geo.geometry, locus: geo.locus, model: visit.model, problem: visit.problem, ccds: out, summaries, selections };
}
