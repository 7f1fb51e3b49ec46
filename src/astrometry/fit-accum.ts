/**
 * ACCUMULATE -> MERGE -> SOLVE for the astrometric fit.
 *
 * accumulateAstrom() turns the matched pairs of one CCD (or any subset) into the normal equations of the
 * linearised problem about the current solution: A = sum w g g^T, b = sum w g r over the xi and eta rows of
 * each pair (g: design row, r: residual reference - model, arcsec), plus sum w r^2, counts and a fixed-bin
 * histogram of the normalised residuals (for a robust scale). Everything is a plain sum, so mergeAstrom() is
 * associative; it adds the parts in a deterministic order (by id). solveAstrom() solves the merged system
 * centrally and returns the corrected solution. fitRounds() iterates accumulate/solve with sigma clipping.
 *
 * In production the pairs of every CCD are accumulated against the SAME state (frame = focal plane), the
 * parts merged, and the one solution broadcast for the next round; quick mode does the same with one part.
 */
import { solveSpd } from './fit-poly.js';
import { applyCorrection, correctionSize, designRows, modelName, paramCount, StateEvaluator, type AstromState, type FitModel } from './fit-model.js';
import { projectPoint } from './match-plane.js';

/** Matched pairs: frame coordinates of detections and sky positions of their reference stars. */
export interface AstromPairs {
  n: number;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** reference position (deg) */
  ra: ArrayLike<number>;
  dec: ArrayLike<number>;
  /** 1-sigma error per axis (arcsec) of detection and reference combined */
  sigma: ArrayLike<number>;
}

/** Normal equations and statistics of a set of pairs about one state. */
export interface AstromAccum {
  /** Sort key for a deterministic merge (e.g. the detector id). */
  id: number;
  model: string;
  nParams: number;
  /** Tangent point of the state the sums refer to (parts must agree). */
  crval: [number, number];
  /** nParams x nParams (upper triangle filled) and nParams. */
  ata: Float64Array;
  atb: Float64Array;
  /** pairs used, and rejected by the clip */
  n: number;
  nRejected: number;
  /** sum w (dxi^2 + deta^2) and sum (dxi^2 + deta^2) (arcsec^2) over the pairs used */
  chi2: number;
  sumSq: number;
  /** histogram of the normalised residual |r| / sigma of every finite pair (HIST_* bins) */
  hist: Float64Array;
}

/** Normalised-residual histogram: log10 bins from 10^HIST_LO, HIST_PER_DECADE per decade, under/overflow at the ends. */
const HIST_LO = -4;
const HIST_PER_DECADE = 25;
const HIST_BINS = 8 * HIST_PER_DECADE + 2;

function histBin(chi: number): number {
  if (!(chi > 0)) return 0;
  const b = Math.floor((Math.log10(chi) - HIST_LO) * HIST_PER_DECADE) + 1;
  return b < 1 ? 0 : b > HIST_BINS - 2 ? HIST_BINS - 1 : b;
}

export interface AccumOptions {
  /** Part id for the merge order. Default 0. */
  id?: number;
  /** Systematic error added in quadrature to every sigma (arcsec). Default 0. */
  sysError?: number;
  /** Reject pairs whose normalised residual |r| / sigma exceeds this. Default Infinity. */
  clip?: number;
  /** Output: used[i] = 1 when pair i entered the sums, 0 when rejected or not finite. */
  used?: Uint8Array;
}

