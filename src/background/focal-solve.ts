/**
 * Focal-plane background, central side (solve) and evaluation. The merged samples are fitted by
 *   level = S(fx, fy) + offset[CCD] + R(fx, fy)
 * with S a low-order Chebyshev surface over the focal grid, offset a per-CCD constant (weighted mean 0: absorbs real
 * per-CCD level differences, e.g. gain or bias mismatch, without seams inside a CCD) and R a smooth superpixel
 * residual grid (Catmull-Rom interpolated). The fit is iterated with asymmetric sigma clipping of whole samples
 * (3 sigma above, 4 below, sigma from the MAD of all samples): first the surface alone, then with the offsets,
 * so an extended object covering parts of several CCDs is rejected instead of being absorbed. The residual grid
 * is the weighted mean of the kept residuals per superpixel, empty superpixels (gaps, rejected ones) filled from
 * their neighbours, then median-filtered (3x3).
 */
import { chebBasis, chebTerms, medianOf, normX, normY, solveDense, type FocalGrid } from './focal-grid.js';
import type { FocalBackgroundSummary } from './focal-summary.js';

/** The solved focal-plane background: small and serialisable (handed back to every CCD). */
export interface FocalBackground {
  readonly grid: FocalGrid;
  /** Chebyshev order and coefficients of the smooth surface (variables normX, normY of the grid) */
  readonly order: number;
  readonly coeffs: Float64Array;
  /**
   * superpixel residual grid (ADU), nodes at the superpixel centres, stored sparsely: the cells (index j * nx + i,
   * ascending) within 2 superpixels of a sampled one, and their values; every other cell is 0
   */
  readonly residualCells: Int32Array;
  readonly residualValues: Float64Array;
  /** detector ids (ascending) and their level offsets (ADU) */
  readonly detectors: Int32Array;
  readonly offsets: Float64Array;
  readonly nSamples: number;
  readonly nRejected: number;
  /** robust rms (ADU) of the kept samples' residuals from surface + offsets */
  readonly scatter: number;
}

export interface SolveOptions {
  /** maximum Chebyshev order of the surface (default 3; lowered when there are few superpixels) */
  readonly order?: number;
  /** fit a level offset per CCD (default true) */
  readonly ccdOffsets?: boolean;
  /** add the superpixel residual grid (default true) */
  readonly residualGrid?: boolean;
  /** clipping limits in robust sigmas above / below the fit (default 3 / 4) */
  readonly clipHigh?: number;
  readonly clipLow?: number;
  /** maximum clipping iterations per stage (default 10) */
  readonly iterations?: number;
}

interface Fit {
  coeffs: Float64Array;
  /** offset per sample's detector */
  off: Float64Array;
  offsets: Float64Array;
}

/** Weighted least squares of the kept samples: surface (+ offsets). */
function fitOnce(s: FocalBackgroundSummary, basis: Float64Array, nt: number, w: Float64Array, keep: Uint8Array, detIdx: Int32Array, nd: number, offsets: boolean): Fit {
  const ns = s.level.length;
  const kept = new Float64Array(nd);
  for (let i = 0; i < ns; i++) if (keep[i]) kept[detIdx[i]] += 1;
  // offset unknown of each detector: -1 = none (no kept sample, or the reference detector)
  const col = new Int32Array(nd).fill(-1);
  let n = nt;
  if (offsets) {
    let ref = true;
    for (let d = 0; d < nd; d++) {
      if (!kept[d]) continue;
      if (ref) ref = false;
      else col[d] = n++;
    }
  }
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  for (let i = 0; i < ns; i++) {
    if (!keep[i]) continue;
    const wi = w[i];
    const yi = s.level[i];
    const bi = i * nt;
    for (let p = 0; p < nt; p++) {
      const wp = wi * basis[bi + p];
      b[p] += wp * yi;
      for (let q = 0; q <= p; q++) a[p * n + q] += wp * basis[bi + q];
    }
    const c = col[detIdx[i]];
    if (c >= 0) {
      b[c] += wi * yi;
      a[c * n + c] += wi;
      for (let q = 0; q < nt; q++) a[c * n + q] += wi * basis[bi + q];
    }
  }
  for (let p = 0; p < n; p++) for (let q = 0; q < p; q++) a[q * n + p] = a[p * n + q];
  const x = solveDense(a, b, n);
  const coeffs = x.slice(0, nt);
  const offs = new Float64Array(nd);
  let sum = 0;
  let cnt = 0;
  for (let d = 0; d < nd; d++) {
    if (col[d] >= 0) offs[d] = x[col[d]];
    if (kept[d]) {
      sum += kept[d] * offs[d];
      cnt += kept[d];
    }
  }
  // offsets of weighted mean 0 (the surface's constant term T0 T0 = 1 takes the mean)
  const mean = cnt ? sum / cnt : 0;
  for (let d = 0; d < nd; d++) if (kept[d]) offs[d] -= mean;
  coeffs[0] += mean;
  const off = new Float64Array(ns);
  for (let i = 0; i < ns; i++) off[i] = offs[detIdx[i]];
  return { coeffs, off, offsets: offs };
}

