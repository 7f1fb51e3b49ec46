/**
 * Production astrometry, reducer side: ONE astrometric solution of a whole visit in focal-plane coordinates.
 * Every CCD's summary (visit-summary.ts) is one part of the fit (parts accumulated separately and merged in
 * detector order, fit-solve.ts); the prior is the camera model (from the raw headers' WCS: relative CCD
 * placement right, no distortion, pointing tens of arcsec off) as a focal-plane -> sky solution. One pattern
 * match of the whole focal plane against the reference catalogue fixes pointing and rotation, then the
 * iterations fit the polynomial of the focal plane (order up to 5 by default: it absorbs the optical distortion
 * the camera model lacks); CCDs with enough stars get significant per-CCD affine corrections of their placement
 * (visit-affine.ts). CCDs with few or no stars get their WCS from the focal-plane solution.
 * The result is small (the solution state and per-CCD statistics) and is the same whatever order the summaries
 * arrive in. ccdWcsFromVisit() re-expresses the solution as one CCD's TAN-SIP WCS.
 */
import { focalPlaneBounds, focalToPixel, focalToSky, pixelToFocal, skyToFocal } from '../camera/geometry.js';
import type { Camera, DetectorGeom, Pointing } from '../camera/types.js';
import { pixelFrame, StateEvaluator, stateToSky, type AstromState, type FitFrame } from './fit-model.js';
import { stateFromMapping, wcsFromMapping, type SipWcs } from './fit-sip.js';
import { solveAstrometry, type AstromOptions } from './fit-solve.js';
import { projectPoint } from './match-plane.js';
import { subsetCatalog, type RefCatalog } from './refcat.js';
import type { VisitAstromSummary } from './visit-summary.js';
import { applyAffine, identityAffine, updateAffine, type AffineStepOptions, type CcdAffine } from './visit-affine.js';

/** A gathered summary: the executor's shape (a failed CCD carries a message instead). */
export interface GatheredSummary<S> {
  detector: number;
  summary: S | { failed: true; message: string };
}

export interface VisitCcdAstromStats {
  detector: number;
  /** summary entries posted */
  nSources: number;
  /** pairs matched to the reference catalogue, and those kept by the clipping */
  nMatched: number;
  nUsed: number;
  /** per-axis rms (arcsec) of the kept pairs' residuals (NaN with none) */
  rms: number;
}

export interface VisitAstromSolution {
  ok: boolean;
  reason?: string;
  /** focal-plane (mm) -> sky solution (the prior when not ok) */
  state: AstromState;
  model: string;
  /** per-axis rms (arcsec) of all pairs used */
  rms: number;
  nUsed: number;
  nRejected: number;
  ccds: VisitCcdAstromStats[];
  /** per-CCD corrections of the camera geometry (only CCDs that have one), applied before the solution */
  affine: CcdAffine[];
}

/** Matched, kept pairs of one CCD: summary entry index and reference catalogue row (for the photometry). */
export interface VisitCcdMatches {
  detector: number;
  source: Int32Array;
  refRow: Int32Array;
}

export interface VisitAstromOptions extends AstromOptions {
  /** Order of the prior's grid fit of the camera model (default 5). */
  priorOrder?: number;
  /**
   * Leave saturated detections (FLAGS 4) out of the pattern match, and with them the reference stars brighter
   * than the saturation limit, estimated as the magnitude of the k-th brightest reference star in the focal
   * plane's footprint with k the number of saturated detections posted (default false: saturated detections
   * take part in the pattern match, the fit leaves them out). An explicit `patternRefMag` wins.
   */
  excludeSaturated?: boolean;
  /**
   * Reference stars are kept only within this margin (arcsec) of a detector under the prior (default: maxOffset,
   * itself default 75): on a focal plane with wide gaps the brightest references around the field would
   * otherwise mostly fall between the CCDs. Must exceed the pointing error.
   */
  refMargin?: number;
  /** A solution whose rms exceeds this (arcsec) is a false match: not ok (default Infinity; quick's ASTROM_MAXRMS). */
  maxRms?: number;
  /** Fit per-CCD affine corrections of the camera geometry (visit-affine.ts; default true). */
  ccdAffine?: boolean;
  /** Correction/refit iterations (default 3) and the per-CCD test (minStars default 15, significance default 8). */
  affineIterations?: number;
  affine?: AffineStepOptions;
}

