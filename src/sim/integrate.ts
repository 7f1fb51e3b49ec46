/**
 * Pixel integration of an elliptical radial profile onto a grid ("rendering").
 *
 * Each pixel receives flux * (integral of the unit-flux profile over the pixel's unit square). Three zones:
 * - cusp (profiles with a singular centre, i.e. Sersic n != 0.5, or sharper than SHARP_HWHM, within CUSP_RADIUS
 *   pixels of the centre): adaptive quadrature, each cell split in four until the Gauss-Legendre estimates agree;
 * - core (within the core radius): a fixed n x n Gauss-Legendre product rule;
 * - wings: the midpoint value plus the Laplacian correction (f + (f_xx + f_yy) / 24), exact to 4th order,
 *   where the profile is smooth on the pixel scale.
 * The core radius is where the estimated 4th-order error of the wing rule drops below CORE_TOL of the peak.
 * Measured against 10 x 10 Gauss-Legendre everywhere: pixel errors below ~5e-6 of the peak for Gaussian, Moffat
 * and Sersic profiles from FWHM 1.5 px up.
 */
import { gaussLegendre } from './special.js';
import type { EllipseForm, RadialProfile } from './profiles.js';

/** A grid to render into: row-major, data[y * width + x], pixel (x, y) covering [x - 1/2, x + 1/2] x [y - 1/2, y + 1/2]. */
export interface RenderTarget {
  readonly data: Float32Array | Float64Array;
  readonly width: number;
  readonly height: number;
}

export interface RenderOptions {
  /** only pixels whose centre's circularised radius is > rMin are rendered (default: none excluded) */
  readonly rMin?: number;
  /** Gauss-Legendre order in the core (default from the profile's sharpness) */
  readonly glOrder?: number;
  /** override the core radius (pixels); Infinity renders every pixel with the core rule */
  readonly coreRadius?: number;
}

export interface RenderStats {
  /** total flux added to the target */
  sum: number;
  /** the largest value added to one pixel, and that pixel's index (-1 if nothing was rendered) */
  peak: number;
  peakIndex: number;
}

const CUSP_RADIUS = 2.5;
/** profiles sharper than this (half width at half maximum, pixels) are integrated adaptively near the centre */
const SHARP_HWHM = 0.75;
const ADAPT_TOL = 1e-9;
const ADAPT_DEPTH = 14;
const CORE_TOL = 3e-5;

/** Default Gauss-Legendre order for a profile's core: higher for sharp (under-sampled) profiles. */
export function defaultGlOrder(prof: RadialProfile): number {
  if (prof.cuspy || prof.hwhm < SHARP_HWHM) return 4;
  return prof.hwhm >= 1.5 ? 3 : 4;
}

/**
 * Radius (pixels, circularised) beyond which the midpoint+Laplacian rule is accurate: the last radius below
 * rMax where its estimated error f * kappa^4 / 300 (kappa: local inverse scale length of the profile)
 * exceeds CORE_TOL of the peak surface brightness.
 */
export function coreRadius(prof: RadialProfile, rMax: number): number {
  const h2 = prof.hwhm * prof.hwhm;
  const limit = CORE_TOL * 300 * prof.value(0.25);
  let last = 0;
  const rEnd = Math.min(rMax + 1, prof.radiusForLevel(limit * 1e-3) + 1);
  for (let r = 0.25; r <= rEnd; r += 0.25) {
    const g = prof.logSlope(r);
    const k2 = g * g + 3 / (r * r + h2);
    if (prof.value(r * r) * k2 * k2 > limit) last = r;
  }
  return Math.max(last + 0.5, prof.cuspy || prof.hwhm < SHARP_HWHM ? CUSP_RADIUS + 1 : 1.5);
}

/** Product Gauss-Legendre integral of prof over the square of side `size` centred on (x0, y0) (profile-centred coordinates). */
function cellGL(prof: RadialProfile, e: EllipseForm, x0: number, y0: number, size: number, nodes: Float64Array, weights: Float64Array): number {
  const n = nodes.length;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const y = y0 + size * nodes[j];
    const byy = e.qyy * y * y;
    const bxy = 2 * e.qxy * y;
    let row = 0;
    for (let i = 0; i < n; i++) {
      const x = x0 + size * nodes[i];
      row += weights[i] * prof.value(e.qxx * x * x + bxy * x + byy);
    }
    s += weights[j] * row;
  }
  return s * size * size;
}

