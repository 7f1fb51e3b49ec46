/**
 * Visit-level calibration in one gather: each CCD posts visitCalibSummary() (astrometric + photometric summary,
 * a few thousand numbers), the reducer solveVisitCalibration() fits one focal-plane astrometric solution
 * (visit-solve.ts) and, from the stars it matched, one zero point and aperture correction
 * (photocal/visit-photcal.ts); each CCD then applies the result with applyVisitCalibration(): its TAN-SIP WCS
 * and header cards, ALPHA/DELTA(WIN) recomputed, MAG_* shifted (as quick mode's calibrateStep does).
 * calibrateVisit() runs the three in one process (tests, small visits).
 */
import type { Camera, DetectorGeom, Pointing } from '../camera/types.js';
import type { Catalog } from '../catalog/schema.js';
import { Header } from '../fits/header.js';
import { applyVisitZeroPoint, solveVisitPhotometry, visitPhotSummary, type VisitPhotOptions, type VisitPhotSolution, type VisitPhotSummary } from '../photocal/visit-photcal.js';
import type { RefCatalog } from './refcat.js';
import type { Wcs } from './wcs.js';
import type { Calibration } from '../pipeline/calibrate.js';
import { visitAstromSummary, type VisitAstromSummary, type VisitAstromSummaryOptions } from './visit-summary.js';
import { ccdWcsFromVisit, solveVisitAstrometry, usableSummaries, type GatheredSummary, type VisitAstromOptions, type VisitAstromSolution } from './visit-solve.js';

export interface VisitCalibSummary {
  astrom: VisitAstromSummary;
  phot: VisitPhotSummary;
}

export interface VisitCalibResult {
  astrometry: VisitAstromSolution;
  photometry: VisitPhotSolution;
}

/** Per CCD, before the gather: the summary of its catalog (detector geometry of the production camera). */
export function visitCalibSummary(cat: Catalog, det: DetectorGeom, opts: VisitAstromSummaryOptions = {}): VisitCalibSummary {
  const astrom = visitAstromSummary(cat, det, opts);
  return { astrom, phot: visitPhotSummary(cat, det.id, astrom.row) };
}

export interface VisitCalibOptions extends VisitAstromOptions {
  photometry?: VisitPhotOptions;
}

/** The reducer body: the gathered summaries (any order, failed CCDs skipped) -> one small, deterministic result. */
export function solveVisitCalibration(
  summaries: readonly GatheredSummary<VisitCalibSummary>[],
  camera: Camera,
  pointing: Pointing,
  refcat: RefCatalog,
  opts: VisitCalibOptions = {},
): VisitCalibResult {
  const ok = usableSummaries(summaries);
  const { photometry: photOpts, ...astromOpts } = opts;
  const a = solveVisitAstrometry(
    ok.map((s) => ({ detector: s.detector, summary: s.summary.astrom })),
    camera,
    pointing,
    refcat,
    astromOpts,
  );
  const p = solveVisitPhotometry(
    ok.map((s) => s.summary.phot),
    a.matches,
    refcat.mag,
    photOpts,
  );
  return { astrometry: a.solution, photometry: p };
}

/** A CCD's share of the visit calibration: what quick mode's per-CCD calibration returns, and the CCD's WCS. */
export interface VisitCcdCalibration extends Calibration {
  /** the CCD's TAN-SIP WCS (undefined when the visit astrometry failed: the header WCS is kept) */
  wcs?: Wcs;
}

/**
 * Per CCD, after the gather: apply the visit result to the CCD's catalog. `magZeropoint` is the MAG_ZEROPOINT
 * the catalog's magnitudes were computed with.
 */
