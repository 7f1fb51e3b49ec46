/**
 * Mixture-of-Gaussians (MoG) approximations of radial profiles, used to convolve galaxies with the PSF
 * analytically (a Gaussian convolved with a Gaussian is a Gaussian with the covariances added).
 *
 * A profile of unit flux and unit scale is fitted by non-negative least squares (Lawson & Hanson) with
 * circular Gaussians of fixed, log-spaced widths. The residual is measured as flux per unit ln(r),
 * 2 pi r^2 (I(r) - M(r)), on log-spaced radii, so every scale from the cusp to the wings counts alike,
 * plus a heavily weighted row forcing the mixture's total flux to 1. Fits are cached.
 */
import { MoffatProfile, SersicProfile, type RadialProfile } from './profiles.js';

/** A circular Gaussian mixture in units of the profile's scale: component k has flux amp[k], sigma sigma[k]. */
export interface Mixture {
  readonly amp: Float64Array;
  readonly sigma: Float64Array;
  /** largest |2 pi r^2 (I - M)| over the fitted radii (flux per unit ln r; the profile's own peak is ~0.5) */
  readonly maxError: number;
}

/** Solve min |A x - b|, x >= 0, given the Gram matrix G = A^T A (n x n) and h = A^T b (Lawson-Hanson active set). */
export function nnlsGram(G: Float64Array, h: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n);
  const active = new Uint8Array(n);
  const z = new Float64Array(n);
  for (let outer = 0; outer < 4 * n; outer++) {
    let best = -1;
    let bestW = 1e-13;
    for (let j = 0; j < n; j++) {
      if (active[j]) continue;
      let w = h[j];
      for (let k = 0; k < n; k++) w -= G[j * n + k] * x[k];
      if (w > bestW) {
        bestW = w;
        best = j;
      }
    }
    if (best < 0) break;
    active[best] = 1;
    for (let inner = 0; inner < 4 * n; inner++) {
      solveActive(G, h, n, active, z);
      let alpha = 1;
      let feasible = true;
      for (let j = 0; j < n; j++) {
        if (active[j] && z[j] <= 0) {
          feasible = false;
          const a = x[j] / (x[j] - z[j]);
          if (a < alpha) alpha = a;
        }
      }
      if (feasible) {
        x.set(z);
        break;
      }
      for (let j = 0; j < n; j++) {
        if (!active[j]) continue;
        x[j] += alpha * (z[j] - x[j]);
        if (x[j] <= 1e-15) {
          x[j] = 0;
          active[j] = 0;
        }
      }
    }
  }
  return x;
}

/** Least squares restricted to the active columns (Gaussian elimination with partial pivoting); z = 0 elsewhere. */
function solveActive(G: Float64Array, h: Float64Array, n: number, active: Uint8Array, z: Float64Array): void {
  const idx: number[] = [];
  for (let j = 0; j < n; j++) if (active[j]) idx.push(j);
  const k = idx.length;
  const M = new Float64Array(k * k);
  const r = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    for (let c = 0; c < k; c++) M[a * k + c] = G[idx[a] * n + idx[c]];
    r[a] = h[idx[a]];
  }
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let a = c + 1; a < k; a++) if (Math.abs(M[a * k + c]) > Math.abs(M[p * k + c])) p = a;
    if (p !== c) {
      for (let t = 0; t < k; t++) {
        const tmp = M[c * k + t];
        M[c * k + t] = M[p * k + t];
        M[p * k + t] = tmp;
      }
      const tr = r[c];
      r[c] = r[p];
      r[p] = tr;
    }
    const piv = M[c * k + c] === 0 ? 1e-300 : M[c * k + c];
    for (let a = c + 1; a < k; a++) {
      const f = M[a * k + c] / piv;
      if (f === 0) continue;
      for (let t = c; t < k; t++) M[a * k + t] -= f * M[c * k + t];
      r[a] -= f * r[c];
    }
  }
  z.fill(0);
  for (let c = k - 1; c >= 0; c--) {
    let s = r[c];
    for (let t = c + 1; t < k; t++) s -= M[c * k + t] * z[idx[t]];
    const piv = M[c * k + c] === 0 ? 1e-300 : M[c * k + c];
    z[idx[c]] = s / piv;
  }
}

