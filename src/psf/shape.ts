/**
 * Size and shape of a PSF image (a model grid or a star stamp): FWHM from the area above half maximum, and adaptive
 * (elliptical-Gaussian-weighted, iterated to match the object) second moments giving a size and an ellipticity.
 *
 * Ellipticity is the second-moment distortion e1 = (Mxx - Myy) / (Mxx + Myy), e2 = 2 Mxy / (Mxx + Myy) (the
 * simulator's convention). FWHM is circularised: 2 sqrt(A / pi) for the area A above half the peak, which is
 * sqrt(FWHM_major FWHM_minor) for elliptical isophotes. Every result is in image pixels.
 */
import { Resampler, type Grid } from './lanczos.js';
import { PsfEvaluator, type PsfModel } from './model.js';

export interface Moments {
  /** centroid, in the grid's sample coordinates */
  x: number;
  y: number;
  /** second moments, image pixels^2 */
  mxx: number;
  myy: number;
  mxy: number;
  /** (det M)^(1/4), image pixels: the Gaussian sigma for a Gaussian profile */
  sigma: number;
  e1: number;
  e2: number;
  /** converged within the iteration limit */
  ok: boolean;
}

/** Scratch-holding measurer (reuse it in loops). */
export class ShapeMeasurer {
  private readonly rs = new Resampler();
  private fine = new Float64Array(0);

  /**
   * FWHM (image pixels) of a grid whose samples are `step` image pixels apart: the peak is refined and the area above
   * half of it counted on a `sub` times finer Lanczos-3 interpolation of the grid.
   */
  fwhm(g: Grid, step: number, sub = 8): number {
    const { width: w, height: h, data } = g;
    let ip = 0;
    for (let k = 1; k < w * h; k++) if (data[k] > data[ip]) ip = k;
    const peak0 = data[ip];
    if (!(peak0 > 0)) return NaN;
    const px = ip % w;
    const py = (ip - px) / w;
    // refine the peak on a fine grid over the +-1 sample neighbourhood
    const nr = 2 * sub + 1;
    this.growFine(nr * nr);
    this.rs.resample(g, px - 1, 1 / sub, nr, py - 1, 1 / sub, nr, this.fine);
    let peak = peak0;
    for (let k = 0; k < nr * nr; k++) if (this.fine[k] > peak) peak = this.fine[k];
    // box of samples above 0.3 peak (connected or not), grown by one sample
    let x0 = px;
    let x1 = px;
    let y0 = py;
    let y1 = py;
    const lim = 0.3 * peak;
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        if (data[j * w + i] < lim) continue;
        if (i < x0) x0 = i;
        if (i > x1) x1 = i;
        if (j < y0) y0 = j;
        if (j > y1) y1 = j;
      }
    }
    x0 = Math.max(0, x0 - 1);
    y0 = Math.max(0, y0 - 1);
    x1 = Math.min(w - 1, x1 + 1);
    y1 = Math.min(h - 1, y1 + 1);
    const nx = (x1 - x0 + 1) * sub;
    const ny = (y1 - y0 + 1) * sub;
    this.growFine(nx * ny);
    const d = 1 / sub;
    this.rs.resample(g, x0 - 0.5 + 0.5 * d, d, nx, y0 - 0.5 + 0.5 * d, d, ny, this.fine);
    // area above half maximum: each fine cell counts the fraction of it above the level, from the local gradient
    // (a linear profile across the cell), which removes most of the cell-counting quantisation
    const half = 0.5 * peak;
    const f = this.fine;
    let count = 0;
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const k = j * nx + i;
        const v = f[k] - half;
        const gx = i > 0 && i < nx - 1 ? 0.5 * (f[k + 1] - f[k - 1]) : 0;
        const gy = j > 0 && j < ny - 1 ? 0.5 * (f[k + nx] - f[k - nx]) : 0;
        const g = Math.abs(gx) + Math.abs(gy);
        if (v >= 0.5 * g) count++;
        else if (v > -0.5 * g) count += 0.5 + v / g;
      }
    }
    const area = count * d * d * step * step;
    return 2 * Math.sqrt(area / Math.PI);
  }

  private growFine(n: number): void {
    if (this.fine.length < n) this.fine = new Float64Array(n);
  }
}