/**
 * The reducer body: solve the focal-plane background from the merged summary of the visit's CCDs.
 * Deterministic: the summary is sorted (mergeFocalBackground) and every loop runs in a fixed order.
 */
export function solveFocalBackground(sum: FocalBackgroundSummary, grid: FocalGrid, opts: SolveOptions = {}): FocalBackground {
  const ns = sum.level.length;
  const ncell = grid.nx * grid.ny;
  const detectors = Int32Array.from(new Set(sum.detector)).sort();
  const nd = detectors.length;
  const index = new Map<number, number>();
  detectors.forEach((d, k) => index.set(d, k));
  const detIdx = Int32Array.from(sum.detector, (d) => index.get(d)!);
  // order: at most one surface term per 3 distinct superpixels sampled
  const cells = new Set(sum.cell).size;
  let order = Math.max(0, Math.floor(opts.order ?? 3));
  while (order > 0 && chebTerms(order) * 3 > cells) order--;
  const nt = chebTerms(order);
  const basis = new Float64Array(ns * nt);
  const tu = new Float64Array(order + 1);
  const tv = new Float64Array(order + 1);
  const row = new Float64Array(nt);
  const w = new Float64Array(ns);
  for (let i = 0; i < ns; i++) {
    chebBasis(order, normX(grid, sum.fx[i]), normY(grid, sum.fy[i]), tu, tv, row);
    basis.set(row, i * nt);
    const s2 = sum.sigma[i] * sum.sigma[i];
    w[i] = s2 > 0 ? sum.n[i] / s2 : sum.n[i];
  }
  const hi = opts.clipHigh ?? 3;
  const lo = opts.clipLow ?? 4;
  const iters = opts.iterations ?? 10;
  const keep = new Uint8Array(ns).fill(1);
  const r = new Float64Array(ns);
  const z = new Float64Array(ns);
  let fit: Fit = { coeffs: new Float64Array(nt), off: new Float64Array(ns), offsets: new Float64Array(nd) };
  let sigmaZ = 0;
  for (const withOffsets of opts.ccdOffsets === false ? [false] : [false, true]) {
    for (let it = 0; it < iters && ns > 0; it++) {
      fit = fitOnce(sum, basis, nt, w, keep, detIdx, nd, withOffsets);
      for (let i = 0; i < ns; i++) {
        let m = 0;
        for (let p = 0; p < nt; p++) m += fit.coeffs[p] * basis[i * nt + p];
        r[i] = sum.level[i] - m - fit.off[i];
        z[i] = Math.abs(r[i] * Math.sqrt(w[i]));
      }
      sigmaZ = 1.4826 * medianOf(Float64Array.from(z), ns);
      let changed = false;
      for (let i = 0; i < ns; i++) {
        const zi = r[i] * Math.sqrt(w[i]);
        const k = sigmaZ > 0 ? (zi <= hi * sigmaZ && zi >= -lo * sigmaZ ? 1 : 0) : 1;
        if (k !== keep[i]) changed = true;
        keep[i] = k;
      }
      if (!changed) break;
    }
  }
  let nRejected = 0;
  const kr = new Float64Array(ns);
  let nk = 0;
  for (let i = 0; i < ns; i++) {
    if (!keep[i]) nRejected++;
    else kr[nk++] = Math.abs(r[i]);
  }
  const scatter = nk ? 1.4826 * medianOf(kr, nk) : 0;
  const residual = new Float64Array(ncell);
  if (opts.residualGrid !== false && ns > 0) {
    const sw = new Float64Array(ncell);
    const swr = new Float64Array(ncell);
    for (let i = 0; i < ns; i++) {
      if (!keep[i]) continue;
      sw[sum.cell[i]] += w[i];
      swr[sum.cell[i]] += w[i] * r[i];
    }
    for (let c = 0; c < ncell; c++) residual[c] = sw[c] > 0 ? swr[c] / sw[c] : NaN;
    fillByDilation(residual, grid.nx, grid.ny);
    residual.set(median3x3(residual, grid.nx, grid.ny));
  }
  // keep the cells the interpolation can reach from a sampled superpixel (the rest, e.g. wide gaps, are 0)
  const near = new Uint8Array(ncell);
  if (opts.residualGrid !== false)
    for (let i = 0; i < ns; i++) {
      const ci = sum.cell[i] % grid.nx;
      const cj = Math.floor(sum.cell[i] / grid.nx);
      for (let y = Math.max(0, cj - 2); y <= Math.min(grid.ny - 1, cj + 2); y++)
        for (let x = Math.max(0, ci - 2); x <= Math.min(grid.nx - 1, ci + 2); x++) near[y * grid.nx + x] = 1;
    }
  const cellsKept: number[] = [];
  for (let c = 0; c < ncell; c++) if (near[c]) cellsKept.push(c);
  const residualCells = Int32Array.from(cellsKept);
  const residualValues = Float64Array.from(cellsKept, (c) => residual[c]);
  return { grid, order, coeffs: fit.coeffs, residualCells, residualValues, detectors, offsets: fit.offsets, nSamples: ns, nRejected, scatter };
}

