/**
 * Focal-plane background, shared pieces: the superpixel grid over the focal plane (mm), its cell indexing, the
 * Chebyshev basis of the smooth part and a small dense linear solver. See focal.ts for the whole scheme.
 */
import { focalPlaneBounds } from '../camera/geometry.js';
import type { Camera } from '../camera/types.js';

/** Square superpixels of `step` mm; cell (i, j) covers x0 + [i, i + 1) step, y0 + [j, j + 1) step; index j * nx + i. */
export interface FocalGrid {
  readonly x0: number;
  readonly y0: number;
  readonly step: number;
  readonly nx: number;
  readonly ny: number;
}

export interface FocalGridOptions {
  /** superpixel size in mm (overrides perCcd) */
  readonly superpixel?: number;
  /** superpixels per CCD side: size = (median CCD shorter side in mm) / perCcd (default 3) */
  readonly perCcd?: number;
}

/**
 * Superpixel grid covering every detector of a camera (gaps included), centred on the detectors' bounding box.
 * Default size: a third of a CCD side. That puts at least 3 superpixels across each CCD (so the focal-plane model
 * follows structure on CCD scales and neighbouring CCDs share superpixels near their edges), while a superpixel of
 * a 4k CCD still holds ~400 meshes of 64 px (robust medians even with large objects on part of it).
 */
export function focalBackgroundGrid(camera: Camera, opts: FocalGridOptions = {}): FocalGrid {
  if (!camera.detectors.length) throw new RangeError('camera has no detector');
  let step = opts.superpixel;
  if (step === undefined) {
    const sides = camera.detectors.map((d) => Math.min(d.width, d.height) * d.pixelSize).sort((a, b) => a - b);
    step = sides[sides.length >> 1] / (opts.perCcd ?? 3);
  }
  if (!(step > 0 && Number.isFinite(step))) throw new RangeError(`superpixel size must be positive (got ${step})`);
  const [xmin, ymin, xmax, ymax] = focalPlaneBounds(camera);
  const nx = Math.max(1, Math.ceil((xmax - xmin) / step - 1e-9));
  const ny = Math.max(1, Math.ceil((ymax - ymin) / step - 1e-9));
  return { x0: (xmin + xmax) / 2 - (nx * step) / 2, y0: (ymin + ymax) / 2 - (ny * step) / 2, step, nx, ny };
}

/** Cell index of a focal-plane position (clamped to the grid). */
export function cellOf(g: FocalGrid, fx: number, fy: number): number {
  const i = Math.min(g.nx - 1, Math.max(0, Math.floor((fx - g.x0) / g.step)));
  const j = Math.min(g.ny - 1, Math.max(0, Math.floor((fy - g.y0) / g.step)));
  return j * g.nx + i;
}

/** Grid position in [-1, 1] along x and y (the Chebyshev variables). */
export function normX(g: FocalGrid, fx: number): number {
  return (2 * (fx - g.x0)) / (g.nx * g.step) - 1;
}
export function normY(g: FocalGrid, fy: number): number {
  return (2 * (fy - g.y0)) / (g.ny * g.step) - 1;
}

/** Number of terms T_i(u) T_j(v), i + j <= order. */
export function chebTerms(order: number): number {
  return ((order + 1) * (order + 2)) / 2;
}

/** Chebyshev basis values T_i(u) T_j(v) for i + j <= order (ordered by total degree, then j) into out. */
export function chebBasis(order: number, u: number, v: number, tu: Float64Array, tv: Float64Array, out: Float64Array): void {
  tu[0] = 1;
  tv[0] = 1;
  if (order > 0) {
    tu[1] = u;
    tv[1] = v;
  }
  for (let k = 2; k <= order; k++) {
    tu[k] = 2 * u * tu[k - 1] - tu[k - 2];
    tv[k] = 2 * v * tv[k - 1] - tv[k - 2];
  }
  let t = 0;
  for (let d = 0; d <= order; d++) for (let j = 0; j <= d; j++) out[t++] = tu[d - j] * tv[j];
}

/**
 * Solve the n x n system A x = b in place (A row-major, destroyed; x returned in b) by Gaussian elimination with
 * partial pivoting. A pivot below `tiny` times the largest diagonal makes that unknown 0 (degenerate direction).
 */
export function solveDense(a: Float64Array, b: Float64Array, n: number): Float64Array {
  let dmax = 0;
  for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(a[i * n + i]));
  const tiny = dmax * 1e-13;
  const zero = new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    if (!(Math.abs(a[p * n + c]) > tiny)) {
      zero[c] = 1;
      continue;
    }
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        const t = a[c * n + k];
        a[c * n + k] = a[p * n + k];
        a[p * n + k] = t;
      }
      const t = b[c];
      b[c] = b[p];
      b[p] = t;
    }
    const piv = a[c * n + c];
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c] / piv;
      if (f === 0) continue;
      for (let k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    if (zero[c]) {
      b[c] = 0;
      continue;
    }
    let s = b[c];
    for (let k = c + 1; k < n; k++) s -= a[c * n + k] * b[k];
    b[c] = s / a[c * n + c];
  }
  return b;
}

/** Median of the first n values of a scratch array (sorted in place); NaN when n = 0. */
export function medianOf(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const s = a.subarray(0, n).sort();
  return n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