/** Accumulate the normal equations of `pairs` for a model correction about `state`. */
export function accumulateAstrom(pairs: AstromPairs, state: AstromState, model: FitModel, opts: AccumOptions = {}): AstromAccum {
  const np = paramCount(model);
  const ata = new Float64Array(np * np);
  const atb = new Float64Array(np);
  const hist = new Float64Array(HIST_BINS);
  const ev = new StateEvaluator(state, model.kind === 'poly' ? model.order : 0);
  const gx = new Float64Array(np);
  const gy = new Float64Array(np);
  const q = new Float64Array(2);
  const sys2 = (opts.sysError ?? 0) ** 2;
  const clip = opts.clip ?? Infinity;
  const basisOrder = model.kind === 'poly' ? model.order : state.order;
  let n = 0;
  let nRejected = 0;
  let chi2 = 0;
  let sumSq = 0;
  for (let i = 0; i < pairs.n; i++) {
    if (opts.used) opts.used[i] = 0;
    const s2 = pairs.sigma[i] * pairs.sigma[i] + sys2;
    if (!(s2 > 0) || !projectPoint(pairs.ra[i], pairs.dec[i], state.crval[0], state.crval[1], q)) continue;
    ev.eval(pairs.x[i], pairs.y[i], basisOrder);
    const rx = q[0] - ev.xi;
    const ry = q[1] - ev.eta;
    const r2 = rx * rx + ry * ry;
    if (!Number.isFinite(r2)) continue;
    const w = 1 / s2;
    const chi = Math.sqrt(r2 * w);
    hist[histBin(chi)]++;
    if (chi > clip) {
      nRejected++;
      continue;
    }
    if (opts.used) opts.used[i] = 1;
    designRows(model, ev, gx, gy);
    for (let r = 0; r < np; r++) {
      const ax = w * gx[r];
      const ay = w * gy[r];
      atb[r] += ax * rx + ay * ry;
      const row = r * np;
      for (let c = r; c < np; c++) ata[row + c] += ax * gx[c] + ay * gy[c];
    }
    n++;
    chi2 += w * r2;
    sumSq += r2;
  }
  return { id: opts.id ?? 0, model: modelName(model), nParams: np, crval: [state.crval[0], state.crval[1]], ata, atb, n, nRejected, chi2, sumSq, hist };
}

/** Sum accumulations made about the same state and model, in increasing id order (ties: input order). */
export function mergeAstrom(parts: readonly AstromAccum[]): AstromAccum {
  if (parts.length === 0) throw new RangeError('mergeAstrom: no parts');
  const order = parts.map((p, i) => ({ p, i })).sort((a, b) => a.p.id - b.p.id || a.i - b.i);
  const first = order[0].p;
  const out: AstromAccum = {
    id: first.id,
    model: first.model,
    nParams: first.nParams,
    crval: [first.crval[0], first.crval[1]],
    ata: new Float64Array(first.ata.length),
    atb: new Float64Array(first.atb.length),
    n: 0,
    nRejected: 0,
    chi2: 0,
    sumSq: 0,
    hist: new Float64Array(first.hist.length),
  };
  for (const { p } of order) {
    if (p.model !== out.model || p.nParams !== out.nParams) throw new RangeError(`mergeAstrom: model ${p.model} of part ${p.id} differs from ${out.model}`);
    if (p.crval[0] !== out.crval[0] || p.crval[1] !== out.crval[1]) throw new RangeError(`mergeAstrom: part ${p.id} was accumulated about another tangent point`);
    for (let k = 0; k < p.ata.length; k++) out.ata[k] += p.ata[k];
    for (let k = 0; k < p.atb.length; k++) out.atb[k] += p.atb[k];
    for (let k = 0; k < p.hist.length; k++) out.hist[k] += p.hist[k];
    out.n += p.n;
    out.nRejected += p.nRejected;
    out.chi2 += p.chi2;
    out.sumSq += p.sumSq;
  }
  return out;
}

/** Median of the normalised residuals from the histogram (log-interpolated within the bin); NaN when empty. */
export function histMedian(hist: Float64Array): number {
  let total = 0;
  for (let k = 0; k < hist.length; k++) total += hist[k];
  if (total === 0) return NaN;
  const half = total / 2;
  let cum = 0;
  for (let k = 0; k < hist.length; k++) {
    if (cum + hist[k] >= half) {
      if (k === 0) return 10 ** HIST_LO;
      if (k === hist.length - 1) return 10 ** (HIST_LO + (HIST_BINS - 2) / HIST_PER_DECADE);
      const f = hist[k] > 0 ? (half - cum) / hist[k] : 0.5;
      return 10 ** (HIST_LO + (k - 1 + f) / HIST_PER_DECADE);
    }
    cum += hist[k];
  }
  return NaN;
}

