/**
 * SOLVE step of the PSF fit: from a (merged) summary, choose the polynomial degree, solve the shared normal matrix
 * for every model sample at once (Cholesky), normalise the model to unit sum at every position and measure its FWHM.
 */
import type { PsfSummary } from './accumulate.js';
import { normaliseCoeffs, PsfEvaluator, type PsfModel } from './model.js';
import { nTerms, subTermIndex } from './poly.js';
import { ShapeMeasurer } from './shape.js';

export interface SolveOptions {
  /** force this degree (at most the accumulated one); default: chosen from the number of stars */
  degree?: number;
  /** stars needed for degrees 1, 2, 3 (default [10, 30, 100]); degree d > 3 needs 15 nTerms(d) */
  degreeThresholds?: readonly number[];
}

/** Automatic degree: the largest d <= maxDegree whose star threshold nStars reaches (0 below the first). */
export function chooseDegree(nStars: number, maxDegree: number, thresholds: readonly number[] = [10, 30, 100]): number {
  let d = 0;
  while (d < maxDegree && nStars >= (thresholds[d] ?? 15 * nTerms(d + 1))) d++;
  return d;
}

/**
 * In-place Cholesky factorisation of a symmetric n x n matrix (lower triangle L, row-major). Returns false if the
 * matrix is not numerically positive definite.
 */
export function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / ljj;
    }
  }
  return true;
}

/** Solve L L^T x = b in place for m right-hand sides stored term-major (b[t * m + k]). */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, m: number): void {
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const f = l[i * n + k];
      if (f === 0) continue;
      for (let q = 0; q < m; q++) b[i * m + q] -= f * b[k * m + q];
    }
    const inv = 1 / l[i * n + i];
    for (let q = 0; q < m; q++) b[i * m + q] *= inv;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const f = l[k * n + i];
      if (f === 0) continue;
      for (let q = 0; q < m; q++) b[i * m + q] -= f * b[k * m + q];
    }
    const inv = 1 / l[i * n + i];
    for (let q = 0; q < m; q++) b[i * m + q] *= inv;
  }
}

/** Solve the degree-d sub-system; undefined when singular. */
function solveDegree(sum: PsfSummary, d: number): { coeffs: Float64Array; residual: number } | undefined {
  const ntFull = nTerms(sum.geometry.degree);
  const idx = subTermIndex(sum.geometry.degree, d);
  const nt = idx.length;
  const npix = sum.geometry.size * sum.geometry.size;
  const a = new Float64Array(nt * nt);
  for (let i = 0; i < nt; i++) for (let j = 0; j < nt; j++) a[i * nt + j] = sum.ata[idx[i] * ntFull + idx[j]];
  let tr = 0;
  for (let i = 0; i < nt; i++) tr += a[i * nt + i];
  const ridge = (1e-12 * tr) / nt;
  for (let i = 0; i < nt; i++) a[i * nt + i] += ridge;
  const a0 = Float64Array.from(a);
  const b = new Float64Array(nt * npix);
  for (let t = 0; t < nt; t++) b.set(sum.atb.subarray(idx[t] * npix, (idx[t] + 1) * npix), t * npix);
  const b0 = Float64Array.from(b);
  if (!cholesky(a, nt)) return undefined;
  // condition check: reject a factor with a tiny pivot relative to the largest
  let lmin = Infinity;
  let lmax = 0;
  for (let i = 0; i < nt; i++) {
    lmin = Math.min(lmin, a[i * nt + i]);
    lmax = Math.max(lmax, a[i * nt + i]);
  }
  if (!(lmin > 1e-7 * lmax)) return undefined;
  choleskySolve(a, nt, b, npix);
  for (let q = 0; q < b.length; q++) if (!Number.isFinite(b[q])) return undefined;
  // residual sum of squares: D - 2 c.B + c^T A c, summed over samples
  let rss = 0;
  for (let k = 0; k < npix; k++) {
    let cb = 0;
    let cac = 0;
    for (let i = 0; i < nt; i++) {
      const ci = b[i * npix + k];
      cb += ci * b0[i * npix + k];
      for (let j = 0; j < nt; j++) cac += ci * a0[i * nt + j] * b[j * npix + k];
    }
    rss += sum.dtd[k] - 2 * cb + cac;
  }
  return { coeffs: b, residual: Math.max(0, rss) / (sum.sumW * npix) };
}

/** SOLVE: the PSF model from a (merged) summary. Throws RangeError when there are no stars. */
export function solvePsf(sum: PsfSummary, opts: SolveOptions = {}): PsfModel {
  if (sum.nStars < 1 || !(sum.sumW > 0)) throw new RangeError('no PSF stars to solve for');
  const maxD = sum.geometry.degree;
  let d = opts.degree ?? chooseDegree(sum.nStars, maxD, opts.degreeThresholds);
  if (d > maxD || d < 0 || !Number.isInteger(d)) throw new RangeError(`PSF degree ${d} is not in 0..${maxD}`);
  let sol = solveDegree(sum, d);
  while (!sol && d > 0) sol = solveDegree(sum, --d);
  if (!sol) throw new RangeError('PSF normal equations are singular');
  const npix = sum.geometry.size * sum.geometry.size;
  normaliseCoeffs(sol.coeffs, nTerms(d), npix);
  const base = { ...sum.geometry, degree: d, coeffs: sol.coeffs, nStars: sum.nStars, residual: sol.residual, fwhm: NaN };
  const img = new PsfEvaluator(base).imageAt(sum.geometry.frame.zero[0], sum.geometry.frame.zero[1], new Float64Array(npix));
  const fwhm = new ShapeMeasurer().fwhm({ width: sum.geometry.size, height: sum.geometry.size, data: img }, sum.geometry.step);
  return { ...base, fwhm };
}