/**
 * Adaptive second moments of a grid (samples `step` image pixels apart; non-finite samples and those with mask
 * weight 0 ignored): iterate an elliptical Gaussian weight of covariance M, re-centred on the weighted centroid,
 * with M <- 2 Q (Q the weighted second moments), the fixed point of which is the object's covariance for a
 * Gaussian. Start at (x0, y0) (sample coordinates) with a circular weight of sigma0 samples.
 */
export function adaptiveMoments(g: Grid, step: number, x0: number, y0: number, sigma0: number, maxIter = 60, tol = 1e-7, weight?: ArrayLike<number>): Moments {
  const { width: w, height: h, data } = g;
  let cx = x0;
  let cy = y0;
  let mxx = sigma0 * sigma0;
  let myy = mxx;
  let mxy = 0;
  let ok = false;
  for (let it = 0; it < maxIter; it++) {
    const det = mxx * myy - mxy * mxy;
    if (!(det > 0)) break;
    const ixx = myy / det;
    const iyy = mxx / det;
    const ixy = -mxy / det;
    const rx = Math.ceil(5 * Math.sqrt(mxx)) + 1;
    const ry = Math.ceil(5 * Math.sqrt(myy)) + 1;
    const i0 = Math.max(0, Math.floor(cx - rx));
    const i1 = Math.min(w - 1, Math.ceil(cx + rx));
    const j0 = Math.max(0, Math.floor(cy - ry));
    const j1 = Math.min(h - 1, Math.ceil(cy + ry));
    let s0 = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    for (let j = j0; j <= j1; j++) {
      const dy = j - cy;
      for (let i = i0; i <= i1; i++) {
        const k = j * w + i;
        const v = data[k];
        if (!(v - v === 0) || (weight && weight[k] === 0)) continue;
        const dx = i - cx;
        const r2 = ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy;
        if (r2 > 36) continue;
        const f = v * Math.exp(-0.5 * r2);
        s0 += f;
        sx += f * dx;
        sy += f * dy;
        sxx += f * dx * dx;
        syy += f * dy * dy;
        sxy += f * dx * dy;
      }
    }
    if (!(s0 > 0)) break;
    const ddx = sx / s0;
    const ddy = sy / s0;
    const qxx = sxx / s0 - ddx * ddx;
    const qyy = syy / s0 - ddy * ddy;
    const qxy = sxy / s0 - ddx * ddy;
    const nxx = 2 * qxx;
    const nyy = 2 * qyy;
    const nxy = 2 * qxy;
    if (!(nxx > 0 && nyy > 0 && nxx * nyy - nxy * nxy > 0)) break;
    const change = Math.abs(nxx - mxx) + Math.abs(nyy - myy) + 2 * Math.abs(nxy - mxy) + Math.abs(ddx) + Math.abs(ddy);
    cx += ddx;
    cy += ddy;
    mxx = nxx;
    myy = nyy;
    mxy = nxy;
    if (change < tol * (mxx + myy)) {
      ok = true;
      break;
    }
  }
  const s2 = step * step;
  const tr = mxx + myy;
  const det = mxx * myy - mxy * mxy;
  return {
    x: cx,
    y: cy,
    mxx: mxx * s2,
    myy: myy * s2,
    mxy: mxy * s2,
    sigma: det > 0 ? Math.sqrt(Math.sqrt(det)) * step : NaN,
    e1: tr > 0 ? (mxx - myy) / tr : NaN,
    e2: tr > 0 ? (2 * mxy) / tr : NaN,
    ok,
  };
}

