/**
 * Astrometric solution of detections in any frame (one CCD's pixels in quick mode, the focal plane of a whole
 * visit in production) from an approximate prior solution:
 *  1. pattern match (match-pattern.ts) of the brightest detections, placed on the tangent plane by the prior,
 *     against the brightest reference stars around the frame; when that fails (e.g. the brightest references are
 *     saturated in the image) fainter windows of the reference list are tried;
 *  2. iterations of one-to-one nearest-neighbour matching with a shrinking radius and the fit (fit-accum.ts):
 *     each round accumulates the pairs of every part (CCD) about the current solution, merges the parts in id
 *     order and solves centrally, with sigma clipping; the model grows from affine to TAN-SIP of the configured
 *     order as the matches allow (fewer stars: similarity, shift).
 * The result is a TAN-SIP `Wcs` of the frame (CRPIX = frame reference point) with its residual rms.
 */
import { accumulateAstrom, fitRounds, mergeAstrom, type AstromAccum, type AstromPairs } from './fit-accum.js';
import { applyCorrection, modelName, StateEvaluator, type AstromState, type FitFrame, type FitModel } from './fit-model.js';
import { termCount } from './fit-poly.js';
import { stateToWcs } from './fit-sip.js';
import { matchNearest, PlaneGrid } from './match-nn.js';
import { matchPattern, type PatternOptions, type PatternResult } from './match-pattern.js';
import { deprojectPoint, projectArrays, type PlanePoints } from './match-plane.js';
import { propagateToEpoch, subsetCatalog, type RefCatalog } from './refcat.js';
import { angularDistance, type SipParams, type Wcs } from './wcs.js';

/** Detections in the fit frame. */
export interface AstromSources {
  n: number;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** brightness ranking (larger = brighter) */
  flux: ArrayLike<number>;
  /** 1-sigma position error per axis (frame units), e.g. ERRAWIN_IMAGE in quick mode */
  posErr?: ArrayLike<number>;
  flags?: ArrayLike<number>;
  snr?: ArrayLike<number>;
  /** part (CCD id) of each source: pairs are accumulated per part and merged in id order (default one part, 0) */
  part?: ArrayLike<number>;
}

export interface AstromOptions extends PatternOptions {
  /** Highest TAN-SIP order (default 3). */
  order?: number;
  /** Stars required per polynomial term before an order is used (default 3). */
  starsPerTerm?: number;
  /** Sources with these FLAGS bits are not fitted (default saturated, truncated, and above: 0xfc). */
  badFlags?: number;
  /** Sources with these FLAGS bits are left out of the pattern match (default 0: saturated stars help there). */
  patternBadFlags?: number;
  /** Minimum SNR of the sources used (default 5; ignored without snr). */
  minSnr?: number;
  /** Position error assumed when the sources have none (frame units, default 0.1). */
  defaultPosErr?: number;
  /** Reference position error per axis (arcsec, default 0.005), used where `refErrors` has none. */
  refError?: number;
  /** Per-row reference position errors per axis (arcsec), aligned with the rows of the reference catalogue given. */
  refErrors?: ArrayLike<number>;
  /** Systematic error added in quadrature (arcsec, default 0.005). */
  sysError?: number;
  /** Sigma clipping of the fit (default 3). */
  clipSigma?: number;
  /** Smallest nearest-neighbour matching radius (arcsec, default 1). */
  minRadius?: number;
  /** Matching radius = this x the radial rms of the previous fit, shrinking only (default 5). */
  radiusFactor?: number;
  /** Match/fit iterations (default 8). */
  maxIterations?: number;
  /** Windows of the reference list tried by the pattern match (default 6). */
  maxRefWindows?: number;
  /**
   * Reference magnitudes used by the pattern match (default all): e.g. fainter than the saturation limit when
   * saturated detections are left out (patternBadFlags 4) over a whole focal plane. The fit uses every star.
   */
  patternRefMag?: [number, number];
  /** Julian epoch of the observation: reference positions are moved by their proper motions. */
  epoch?: number;
}

export interface AstromResult {
  ok: boolean;
  reason?: string;
  /** The fitted TAN-SIP WCS of the frame (the prior's when not ok). */
  wcs: Wcs;
  sip?: SipParams;
  state: AstromState;
  /** The last model fitted ('poly3', 'affine', ...; 'none'). */
  model: string;
  /** Per-axis rms of the residuals of the pairs used (arcsec, and frame units at the reference point's scale). */
  rms: number;
  rmsPixels: number;
  /** Final pairs: source index, reference index into `refs`, row of the catalogue given, used (1) or clipped (0). */
  pairs: { source: Int32Array; ref: Int32Array; refRow: Int32Array; used: Uint8Array };
  nUsed: number;
  nRejected: number;
  /** The reference stars around the frame, brightest first (after proper motions), and their rows in the catalogue given. */
  refs: RefCatalog;
  refRows: Int32Array;
  /** The pattern match (its `det` / `ref` indices are source indices and indices into `refs`). */
  pattern?: PatternResult;
  iterations: number;
  /** Largest error of the SIP reverse polynomials (frame units). */
  inverseMaxError: number;
}

