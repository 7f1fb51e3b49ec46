/**
 * Per-CCD affine terms of the visit astrometry: the camera model from the raw headers places each CCD by a
 * linear map that can be off by ~0.1-0.3% in scale/shear (hundreds of mas at the CCD corners on DECam). Given
 * the focal-plane solution and the kept pairs, each CCD with enough stars gets a correction of its focal-plane
 * positions  f' = f + (a0 + a1 u + a2 v, b0 + b1 u + b2 v),  u, v = (f - centre) / halfSize  (f = the position from
 * the camera model), fitted by linearised least squares of the residuals through the solution's Jacobian. A
 * correction is kept only when it is significant (an F-like test: the drop of the residual sum of squares must
 * exceed `significance` x the 6 parameters' expected drop for pure noise), so CCDs whose placement is right keep
 * the rigid geometry and its noise-free extrapolation.
 */
import { detectorCorners } from '../camera/geometry.js';
import type { DetectorGeom } from '../camera/types.js';
import { StateEvaluator, type AstromState } from './fit-model.js';

/** A CCD's correction: [a0, a1, a2, b0, b1, b2] (mm) about `centre` with `halfSize` (mm). */
export interface CcdAffine {
  detector: number;
  centre: [number, number];
  halfSize: number;
  p: Float64Array;
}

/** The identity correction of a detector (its centre and half-diagonal). */
export function identityAffine(det: DetectorGeom): CcdAffine {
  const c = detectorCorners(det);
  const half = Math.max(...c.map(([x, y]) => Math.hypot(x - det.center[0], y - det.center[1])));
  return { detector: det.id, centre: [det.center[0], det.center[1]], halfSize: half, p: new Float64Array(6) };
}

/** Apply a correction to a focal-plane position (mm). */
export function applyAffine(a: CcdAffine, fx: number, fy: number): [number, number] {
  const u = (fx - a.centre[0]) / a.halfSize;
  const v = (fy - a.centre[1]) / a.halfSize;
  const p = a.p;
  return [fx + p[0] + p[1] * u + p[2] * v, fy + p[3] + p[4] * u + p[5] * v];
}

/** Solve a symmetric positive system in place (Gaussian elimination with partial pivoting); undefined if singular. */
function solve6(a: Float64Array, b: Float64Array, n: number): Float64Array | undefined {
  const m = a.slice();
  const x = b.slice();
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    if (!(Math.abs(m[piv * n + c]) > 1e-300)) return undefined;
    if (piv !== c) {
      for (let k = 0; k < n; k++) [m[c * n + k], m[piv * n + k]] = [m[piv * n + k], m[c * n + k]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / m[c * n + c];
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let s = x[c];
    for (let k = c + 1; k < n; k++) s -= m[c * n + k] * x[k];
    x[c] = s / m[c * n + c];
  }
  return x.every(Number.isFinite) ? x : undefined;
}

export interface AffineStepOptions {
  /** Fewest kept pairs for a correction (default 15). */
  minStars?: number;
  /** Significance factor of the F-like test (default 8). */
  significance?: number;
}

/**
 * One linearised update of a CCD's correction from its kept pairs: `f0x/f0y` the camera-model positions, `rx/ry`
 * the reference positions on the solution's tangent plane (arcsec). Returns whether the correction was updated.
 */
export function updateAffine(a: CcdAffine, state: AstromState, f0x: ArrayLike<number>, f0y: ArrayLike<number>, rx: ArrayLike<number>, ry: ArrayLike<number>, opts: AffineStepOptions = {}): boolean {
  const n = f0x.length;
  if (n < (opts.minStars ?? 15)) return false;
  const ev = new StateEvaluator(state);
  const ata = new Float64Array(36);
  const atb = new Float64Array(6);
  const gx = new Float64Array(6);
  const gy = new Float64Array(6);
  let ss0 = 0;
  const h = 1e-3 * a.halfSize;
  for (let k = 0; k < n; k++) {
    const [fx, fy] = applyAffine(a, f0x[k], f0y[k]);
    ev.eval(fx, fy);
    const xi = ev.xi;
    const eta = ev.eta;
    ev.eval(fx + h, fy);
    const j11 = (ev.xi - xi) / h;
    const j21 = (ev.eta - eta) / h;
    ev.eval(fx, fy + h);
    const j12 = (ev.xi - xi) / h;
    const j22 = (ev.eta - eta) / h;
    const u = (f0x[k] - a.centre[0]) / a.halfSize;
    const v = (f0y[k] - a.centre[1]) / a.halfSize;
    const dx = rx[k] - xi;
    const dy = ry[k] - eta;
    ss0 += dx * dx + dy * dy;
    gx.set([j11, j11 * u, j11 * v, j12, j12 * u, j12 * v]);
    gy.set([j21, j21 * u, j21 * v, j22, j22 * u, j22 * v]);
    for (let i = 0; i < 6; i++) {
      atb[i] += gx[i] * dx + gy[i] * dy;
      for (let j = 0; j < 6; j++) ata[i * 6 + j] += gx[i] * gx[j] + gy[i] * gy[j];
    }
  }
  const d = solve6(ata, atb, 6);
  if (!d) return false;
  // drop of the sum of squares = d . atb (least squares); residual variance after the step
  let drop = 0;
  for (let i = 0; i < 6; i++) drop += d[i] * atb[i];
  const dof = 2 * n - 6;
  const s2 = Math.max(ss0 - drop, 1e-30) / dof;
  if (!(drop > (opts.significance ?? 8) * 6 * s2)) return false;
  for (let i = 0; i < 6; i++) a.p[i] += d[i];
  return true;
}