/** FWHM and adaptive moments of the local model, exact or interpolated on a grid of positions. */
export class LocalShapes {
  private readonly ev: PsfEvaluator;
  private readonly sm = new ShapeMeasurer();
  private readonly img: Float64Array;
  private readonly nodes?: Float64Array;
  private x0 = 0;
  private y0 = 0;
  private dx = 1;
  private dy = 1;
  private readonly c: number;
  private readonly sigma0: number;

  constructor(private readonly model: PsfModel, fx: ArrayLike<number>, fy: ArrayLike<number>, private readonly n: number) {
    this.ev = new PsfEvaluator(model);
    this.img = new Float64Array(model.size * model.size);
    this.c = (model.size - 1) / 2;
    this.sigma0 = (model.fwhm > 0 ? model.fwhm / 2.3548 : 1.5) / model.step;
    if (n < 2) return;
    let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
    for (let i = 0; i < fx.length; i++) {
      if (!Number.isFinite(fx[i]) || !Number.isFinite(fy[i])) continue;
      xmin = Math.min(xmin, fx[i]);
      xmax = Math.max(xmax, fx[i]);
      ymin = Math.min(ymin, fy[i]);
      ymax = Math.max(ymax, fy[i]);
    }
    if (!(xmax >= xmin)) return;
    this.x0 = xmin;
    this.y0 = ymin;
    this.dx = Math.max(xmax - xmin, 1e-9) / (n - 1);
    this.dy = Math.max(ymax - ymin, 1e-9) / (n - 1);
    this.nodes = new Float64Array(n * n * 4);
    const out = new Float64Array(4);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
      this.exact(this.x0 + i * this.dx, this.y0 + j * this.dy, out);
      this.nodes.set(out, (j * n + i) * 4);
    }
  }

  private exact(x: number, y: number, out: Float64Array): void {
    const { model, img } = this;
    this.ev.imageAt(x, y, img);
    const g = { width: model.size, height: model.size, data: img };
    out[0] = this.sm.fwhm(g, model.step);
    const mo = adaptiveMoments(g, model.step, this.c, this.c, this.sigma0);
    out[1] = mo.mxx;
    out[2] = mo.myy;
    out[3] = mo.mxy;
  }

  /** FWHM, X2, Y2, XY at frame position (x, y) into out. */
  at(x: number, y: number, out: Float64Array): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      out.fill(NaN);
      return;
    }
    const nodes = this.nodes;
    if (!nodes) {
      this.exact(x, y, out);
      return;
    }
    const n = this.n;
    const u = Math.min(n - 1, Math.max(0, (x - this.x0) / this.dx));
    const v = Math.min(n - 1, Math.max(0, (y - this.y0) / this.dy));
    const i = Math.min(n - 2, Math.floor(u));
    const j = Math.min(n - 2, Math.floor(v));
    const fu = u - i;
    const fv = v - j;
    const a = (j * n + i) * 4;
    const b = a + 4;
    const c = a + n * 4;
    const d = c + 4;
    for (let q = 0; q < 4; q++) out[q] = (1 - fv) * ((1 - fu) * nodes[a + q] + fu * nodes[b + q]) + fv * ((1 - fu) * nodes[c + q] + fu * nodes[d + q]);
  }
}

/** Size and shape of a model at a frame position: FWHM (half-maximum area) and adaptive moments, image pixels. */
export function psfShapeAt(model: PsfModel, x: number, y: number): { fwhm: number; sigma: number; e1: number; e2: number; mxx: number; myy: number; mxy: number } {
  const img = new PsfEvaluator(model).imageAt(x, y, new Float64Array(model.size * model.size));
  const g = { width: model.size, height: model.size, data: img };
  const c = (model.size - 1) / 2;
  const mo = adaptiveMoments(g, model.step, c, c, (model.fwhm > 0 ? model.fwhm / 2.3548 : 1.5) / model.step);
  return { fwhm: new ShapeMeasurer().fwhm(g, model.step), sigma: mo.sigma, e1: mo.e1, e2: mo.e2, mxx: mo.mxx, myy: mo.myy, mxy: mo.mxy };
}