/** Adaptive quadrature over a square: split in four until the parent and children estimates agree. */
function cellAdaptive(
  prof: RadialProfile,
  e: EllipseForm,
  x0: number,
  y0: number,
  size: number,
  whole: number,
  depth: number,
  nodes: Float64Array,
  weights: Float64Array,
): number {
  const h = size / 4;
  const c = size / 2;
  const a = cellGL(prof, e, x0 - h, y0 - h, c, nodes, weights);
  const b = cellGL(prof, e, x0 + h, y0 - h, c, nodes, weights);
  const d = cellGL(prof, e, x0 - h, y0 + h, c, nodes, weights);
  const f = cellGL(prof, e, x0 + h, y0 + h, c, nodes, weights);
  const sum = a + b + d + f;
  if (depth >= ADAPT_DEPTH || Math.abs(sum - whole) <= ADAPT_TOL * size * size + 1e-7 * Math.abs(sum)) return sum;
  return (
    cellAdaptive(prof, e, x0 - h, y0 - h, c, a, depth + 1, nodes, weights) +
    cellAdaptive(prof, e, x0 + h, y0 - h, c, b, depth + 1, nodes, weights) +
    cellAdaptive(prof, e, x0 - h, y0 + h, c, d, depth + 1, nodes, weights) +
    cellAdaptive(prof, e, x0 + h, y0 + h, c, f, depth + 1, nodes, weights)
  );
}

/** The integral of the unit-flux profile over the unit pixel centred at offset (dx, dy) from the profile centre, by the zone rules. */
export function pixelIntegral(prof: RadialProfile, e: EllipseForm, dx: number, dy: number, rCore: number, glOrder: number): number {
  const { nodes, weights } = gaussLegendre(glOrder);
  return pixelRule(prof, e, dx, dy, rCore, nodes, weights);
}

function pixelRule(prof: RadialProfile, e: EllipseForm, dx: number, dy: number, rCore: number, nodes: Float64Array, weights: Float64Array): number {
  const t = e.qxx * dx * dx + 2 * e.qxy * dx * dy + e.qyy * dy * dy;
  if ((prof.cuspy || prof.hwhm < SHARP_HWHM) && t < CUSP_RADIUS * CUSP_RADIUS) {
    return cellAdaptive(prof, e, dx, dy, 1, cellGL(prof, e, dx, dy, 1, nodes, weights), 0, nodes, weights);
  }
  if (t < rCore * rCore) return cellGL(prof, e, dx, dy, 1, nodes, weights);
  const f = prof.valueD(t);
  const gx = e.qxx * dx + e.qxy * dy;
  const gy = e.qxy * dx + e.qyy * dy;
  // Laplacian of f(t(x, y)): f' * lap(t) + f'' * |grad t|^2, lap(t) = 2 (qxx + qyy), |grad t|^2 = 4 |Q x|^2
  const lap = 2 * prof.d1 * (e.qxx + e.qyy) + 4 * prof.d2 * (gx * gx + gy * gy);
  return f + lap / 24;
}

/**
 * Add flux * (pixel-integrated profile) centred at (cx, cy) (target pixel coordinates) to every pixel of
 * the target whose circularised radius is <= rMax (and > rMin). Pixels outside the target are skipped.
 */
export function renderRadial(
  target: RenderTarget,
  cx: number,
  cy: number,
  prof: RadialProfile,
  e: EllipseForm,
  flux: number,
  rMax: number,
  opts: RenderOptions = {},
): RenderStats {
  const { width, height, data } = target;
  const rMin = opts.rMin ?? -1;
  const rMax2 = rMax * rMax;
  const rMin2 = rMin < 0 ? -1 : rMin * rMin;
  const rCore = opts.coreRadius ?? coreRadius(prof, rMax);
  const { nodes, weights } = gaussLegendre(opts.glOrder ?? defaultGlOrder(prof));
  const hx = rMax * Math.sqrt(e.cxx);
  const hy = rMax * Math.sqrt(e.cyy);
  const x0 = Math.max(0, Math.ceil(cx - hx));
  const x1 = Math.min(width - 1, Math.floor(cx + hx));
  const y0 = Math.max(0, Math.ceil(cy - hy));
  const y1 = Math.min(height - 1, Math.floor(cy + hy));
  const stats: RenderStats = { sum: 0, peak: 0, peakIndex: -1 };
  for (let iy = y0; iy <= y1; iy++) {
    const dy = iy - cy;
    const row = iy * width;
    for (let ix = x0; ix <= x1; ix++) {
      const dx = ix - cx;
      const tm = e.qxx * dx * dx + 2 * e.qxy * dx * dy + e.qyy * dy * dy;
      if (tm > rMax2 || tm <= rMin2) continue;
      const v = flux * pixelRule(prof, e, dx, dy, rCore, nodes, weights);
      data[row + ix] += v;
      stats.sum += v;
      if (v > stats.peak) {
        stats.peak = v;
        stats.peakIndex = row + ix;
      }
    }
  }
  return stats;
}