/** Robust per-axis scale of the normalised residuals: median(|r| / sigma) / sqrt(2 ln 2) (2-D Gaussian). */
export function robustScale(hist: Float64Array): number {
  return histMedian(hist) / Math.sqrt(2 * Math.LN2);
}

export interface SolveResult {
  /** The corrected state (undefined when the system is singular or under-determined). */
  state?: AstromState;
  /** The correction's parameters and an upper bound of its displacement (arcsec). */
  params?: Float64Array;
  size: number;
}

/** Solve merged normal equations for the correction of `state` (the state they were accumulated about). */
export function solveAstrom(acc: AstromAccum, state: AstromState, model: FitModel): SolveResult {
  if (acc.model !== modelName(model)) throw new RangeError(`solveAstrom: accumulation is for ${acc.model}, not ${modelName(model)}`);
  if (2 * acc.n < acc.nParams) return { size: Infinity };
  const p = solveSpd(acc.ata, acc.atb, acc.nParams);
  if (!p) return { size: Infinity };
  return { state: applyCorrection(state, model, p), params: p, size: correctionSize(state, model, p) };
}

export interface RoundsOptions {
  /** Clip at this many robust sigmas of the normalised residuals, never below this many modelled sigmas. Default 3. */
  clipSigma?: number;
  /** Maximum accumulate/solve rounds. Default 12. */
  maxRounds?: number;
  /** Converged when a correction moves no point by more than this (arcsec) and the clipped set is stable. Default 1e-5. */
  tolerance?: number;
}

export interface RoundsResult {
  ok: boolean;
  state: AstromState;
  /** The accumulation of the final round (its residuals refer to `state` when converged). */
  accum: AstromAccum;
  /** Clip threshold (normalised residual) used in the final round. */
  clip: number;
  rounds: number;
  converged: boolean;
  /** Per-axis rms (arcsec) of the pairs used in the final round. */
  rms: number;
  reason?: string;
}

/**
 * Iterate rounds of accumulate (the caller's function: one part in quick mode, the merge of all CCDs' parts
 * in production) and solve, with sigma clipping from the robust scale of the previous round.
 */
export function fitRounds(accumulate: (state: AstromState, clip: number) => AstromAccum, state0: AstromState, model: FitModel, opts: RoundsOptions = {}): RoundsResult {
  const k = opts.clipSigma ?? 3;
  const maxRounds = opts.maxRounds ?? 12;
  const tol = opts.tolerance ?? 1e-5;
  let state = state0;
  let clip = Infinity;
  let prev: AstromAccum | undefined;
  let acc = accumulate(state, clip);
  for (let round = 1; ; round++) {
    const rms = acc.n > 0 ? Math.sqrt(acc.sumSq / (2 * acc.n)) : NaN;
    const sol = solveAstrom(acc, state, model);
    if (!sol.state) {
      return { ok: false, state, accum: acc, clip, rounds: round, converged: false, rms, reason: `${acc.n} pairs cannot constrain the ${modelName(model)} model` };
    }
    const stable = prev !== undefined && prev.n === acc.n && prev.nRejected === acc.nRejected;
    if (sol.size < tol && stable) return { ok: true, state, accum: acc, clip, rounds: round, converged: true, rms };
    if (round >= maxRounds) return { ok: true, state: sol.state, accum: acc, clip, rounds: round, converged: false, rms };
    const scale = robustScale(acc.hist);
    state = sol.state;
    // when the errors are overestimated (scale < 1) clip at k modelled sigmas, not tighter
    clip = Number.isFinite(scale) && scale > 0 ? k * Math.max(scale, 1) : Infinity;
    prev = acc;
    acc = accumulate(state, clip);
  }
}
