/**
 * Pixel-integrated rendering of sums of elliptical Gaussians (the PSF-convolved galaxies).
 *
 * The pixel integral of a Gaussian of covariance V is the Gaussian of covariance V + I/12 (the pixel box's
 * variance) corrected by the box's 4th cumulant, -(1/2880)(d^4/dx^4 + d^4/dy^4); the residual is 6th order,
 * below ~5e-4 of the component's peak for sigma >= 0.6 px (the correction itself is skipped when it is below 5e-5,
 * for sigma >= 2 px). Along a row the Gaussian is evaluated by an exact
 * multiplicative recurrence (two multiplications per pixel, two exp() per row). Components narrower than 0.6 px
 * are integrated with 6 x 6 Gauss-Legendre rules on sub-cells no wider than 0.4 sigma instead.
 * Component k (flux fraction amp[k]) is drawn out to where it falls below level * amp[k] per pixel (where it would
 * fall below `level` if it carried all the flux), so the light left out is below `level` at every pixel.
 */
import { gaussLegendre } from './special.js';
import type { RenderStats, RenderTarget } from './integrate.js';

/** A list of Gaussian components sharing one centre: flux amp[k] and covariance (vxx, vxy, vyy)[k] in pixels^2. */
export interface GaussianList {
  amp: Float64Array;
  vxx: Float64Array;
  vxy: Float64Array;
  vyy: Float64Array;
  count: number;
}

/** An empty component list with room for `capacity` components (grows on demand via pushGaussian). */
export function gaussianList(capacity = 64): GaussianList {
  return {
    amp: new Float64Array(capacity),
    vxx: new Float64Array(capacity),
    vxy: new Float64Array(capacity),
    vyy: new Float64Array(capacity),
    count: 0,
  };
}

/** Append one component. */
export function pushGaussian(list: GaussianList, amp: number, vxx: number, vxy: number, vyy: number): void {
  if (list.count === list.amp.length) {
    const grow = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    list.amp = grow(list.amp);
    list.vxx = grow(list.vxx);
    list.vxy = grow(list.vxy);
    list.vyy = grow(list.vyy);
  }
  const k = list.count++;
  list.amp[k] = amp;
  list.vxx[k] = vxx;
  list.vxy[k] = vxy;
  list.vyy[k] = vyy;
}

const NARROW_VAR = 0.36;
/** reused buffers (single-threaded; contents never escape a call) */
let scratch = new Float64Array(4096);
let m2s = new Float64Array(64);

/**
 * Add flux * sum_k amp[k] N(V_k) (pixel-integrated) centred at (cx, cy) (target pixel coordinates) to the target,
 * component k out to where it drops below level * amp[k] per pixel, within maxRadius pixels of the centre.
 * Returns the flux added and the brightest added pixel.
 */
export function renderGaussians(
  target: RenderTarget,
  cx: number,
  cy: number,
  list: GaussianList,
  flux: number,
  level: number,
  maxRadius: number,
): RenderStats {
  const icx = Math.round(cx);
  const icy = Math.round(cy);
  const n = list.count;
  if (m2s.length < n) m2s = new Float64Array(2 * n);
  const m2 = m2s;
  let HX = 1;
  let HY = 1;
  for (let k = 0; k < n; k++) {
    const vx = list.vxx[k] + 1 / 12;
    const vy = list.vyy[k] + 1 / 12;
    const det = vx * vy - list.vxy[k] * list.vxy[k];
    // component k stops where it falls below level * amp[k], i.e. where it would fall below `level` if it carried
    // all the flux: the light left out is then below `level` at every pixel
    const peak = flux / (2 * Math.PI * Math.sqrt(det));
    m2[k] = peak > level && list.amp[k] > 0 ? 2 * Math.log(peak / level) : 0;
    if (m2[k] === 0) continue;
    const m = Math.sqrt(m2[k]);
    HX = Math.max(HX, Math.min(maxRadius, Math.ceil(m * Math.sqrt(vx) + 1)));
    HY = Math.max(HY, Math.min(maxRadius, Math.ceil(m * Math.sqrt(vy) + 1)));
  }
  const bw = 2 * HX + 1;
  const bh = 2 * HY + 1;
  if (scratch.length < bw * bh) scratch = new Float64Array(Math.max(bw * bh, 2 * scratch.length));
  const buf = scratch;
  buf.fill(0, 0, bw * bh);
  const ox = cx - (icx - HX); // centre in buffer coordinates
  const oy = cy - (icy - HY);
  for (let k = 0; k < n; k++) {
    if (m2[k] === 0) continue;
    const lam = 0.5 * (list.vxx[k] + list.vyy[k]) - Math.hypot(0.5 * (list.vxx[k] - list.vyy[k]), list.vxy[k]);
    if (lam < NARROW_VAR) drawNarrow(buf, bw, bh, ox, oy, flux * list.amp[k], list.vxx[k], list.vxy[k], list.vyy[k], m2[k], lam);
    else drawWide(buf, bw, bh, ox, oy, flux * list.amp[k], list.vxx[k], list.vxy[k], list.vyy[k], m2[k]);
  }
  const stats: RenderStats = { sum: 0, peak: 0, peakIndex: -1 };
  const { data, width, height } = target;
  for (let j = 0; j < bh; j++) {
    const ty = icy - HY + j;
    if (ty < 0 || ty >= height) continue;
    for (let i = 0; i < bw; i++) {
      const tx = icx - HX + i;
      const v = buf[j * bw + i];
      if (v === 0 || tx < 0 || tx >= width) continue;
      data[ty * width + tx] += v;
      stats.sum += v;
      if (v > stats.peak) {
        stats.peak = v;
        stats.peakIndex = ty * width + tx;
      }
    }
  }
  return stats;
}