/** Fit a unit-flux profile with `count` Gaussians of widths log-spaced in [sMin, sMax], on radii in [rMin, rOut]. */
export function fitMixture(prof: RadialProfile, rMin: number, rOut: number, sMin: number, sMax: number, count: number): Mixture {
  const nr = 300;
  const sig = new Float64Array(count);
  for (let j = 0; j < count; j++) sig[j] = sMin * Math.pow(sMax / sMin, j / (count - 1));
  const rows = nr + 1;
  const A = new Float64Array(rows * count);
  const b = new Float64Array(rows);
  for (let i = 0; i < nr; i++) {
    const r = rMin * Math.pow(rOut / rMin, i / (nr - 1));
    const wt = 2 * Math.PI * r * r;
    b[i] = wt * prof.value(r * r);
    for (let j = 0; j < count; j++) {
      const s2 = sig[j] * sig[j];
      A[i * count + j] = (wt * Math.exp((-0.5 * r * r) / s2)) / (2 * Math.PI * s2);
    }
  }
  const FLUX_WEIGHT = 30;
  for (let j = 0; j < count; j++) A[nr * count + j] = FLUX_WEIGHT;
  b[nr] = FLUX_WEIGHT;
  // column scaling for conditioning, then the normal equations
  const scale = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += A[i * count + j] ** 2;
    scale[j] = 1 / Math.sqrt(s);
  }
  const G = new Float64Array(count * count);
  const h = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    for (let k = j; k < count; k++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += A[i * count + j] * A[i * count + k];
      G[j * count + k] = G[k * count + j] = s * scale[j] * scale[k];
    }
    let s = 0;
    for (let i = 0; i < rows; i++) s += A[i * count + j] * b[i];
    h[j] = s * scale[j];
  }
  const y = nnlsGram(G, h, count);
  const amp = new Float64Array(count);
  let total = 0;
  for (let j = 0; j < count; j++) {
    amp[j] = y[j] * scale[j];
    total += amp[j];
  }
  for (let j = 0; j < count; j++) amp[j] /= total; // exact unit flux
  let maxError = 0;
  for (let i = 0; i < nr; i++) {
    let m = 0;
    for (let j = 0; j < count; j++) m += A[i * count + j] * amp[j];
    maxError = Math.max(maxError, Math.abs(m - b[i]));
  }
  // keep only the non-zero components
  const keep: number[] = [];
  for (let j = 0; j < count; j++) if (amp[j] > 0) keep.push(j);
  return { amp: Float64Array.from(keep, (j) => amp[j]), sigma: Float64Array.from(keep, (j) => sig[j]), maxError };
}

const SERSIC_CACHE = new Map<number, Mixture>();
const MOFFAT_CACHE = new Map<number, Mixture>();

/** Gaussian mixture of a unit-flux Sersic profile with unit half-light radius (cached per n; ~1 ms per new n). */
export function sersicMixture(n: number): Mixture {
  let m = SERSIC_CACHE.get(n);
  if (m) return m;
  if (n === 0.5) {
    // exactly Gaussian: I ~ exp(-ln2 r^2) -> sigma^2 = 1 / (2 ln 2)
    m = { amp: Float64Array.of(1), sigma: Float64Array.of(1 / Math.sqrt(2 * Math.LN2)), maxError: 0 };
  } else {
    if (!(n > 0.5 && n <= 8)) throw new RangeError(`Sersic index for galaxies must be 0.5 <= n <= 8, got ${n}`);
    const prof = new SersicProfile(n, 1);
    const rOut = Math.min(100, prof.radiusForLost(1e-5));
    const sMin = n > 1 ? 3e-4 : 3e-3;
    m = fitMixture(prof, sMin / 3, rOut, sMin, rOut / 2, 24);
  }
  SERSIC_CACHE.set(n, m);
  return m;
}

/** Gaussian mixture of a unit-flux Moffat profile with alpha = 1 (cached per beta). */
export function moffatMixture(beta: number): Mixture {
  let m = MOFFAT_CACHE.get(beta);
  if (m) return m;
  const prof = new MoffatProfile(1, beta);
  const rOut = Math.min(300, prof.radiusForLost(1e-5));
  m = fitMixture(prof, 0.05 * prof.hwhm, rOut, 0.5 * prof.hwhm, rOut / 2, 12);
  MOFFAT_CACHE.set(beta, m);
  return m;
}