/** The richest model `n` pairs support: TAN-SIP poly of order <= maxOrder, affine, similarity, shift. */
export function chooseModel(n: number, maxOrder: number, starsPerTerm = 3): FitModel | undefined {
  for (let o = maxOrder; o >= 2; o--) if (n >= starsPerTerm * termCount(o)) return { kind: 'poly', order: o };
  if (maxOrder >= 1 && n >= starsPerTerm * 3) return { kind: 'affine' };
  if (n >= 3) return { kind: 'similarity' };
  if (n >= 1) return { kind: 'shift' };
  return undefined;
}

/** Rows of a catalogue within `radius` deg of (ra, dec), brightest first (ties: row order; NaN magnitudes last). */
function refsAround(cat: RefCatalog, ra: number, dec: number, radius: number): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < cat.n; i++) {
    if (Math.abs(cat.dec[i] - dec) <= radius && angularDistance(ra, dec, cat.ra[i], cat.dec[i]) <= radius) rows.push(i);
  }
  const m = cat.mag;
  rows.sort((a, b) => {
    const na = Number.isNaN(m[a]);
    const nb = Number.isNaN(m[b]);
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    return m[a] - m[b] || a - b;
  });
  return Int32Array.from(rows);
}

/** Sky circle (deg) covering a frame's box under a solution: centre at the box centre, radius to the farthest border point. */
function footprint(s: AstromState): { lon: number; lat: number; radius: number } {
  const [x0, y0, x1, y1] = s.frame.box;
  const ev = new StateEvaluator(s);
  const sky = (x: number, y: number): [number, number] => {
    ev.eval(x, y);
    return deprojectPoint(ev.xi, ev.eta, s.crval[0], s.crval[1]);
  };
  const [lon, lat] = sky((x0 + x1) / 2, (y0 + y1) / 2);
  let radius = 0;
  const steps = 16;
  for (let k = 0; k < 4 * steps; k++) {
    const t = (k % steps) / steps;
    const side = Math.floor(k / steps);
    const x = x0 + (side === 0 ? t : side === 1 ? 1 : side === 2 ? 1 - t : 0) * (x1 - x0);
    const y = y0 + (side === 0 ? 0 : side === 1 ? t : side === 2 ? 1 : 1 - t) * (y1 - y0);
    const [a, d] = sky(x, y);
    const r = angularDistance(lon, lat, a, d);
    if (Number.isFinite(r)) radius = Math.max(radius, r);
  }
  return { lon, lat, radius: Number.isFinite(lon) && Number.isFinite(lat) ? radius : NaN };
}

/** Pattern match over windows of the (brightest-first) reference plane: [0, nr), [nr/2, 3nr/2), ... */
function patternOverWindows(det: PlanePoints, ref: PlanePoints, nr: number, maxWindows: number, opts: PatternOptions): PatternResult {
  let first: PatternResult | undefined;
  const step = Math.max(1, Math.floor(nr / 2));
  let tried = 0;
  for (let w = 0, start = 0; w < maxWindows && (w === 0 || start + step < ref.n); w++, start += step) {
    const sub: PlanePoints = { xi: ref.xi.subarray(start), eta: ref.eta.subarray(start), n: ref.n - start };
    const r = matchPattern(det, sub, { ...opts, maxReferences: nr });
    tried += r.tried;
    if (r.ok) return { ...r, ref: Int32Array.from(r.ref, (j) => j + start), tried };
    first ??= r;
  }
  return { ...first!, tried };
}