/** Summaries that did not fail, sorted by detector id (duplicate ids are an error). */
export function usableSummaries<S>(summaries: readonly GatheredSummary<S>[]): { detector: number; summary: S }[] {
  const ok = summaries.filter((s): s is { detector: number; summary: S } => !(s.summary as { failed?: boolean }).failed);
  ok.sort((a, b) => a.detector - b.detector);
  for (let k = 1; k < ok.length; k++) if (ok[k].detector === ok[k - 1].detector) throw new RangeError(`visit astrometry: two summaries of detector ${ok[k].detector}`);
  return ok;
}

/** The focal-plane frame of a camera: reference point on the optical axis, box = bounds of its detectors. */
export function focalPlaneFrame(camera: Camera): FitFrame {
  const [x0, y0, x1, y1] = focalPlaneBounds(camera);
  return { crpix: [0, 0], scale: Math.max(-x0, -y0, x1, y1), box: [x0, y0, x1, y1], width: 0, height: 0 };
}

/**
 * The reducer body of the visit astrometry: `summaries` as gathered (any order; failed CCDs are skipped), the
 * camera and pointing of the raw headers (cameraFromHdus), the reference catalogue.
 */
export function solveVisitAstrometry(
  summaries: readonly GatheredSummary<VisitAstromSummary>[],
  camera: Camera,
  pointing: Pointing,
  refcat: RefCatalog,
  opts: VisitAstromOptions = {},
): { solution: VisitAstromSolution; matches: VisitCcdMatches[] } {
  const parts = usableSummaries(summaries).map((s) => s.summary);
  const frame = focalPlaneFrame(camera);
  const prior = stateFromMapping(frame, opts.priorOrder ?? 5, (fx, fy) => focalToSky(camera, pointing, fx, fy)).state;
  const total = parts.reduce((s, p) => s + p.n, 0);
  const src = {
    n: total,
    x: new Float64Array(total),
    y: new Float64Array(total),
    flux: new Float64Array(total),
    posErr: new Float64Array(total),
    flags: new Int32Array(total),
    snr: new Float64Array(total),
    part: new Int32Array(total),
  };
  const start: number[] = [];
  let o = 0;
  let nSat = 0;
  for (const p of parts) {
    start.push(o);
    src.x.set(p.fx, o);
    src.y.set(p.fy, o);
    src.flux.set(p.flux, o);
    src.posErr.set(p.posErr, o);
    src.flags.set(p.flags, o);
    src.snr.set(p.snr, o);
    src.part.fill(p.detector, o, o + p.n);
    for (let k = 0; k < p.n; k++) if (p.flags[k] & 4) nSat++;
    o += p.n;
  }
  const maxOffset = opts.maxOffset ?? 75;
  const keep = refsOnDetectors(camera, pointing, refcat, opts.refMargin ?? maxOffset);
  const refs = subsetCatalog(refcat, keep);
  const refErrors = opts.refErrors ? Float64Array.from(keep, (j) => opts.refErrors![j]) : undefined;
  const partOf = (i: number): number => {
    let lo = 0;
    let hi = parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (start[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  let extra: AstromOptions = {};
  if (opts.excludeSaturated && !opts.patternRefMag) extra = { patternBadFlags: 4, patternRefMag: [saturationMag(prior, refs, nSat), Infinity] };
  // position errors are in mm here: the default one is 0.1 pixel
  const defaultPosErr = opts.defaultPosErr ?? 0.1 * (camera.detectors[0]?.pixelSize ?? 0.01);
  const solveOpts: AstromOptions = { order: 5, ...opts, maxOffset, refErrors, defaultPosErr, ...extra };
  let r0 = solveAstrometry(src, prior, refs, solveOpts);
  // per-CCD affine corrections, each followed by a refit (matching again about the improved solution)
  const affines = new Map<number, CcdAffine>();
  if (r0.ok && opts.ccdAffine !== false) {
    const q0 = new Float64Array(2);
    for (let it = 0; it < (opts.affineIterations ?? 3); it++) {
      const byPart = parts.map(() => [] as number[]);
      for (let k = 0; k < r0.pairs.source.length; k++) if (r0.pairs.used[k]) byPart[partOf(r0.pairs.source[k])].push(k);
      let changed = false;
      const saved = { x: src.x.slice(), y: src.y.slice(), affines: [...affines.values()].map((a) => ({ ...a, p: a.p.slice() })) };
      parts.forEach((p, pi) => {
        const det = camera.detectors.find((d) => d.id === p.detector);
        if (!det || byPart[pi].length === 0) return;
        const ks = byPart[pi];
        const fx = Float64Array.from(ks, (k) => p.fx[r0.pairs.source[k] - start[pi]]);
        const fy = Float64Array.from(ks, (k) => p.fy[r0.pairs.source[k] - start[pi]]);
        const rx = new Float64Array(ks.length);
        const ry = new Float64Array(ks.length);
        ks.forEach((k, q) => {
          const j = r0.pairs.ref[k];
          projectPoint(r0.refs.ra[j], r0.refs.dec[j], r0.state.crval[0], r0.state.crval[1], q0);
          rx[q] = q0[0];
          ry[q] = q0[1];
        });
        const a = affines.get(p.detector) ?? identityAffine(det);
        if (!updateAffine(a, r0.state, fx, fy, rx, ry, opts.affine)) return;
        affines.set(p.detector, a);
        changed = true;
        for (let k = 0; k < p.n; k++) [src.x[start[pi] + k], src.y[start[pi] + k]] = applyAffine(a, p.fx[k], p.fy[k]);
      });
      if (!changed) break;
      const again = solveAstrometry(src, r0.state, refs, solveOpts);
      if (!again.ok) {
        // keep the last good solution and the corrections it was made with
        src.x.set(saved.x);
        src.y.set(saved.y);
        affines.clear();
        for (const a of saved.affines) affines.set(a.detector, a);
        break;
      }
      r0 = again;
    }
  }
  if (r0.ok && r0.rms > (opts.maxRms ?? Infinity)) {
    r0 = { ...r0, ok: false, reason: `residual rms ${r0.rms.toFixed(3)}" > ${opts.maxRms}" (likely a false match)`, state: prior };
    affines.clear();
  }
  // reference rows of the catalogue given
  const r = { ...r0, pairs: { ...r0.pairs, refRow: Int32Array.from(r0.pairs.refRow, (j) => keep[j]) } };
  // per-CCD statistics and kept pairs, residuals about the final state
  const ev = new StateEvaluator(r.state);
  const q = new Float64Array(2);
  const acc = parts.map(() => ({ matched: 0, used: [] as number[], rows: [] as number[], ss: 0 }));
  if (r.ok) {
    for (let k = 0; k < r.pairs.source.length; k++) {
      const i = r.pairs.source[k];
      const pi = partOf(i);
      const a = acc[pi];
      a.matched++;
      if (!r.pairs.used[k]) continue;
      const row = r.pairs.refRow[k];
      const ref = r.refs;
      const j = r.pairs.ref[k];
      ev.eval(src.x[i], src.y[i]);
      projectPoint(ref.ra[j], ref.dec[j], r.state.crval[0], r.state.crval[1], q);
      a.ss += (q[0] - ev.xi) ** 2 + (q[1] - ev.eta) ** 2;
      a.used.push(i - start[pi]);
      a.rows.push(row);
    }
  }
  const ccds: VisitCcdAstromStats[] = parts.map((p, k) => ({
    detector: p.detector,
    nSources: p.n,
    nMatched: acc[k].matched,
    nUsed: acc[k].used.length,
    rms: acc[k].used.length > 0 ? Math.sqrt(acc[k].ss / (2 * acc[k].used.length)) : NaN,
  }));
  const matches: VisitCcdMatches[] = parts.map((p, k) => {
    // pairs in summary-entry order
    const idx = acc[k].used.map((_, q2) => q2).sort((a, b) => acc[k].used[a] - acc[k].used[b]);
    return { detector: p.detector, source: Int32Array.from(idx, (q2) => acc[k].used[q2]), refRow: Int32Array.from(idx, (q2) => acc[k].rows[q2]) };
  });
  const solution: VisitAstromSolution = {
    ok: r.ok,
    reason: r.reason,
    state: r.state,
    model: r.model,
    rms: r.rms,
    nUsed: r.nUsed,
    nRejected: r.nRejected,
    ccds,
    affine: [...affines.values()].sort((a, b) => a.detector - b.detector),
  };
  if (solution.reason === undefined) delete solution.reason;
  return { solution, matches };
}

/** Rows of the reference catalogue within `margin` arcsec of a detector under the camera model at the pointing. */
export function refsOnDetectors(camera: Camera, pointing: Pointing, refcat: RefCatalog, margin: number): Int32Array {
  const boxes = camera.detectors.map((det) => {
    const m = margin / (camera.plateScale * det.pixelSize);
    return { det, x0: -0.5 - m, y0: -0.5 - m, x1: det.width - 0.5 + m, y1: det.height - 0.5 + m };
  });
  const [bx0, by0, bx1, by1] = focalPlaneBounds(camera);
  const mm = margin / camera.plateScale;
  const rows: number[] = [];
  for (let i = 0; i < refcat.n; i++) {
    const [fx, fy] = skyToFocal(camera, pointing, refcat.ra[i], refcat.dec[i]);
    if (!(fx >= bx0 - mm && fx <= bx1 + mm && fy >= by0 - mm && fy <= by1 + mm)) continue;
    for (const b of boxes) {
      const [x, y] = focalToPixel(b.det, fx, fy);
      if (x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1) {
        rows.push(i);
        break;
      }
    }
  }
  return Int32Array.from(rows);
}

/** Magnitude of the k-th brightest reference star over the prior's footprint (the saturation limit estimate). */
function saturationMag(prior: AstromState, refcat: RefCatalog, k: number): number {
  if (k <= 0) return -Infinity;
  const [x0, y0, x1, y1] = prior.frame.box;
  const ev = new StateEvaluator(prior);
  const [, dec] = stateToSky(ev, (x0 + x1) / 2, (y0 + y1) / 2);
  const q = new Float64Array(2);
  // the footprint as the prior's tangent-plane box (arcsec)
  let xiMin = Infinity;
  let xiMax = -Infinity;
  let etaMin = Infinity;
  let etaMax = -Infinity;
  for (const [x, y] of [
    [x0, y0],
    [x1, y0],
    [x0, y1],
    [x1, y1],
  ]) {
    ev.eval(x, y);
    xiMin = Math.min(xiMin, ev.xi);
    xiMax = Math.max(xiMax, ev.xi);
    etaMin = Math.min(etaMin, ev.eta);
    etaMax = Math.max(etaMax, ev.eta);
  }
  const mags: number[] = [];
  for (let i = 0; i < refcat.n; i++) {
    if (Math.abs(refcat.dec[i] - dec) > 10 || !projectPoint(refcat.ra[i], refcat.dec[i], prior.crval[0], prior.crval[1], q)) continue;
    if (q[0] >= xiMin && q[0] <= xiMax && q[1] >= etaMin && q[1] <= etaMax && Number.isFinite(refcat.mag[i])) mags.push(refcat.mag[i]);
  }
  mags.sort((a, b) => a - b);
  return mags.length === 0 ? -Infinity : mags[Math.min(k, mags.length) - 1];
}

/**
 * One CCD's TAN-SIP WCS (1-based pixels, CRPIX at the image centre) from the visit solution: the focal-plane
 * solution composed with the CCD's pixel -> focal-plane map, fitted on a grid (order = the solution's, at most 5).
 */
export function ccdWcsFromVisit(solution: Pick<VisitAstromSolution, 'state' | 'affine'>, det: DetectorGeom, order = Math.min(5, Math.max(1, solution.state.order))): SipWcs & { maxError: number } {
  const ev = new StateEvaluator(solution.state);
  const a = solution.affine.find((c) => c.detector === det.id);
  return wcsFromMapping(pixelFrame(det.width, det.height), order, (x, y) => {
    const [fx, fy] = pixelToFocal(det, x - 1, y - 1);
    return a ? stateToSky(ev, ...applyAffine(a, fx, fy)) : stateToSky(ev, fx, fy);
  });
}