export function applyVisitCalibration(cat: Catalog, det: DetectorGeom, result: VisitCalibResult, magZeropoint: number): VisitCcdCalibration {
  const h = new Header();
  const a = result.astrometry;
  const stats = a.ccds.find((c) => c.detector === det.id);
  let out: Catalog = { ...cat };
  let wcs: Wcs | undefined;
  if (a.ok) {
    wcs = ccdWcsFromVisit(a, det).wcs;
    const n = cat.NUMBER.length;
    for (const [x, y, ra, dec] of [
      ['X_IMAGE', 'Y_IMAGE', 'ALPHA_J2000', 'DELTA_J2000'],
      ['XWIN_IMAGE', 'YWIN_IMAGE', 'ALPHAWIN_J2000', 'DELTAWIN_J2000'],
    ]) {
      if (!cat[x] || !cat[y]) continue;
      const r = new Float64Array(n);
      const d = new Float64Array(n);
      wcs.pixToSkyArrays(cat[x], cat[y], r, d, n);
      out[ra] = r;
      out[dec] = d;
    }
    wcs.toHeader(h);
    h.set('ASTRSTAT', 'OK', 'astrometric calibration');
    h.set('ASTRMODL', `visit-${a.model}`, 'focal-plane model of the visit fit');
    h.set('ASTRNSTR', stats?.nUsed ?? 0, 'reference stars used on this CCD');
    const rms = stats && Number.isFinite(stats.rms) ? stats.rms : a.rms;
    h.set('ASTRRMS', Number(rms.toPrecision(6)), '[arcsec] rms residual per axis', 'float');
    h.set('ASTRVNST', a.nUsed, 'reference stars used in the visit fit');
    h.set('ASTRVRMS', Number(a.rms.toPrecision(6)), '[arcsec] rms residual per axis of the visit', 'float');
  } else {
    h.set('ASTRSTAT', 'FAILED', 'astrometric calibration');
    h.set('ASTRMSG', `visit: ${a.reason ?? 'unknown'}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 68));
  }
  const p = result.photometry;
  if (a.ok && Number.isFinite(p.zeroPoint)) {
    out = applyVisitZeroPoint(out, p, magZeropoint);
    h.set('MAGZERO', Number(p.zeroPoint.toFixed(5)), 'zero point: MAG = -2.5 log10(flux) + MAGZERO', 'float');
    h.set('MAGZERR', Number(p.zeroPointErr.toPrecision(4)), 'zero-point uncertainty (mag)', 'float');
    h.set('APCORR', Number(p.apcorr.toFixed(5)), 'aperture correction of MAG_APER(1) (mag)', 'float');
    h.set('MAGZPHOT', p.kind, 'photometry of the zero point');
    h.set('PHOTNSTR', p.nStars, 'stars in the visit zero point');
  }
  return {
    catalog: out,
    cards: h.cards.map((k) => ({ ...k })),
    wcs,
    astrometryOk: a.ok,
    rmsArcsec: a.ok && stats ? stats.rms : NaN,
    nStars: stats?.nUsed ?? 0,
    zeroPoint: a.ok ? p.zeroPoint : NaN,
    zeroPointErr: a.ok ? p.zeroPointErr : NaN,
    apcorr: a.ok ? p.apcorr : NaN,
  };
}

/** Summary, reducer and application in one process, CCDs in any order (results in the order given). */
export function calibrateVisit(
  ccds: readonly { det: DetectorGeom; catalog: Catalog }[],
  camera: Camera,
  pointing: Pointing,
  refcat: RefCatalog,
  opts: VisitCalibOptions & { magZeropoint?: number; summary?: VisitAstromSummaryOptions } = {},
): { result: VisitCalibResult; ccds: VisitCcdCalibration[] } {
  const { magZeropoint, summary, ...solveOpts } = opts;
  const summaries = ccds.map((c) => ({ detector: c.det.id, summary: visitCalibSummary(c.catalog, c.det, summary) }));
  const result = solveVisitCalibration(summaries, camera, pointing, refcat, solveOpts);
  return { result, ccds: ccds.map((c) => applyVisitCalibration(c.catalog, c.det, result, magZeropoint ?? 0)) };
}