/** Solve the astrometry of `src` (frame coordinates) from the prior solution `prior`. */
export function solveAstrometry(src: AstromSources, prior: AstromState, refcat: RefCatalog, opts: AstromOptions = {}): AstromResult {
  const frame: FitFrame = prior.frame;
  const maxOrder = opts.order ?? 3;
  const maxOffset = opts.maxOffset ?? 180;
  const maxRot = ((opts.maxRotation ?? 3) * Math.PI) / 180;
  const maxScale = opts.maxScale ?? 0.02;
  const tol = opts.tolerance ?? 2;
  const minSnr = opts.minSnr ?? 5;
  // arcsec per frame unit at the reference point
  const unit = Math.sqrt(Math.abs(prior.cx[1] * prior.cy[2] - prior.cx[2] * prior.cy[1])) / frame.scale;
  const fail = (reason: string, refs: RefCatalog, refRows: Int32Array, pattern?: PatternResult): AstromResult => {
    const w = stateToWcs(prior);
    return {
      ok: false,
      reason,
      wcs: w.wcs,
      sip: w.sip,
      state: prior,
      model: 'none',
      rms: NaN,
      rmsPixels: NaN,
      pairs: { source: new Int32Array(0), ref: new Int32Array(0), refRow: new Int32Array(0), used: new Uint8Array(0) },
      nUsed: 0,
      nRejected: 0,
      refs,
      refRows,
      pattern,
      iterations: 0,
      inverseMaxError: w.inverseMaxError,
    };
  };
  // reference stars around the frame, allowing for the offset, rotation and scale errors searched
  const cone = footprint(prior);
  if (!(cone.radius > 0)) return fail('the prior solution does not map the frame to the sky', subsetCatalog(refcat, []), new Int32Array(0));
  const radius = cone.radius + (maxOffset + cone.radius * 3600 * (maxRot + maxScale) + 2 * tol) / 3600;
  const refRows = refsAround(refcat, cone.lon, cone.lat, radius);
  let refs = subsetCatalog(refcat, refRows);
  if (opts.epoch !== undefined) refs = propagateToEpoch(refs, opts.epoch);

  // usable sources (for the fit, and for the pattern), brightest first
  const select = (bad: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < src.n; i++) {
      if (!(Number.isFinite(src.x[i]) && Number.isFinite(src.y[i]) && src.flux[i] > 0)) continue;
      if (src.flags && (src.flags[i] & bad) !== 0) continue;
      if (src.snr && !(src.snr[i] >= minSnr)) continue;
      out.push(i);
    }
    return out.sort((a, b) => src.flux[b] - src.flux[a] || a - b);
  };
  const usable = select(opts.badFlags ?? 0xfc);
  const bright = select(opts.patternBadFlags ?? 0);
  if (usable.length === 0) return fail('no usable sources', refs, refRows);
  if (refs.n === 0) return fail('no reference stars around the frame', refs, refRows);
  const detPlane = (state: AstromState, idx: readonly number[]): PlanePoints => {
    const ev = new StateEvaluator(state);
    const xi = new Float64Array(idx.length);
    const eta = new Float64Array(idx.length);
    idx.forEach((i, k) => {
      ev.eval(src.x[i], src.y[i]);
      xi[k] = ev.xi;
      eta[k] = ev.eta;
    });
    return { xi, eta, n: idx.length };
  };

  // 1. pattern match on the prior's plane; the references searched cover a larger area than the frame, so more
  // are taken: about 1.5 per bright detection over the frame itself
  const nd = Math.min(bright.length, opts.maxDetections ?? 50);
  const nr = opts.maxReferences ?? Math.min(600, Math.max(nd, Math.ceil(1.5 * nd * (radius / cone.radius) ** 2)));
  const [mlo, mhi] = opts.patternRefMag ?? [-Infinity, Infinity];
  const patRefs = Array.from(refs.mag.keys()).filter((j) => !(refs.mag[j] < mlo || refs.mag[j] > mhi));
  const refPlane0 = projectArrays(
    Float64Array.from(patRefs, (j) => refs.ra[j]),
    Float64Array.from(patRefs, (j) => refs.dec[j]),
    prior.crval[0],
    prior.crval[1],
  );
  const found = patternOverWindows(detPlane(prior, bright), refPlane0, nr, opts.maxRefWindows ?? 6, { ...opts, maxOffset, tolerance: tol, maxDetections: nd });
  const pattern: PatternResult = { ...found, det: Int32Array.from(found.det, (k) => bright[k]), ref: Int32Array.from(found.ref, (k) => patRefs[k]) };
  if (!pattern.ok) return fail(`pattern match failed: ${pattern.reason}`, refs, refRows, pattern);
  const t = pattern.transform;
  let state = applyCorrection(prior, { kind: 'similarity' }, Float64Array.of(t.tx, t.ty, t.a - 1, t.b));

  // 2. nearest-neighbour matching with a shrinking radius, and the fit
  let r = opts.verifyRadius ?? 2 * tol;
  const defErr = opts.defaultPosErr ?? 0.1;
  const refErr = opts.refError ?? 0.005;
  const accOpts = { sysError: opts.sysError ?? 0.005 };
  let last: { parts: { id: number; pairs: AstromPairs; rows: Int32Array }[]; src: Int32Array; ref: Int32Array; model: FitModel; clip: number } | undefined;
  let iterations = 0;
  for (let it = 1; it <= (opts.maxIterations ?? 8); it++) {
    iterations = it;
    const refPlane = projectArrays(refs.ra, refs.dec, state.crval[0], state.crval[1]);
    const m = matchNearest(detPlane(state, usable), refPlane, r, new PlaneGrid(refPlane, r));
    const model = chooseModel(m.n, it === 1 ? Math.min(maxOrder, 1) : maxOrder, opts.starsPerTerm);
    if (!model) return fail(`no matches within ${r.toFixed(2)} arcsec`, refs, refRows, pattern);
    const srcIdx = Int32Array.from(m.ia, (k) => usable[k]);
    const sigma = Float64Array.from(srcIdx, (i, k) => {
      const e = src.posErr && src.posErr[i] > 0 ? src.posErr[i] : defErr;
      const re = opts.refErrors?.[refRows[m.ib[k]]];
      return Math.hypot(e * unit, re !== undefined && re >= 0 ? re : refErr);
    });
    const parts = splitParts(src, srcIdx, m.ib, refs, sigma);
    const accumulate = (s: AstromState, clip: number, used?: Uint8Array): AstromAccum => {
      const accs = parts.map((p) => {
        const u = used ? new Uint8Array(p.pairs.n) : undefined;
        const a = accumulateAstrom(p.pairs, s, model, { ...accOpts, clip, id: p.id, used: u });
        if (used && u) p.rows.forEach((k, q) => (used[k] = u[q]));
        return a;
      });
      return mergeAstrom(accs);
    };
    const res = fitRounds((s, clip) => accumulate(s, clip), state, model, { clipSigma: opts.clipSigma, maxRounds: 12 });
    if (!res.ok) {
      if (!last) return fail(res.reason ?? 'fit failed', refs, refRows, pattern);
      break;
    }
    const same = last !== undefined && modelName(last.model) === modelName(model) && last.src.length === srcIdx.length && last.src.every((v, k) => v === srcIdx[k]) && last.ref.every((v, k) => v === m.ib[k]);
    state = res.state;
    last = { parts, src: srcIdx, ref: m.ib, model, clip: res.clip };
    const rNext = Math.max(opts.minRadius ?? 1, Math.min(r, (opts.radiusFactor ?? 5) * Math.SQRT2 * res.rms));
    if (same && rNext === r) break;
    r = rNext;
  }
  if (!last) return fail('no fit', refs, refRows, pattern);
  // the final pairs' residuals about the final state
  const used = new Uint8Array(last.src.length);
  const final = mergeAstrom(
    last.parts.map((p) => {
      const u = new Uint8Array(p.pairs.n);
      const a = accumulateAstrom(p.pairs, state, last!.model, { ...accOpts, clip: last!.clip, id: p.id, used: u });
      p.rows.forEach((k, q) => (used[k] = u[q]));
      return a;
    }),
  );
  const rms = final.n > 0 ? Math.sqrt(final.sumSq / (2 * final.n)) : NaN;
  const minUsed = Math.min(pattern.nMatched, opts.minMatches ?? 6);
  if (!(final.n >= minUsed && rms < tol)) return fail(`implausible solution: ${final.n} pairs used, rms ${rms.toFixed(3)} arcsec`, refs, refRows, pattern);
  const sip = stateToWcs(state);
  return {
    ok: true,
    wcs: sip.wcs,
    sip: sip.sip,
    state,
    model: modelName(last.model),
    rms,
    rmsPixels: rms / unit,
    pairs: { source: last.src, ref: last.ref, refRow: Int32Array.from(last.ref, (j) => refRows[j]), used },
    nUsed: final.n,
    nRejected: final.nRejected,
    refs,
    refRows,
    pattern,
    iterations,
    inverseMaxError: sip.inverseMaxError,
  };
}

/** Pairs grouped by part (ascending id); `rows` maps each part's pairs back to the combined pair list. */
function splitParts(src: AstromSources, srcIdx: Int32Array, refIdx: Int32Array, refs: RefCatalog, sigma: Float64Array): { id: number; pairs: AstromPairs; rows: Int32Array }[] {
  const ids = [...new Set(Array.from(srcIdx, (i) => (src.part ? src.part[i] : 0)))].sort((a, b) => a - b);
  return ids.map((id) => {
    const rows = Int32Array.from(
      Array.from(srcIdx.keys()).filter((k) => (src.part ? src.part[srcIdx[k]] : 0) === id),
    );
    const pairs: AstromPairs = {
      n: rows.length,
      x: Float64Array.from(rows, (k) => src.x[srcIdx[k]]),
      y: Float64Array.from(rows, (k) => src.y[srcIdx[k]]),
      ra: Float64Array.from(rows, (k) => refs.ra[refIdx[k]]),
      dec: Float64Array.from(rows, (k) => refs.dec[refIdx[k]]),
      sigma: Float64Array.from(rows, (k) => sigma[k]),
    };
    return { id, pairs, rows };
  });
}