/** One component by the recurrence with the pixel-box correction, inside Mahalanobis radius sqrt(m2). */
function drawWide(buf: Float64Array, bw: number, bh: number, ox: number, oy: number, flux: number, vxx: number, vxy: number, vyy: number, m2: number): void {
  const vx = vxx + 1 / 12;
  const vy = vyy + 1 / 12;
  const det = vx * vy - vxy * vxy;
  const a = vy / det;
  const b = -vxy / det;
  const c = vx / det;
  const norm = flux / (2 * Math.PI * Math.sqrt(det));
  const ga = Math.exp(-a);
  const k4x = 3 * a * a;
  const k4y = 3 * c * c;
  // the 4th-cumulant correction is below 5e-5 of the peak once the narrowest axis has sigma >= 2 px
  const correct = 0.5 * (vx + vy) - Math.hypot(0.5 * (vx - vy), vxy) < 4;
  const hy = Math.sqrt(m2 * vy);
  const j0 = Math.max(0, Math.ceil(oy - hy));
  const j1 = Math.min(bh - 1, Math.floor(oy + hy));
  for (let j = j0; j <= j1; j++) {
    const dy = j - oy;
    const disc = b * b * dy * dy - a * (c * dy * dy - m2);
    if (disc <= 0) continue;
    const sq = Math.sqrt(disc);
    const i0 = Math.max(0, Math.ceil(ox + (-b * dy - sq) / a));
    const i1 = Math.min(bw - 1, Math.floor(ox + (-b * dy + sq) / a));
    if (i1 < i0) continue;
    const dx = i0 - ox;
    let v = norm * Math.exp(-0.5 * (a * dx * dx + 2 * b * dx * dy + c * dy * dy));
    let r = Math.exp(-0.5 * (a * (2 * dx + 1) + 2 * b * dy));
    let ux = a * dx + b * dy;
    let uy = b * dx + c * dy;
    const row = j * bw;
    if (!correct) {
      for (let i = i0; i <= i1; i++) {
        buf[row + i] += v;
        v *= r;
        r *= ga;
      }
      continue;
    }
    for (let i = i0; i <= i1; i++) {
      const ux2 = ux * ux;
      const uy2 = uy * uy;
      const d4 = ux2 * (ux2 - 6 * a) + k4x + uy2 * (uy2 - 6 * c) + k4y;
      buf[row + i] += v * (1 - d4 / 2880);
      v *= r;
      r *= ga;
      ux += a;
      uy += b;
    }
  }
}

/** One narrow component: each pixel split into s x s cells (cell <= 0.4 sigma_min), 6 x 6 Gauss-Legendre per cell. */
function drawNarrow(buf: Float64Array, bw: number, bh: number, ox: number, oy: number, flux: number, vxx: number, vxy: number, vyy: number, m2: number, lamMin: number): void {
  const det = vxx * vyy - vxy * vxy;
  const a = vyy / det;
  const b = -vxy / det;
  const c = vxx / det;
  const norm = flux / (2 * Math.PI * Math.sqrt(det));
  const { nodes, weights } = gaussLegendre(6);
  const sub = Math.max(1, Math.ceil(0.4 / Math.sqrt(lamMin)));
  const hx = Math.sqrt(m2 * vxx) + 1;
  const hy = Math.sqrt(m2 * vyy) + 1;
  const i0 = Math.max(0, Math.ceil(ox - hx));
  const i1 = Math.min(bw - 1, Math.floor(ox + hx));
  const j0 = Math.max(0, Math.ceil(oy - hy));
  const j1 = Math.min(bh - 1, Math.floor(oy + hy));
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      let s = 0;
      for (let sy = 0; sy < sub; sy++) {
        for (let q = 0; q < 6; q++) {
          const y = j - oy - 0.5 + (sy + 0.5 + nodes[q]) / sub;
          for (let sx = 0; sx < sub; sx++) {
            for (let p = 0; p < 6; p++) {
              const x = i - ox - 0.5 + (sx + 0.5 + nodes[p]) / sub;
              s += weights[p] * weights[q] * Math.exp(-0.5 * (a * x * x + 2 * b * x * y + c * y * y));
            }
          }
        }
      }
      buf[j * bw + i] += (norm * s) / (sub * sub);
    }
  }
}