/** Fill NaN cells, in place, ring by ring with the mean of their filled 8-neighbours (all 0 when none is filled). */
function fillByDilation(v: Float64Array, nx: number, ny: number): void {
  let empty = 0;
  for (let c = 0; c < v.length; c++) if (v[c] !== v[c]) empty++;
  if (empty === v.length) {
    v.fill(0);
    return;
  }
  const next = new Float64Array(v.length);
  while (empty > 0) {
    next.set(v);
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const c = j * nx + i;
        if (v[c] === v[c]) continue;
        let s = 0;
        let n = 0;
        for (let y = Math.max(0, j - 1); y <= Math.min(ny - 1, j + 1); y++)
          for (let x = Math.max(0, i - 1); x <= Math.min(nx - 1, i + 1); x++) {
            const t = v[y * nx + x];
            if (t === t) {
              s += t;
              n++;
            }
          }
        if (n) {
          next[c] = s / n;
          empty--;
        }
      }
    v.set(next);
  }
}

/** 3x3 median filter (the window clipped at the grid edges). */
function median3x3(v: Float64Array, nx: number, ny: number): Float64Array {
  const out = new Float64Array(v.length);
  const win = new Float64Array(9);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      let n = 0;
      for (let y = Math.max(0, j - 1); y <= Math.min(ny - 1, j + 1); y++)
        for (let x = Math.max(0, i - 1); x <= Math.min(nx - 1, i + 1); x++) win[n++] = v[y * nx + x];
      out[j * nx + i] = medianOf(win, n);
    }
  return out;
}

/** Catmull-Rom weights of the 4 nodes around parameter t in [0, 1). */
function crWeights(t: number, out: Float64Array): void {
  const t2 = t * t;
  const t3 = t2 * t;
  out[0] = (-t3 + 2 * t2 - t) / 2;
  out[1] = (3 * t3 - 5 * t2 + 2) / 2;
  out[2] = (-3 * t3 + 4 * t2 + t) / 2;
  out[3] = (t3 - t2) / 2;
}

/** Dense residual grids of solutions seen in this process (rebuilt from the sparse form on first use). */
const DENSE = new WeakMap<FocalBackground, Float64Array>();

function denseResidual(fb: FocalBackground): Float64Array {
  let d = DENSE.get(fb);
  if (!d) {
    d = new Float64Array(fb.grid.nx * fb.grid.ny);
    for (let k = 0; k < fb.residualCells.length; k++) d[fb.residualCells[k]] = fb.residualValues[k];
    DENSE.set(fb, d);
  }
  return d;
}

/**
 * An evaluator of a solution at focal-plane positions (mm), with its scratch arrays allocated once:
 * surface plus residual grid (Catmull-Rom through the superpixel centres, edge nodes repeated). No detector offset.
 */
export function focalEvaluator(fb: FocalBackground): (fx: number, fy: number) => number {
  const { x0, y0, step, nx, ny } = fb.grid;
  const res = denseResidual(fb);
  const nt = fb.coeffs.length;
  const tu = new Float64Array(fb.order + 1);
  const tv = new Float64Array(fb.order + 1);
  const basis = new Float64Array(nt);
  const wx = new Float64Array(4);
  const wy = new Float64Array(4);
  return (fx, fy) => {
    chebBasis(fb.order, normX(fb.grid, fx), normY(fb.grid, fy), tu, tv, basis);
    let v = 0;
    for (let t = 0; t < nt; t++) v += fb.coeffs[t] * basis[t];
    const gx = (fx - x0) / step - 0.5;
    const gy = (fy - y0) / step - 0.5;
    const i = Math.floor(gx);
    const j = Math.floor(gy);
    crWeights(gx - i, wx);
    crWeights(gy - j, wy);
    for (let b = 0; b < 4; b++) {
      const y = Math.min(ny - 1, Math.max(0, j - 1 + b));
      let rs = 0;
      for (let a = 0; a < 4; a++) rs += wx[a] * res[y * nx + Math.min(nx - 1, Math.max(0, i - 1 + a))];
      v += wy[b] * rs;
    }
    return v;
  };
}

/** Offset (ADU) of a detector in the solution (0 for one that contributed no sample). */
export function focalOffset(fb: FocalBackground, detector: number): number {
  const k = fb.detectors.indexOf(detector);
  return k >= 0 ? fb.offsets[k] : 0;
}

/**
 * The focal-plane background (ADU) at focal-plane position (fx, fy) mm: surface plus residual grid, plus the
 * detector's offset when a detector id is given.
 */
export function evaluateFocalBackground(fb: FocalBackground, fx: number, fy: number, detector?: number): number {
  const v = focalEvaluator(fb)(fx, fy);
  return detector === undefined ? v : v + focalOffset(fb, detector);
}
