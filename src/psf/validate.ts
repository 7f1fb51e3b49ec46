/**
 * Validation of a PSF model on stars that were not used to fit it (the reserved stars):
 *  - flux: FLUX_PSF against a large circular aperture (radius default: the model half-width) measured on the same
 *    pixels, the model's own flux fraction in that aperture taken into account: (aperture flux) / (FLUX_PSF x model
 *    fraction in the aperture) - 1, so a perfect model gives 0 whatever the aperture;
 *  - size: adaptive-moment sigma of the star over that of the model shifted onto the same pixels, minus 1;
 *  - ellipticity: e1, e2 of the star minus those of the model (adaptive moments, same pixels).
 */
import { pixelCircleOverlap } from '../measure/overlap.js';
import type { PsfModel } from './model.js';
import { SourceFitter, type PsfPhotometryInput } from './photometry.js';
import { adaptiveMoments } from './shape.js';

export interface ResidualStats {
  median: number;
  /** 1.4826 x median absolute deviation */
  scatter: number;
  mean: number;
}

export interface ReserveResiduals {
  /** stars measured (input rows with a usable fit) */
  n: number;
  /** per input star (NaN when the fit or the moments failed) */
  flux: Float64Array;
  size: Float64Array;
  e1: Float64Array;
  e2: Float64Array;
  stats: { flux: ResidualStats; size: ResidualStats; e1: ResidualStats; e2: ResidualStats };
}

export interface ReserveOptions {
  /** aperture radius, image pixels (default: the model half-width) */
  apertureRadius?: number;
}

/** Median, robust scatter and mean of the finite values. */
export function residualStats(v: ArrayLike<number>): ResidualStats {
  const a: number[] = [];
  for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i])) a.push(v[i]);
  if (a.length === 0) return { median: NaN, scatter: NaN, mean: NaN };
  a.sort((x, y) => x - y);
  const med = (s: number[]) => (s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]));
  const m = med(a);
  const dev = a.map((x) => Math.abs(x - m)).sort((x, y) => x - y);
  return { median: m, scatter: 1.4826 * med(dev), mean: a.reduce((s, x) => s + x, 0) / a.length };
}

/** Residuals of the model on the stars of `input` (typically the reserved stars). */
export function reserveResiduals(model: PsfModel, input: PsfPhotometryInput, opts: ReserveOptions = {}): ReserveResiduals {
  const n = input.x.length;
  const R = opts.apertureRadius ?? ((model.size - 1) / 2) * model.step;
  const fitter = new SourceFitter(model, input, { fitRadius: R + 1, spread: false });
  const out = { flux: new Float64Array(n).fill(NaN), size: new Float64Array(n).fill(NaN), e1: new Float64Array(n).fill(NaN), e2: new Float64Array(n).fill(NaN) };
  const sigma0 = (model.fwhm > 0 ? model.fwhm / 2.3548 : 1.5);
  let count = 0;
  let wbuf = new Float64Array(0);
  for (let i = 0; i < n; i++) {
    const r = fitter.fit(i);
    if (!Number.isFinite(r.flux) || !(r.flux > 0)) continue;
    count++;
    const { nx, ny, px0, py0 } = r;
    const x = input.x[i];
    const y = input.y[i];
    let sd = 0;
    let sm = 0;
    for (let jy = 0; jy < ny; jy++) {
      for (let jx = 0; jx < nx; jx++) {
        const q = jy * nx + jx;
        if (!fitter.used[q]) continue;
        const a = pixelCircleOverlap(px0 + jx - x, py0 + jy - y, R);
        if (a === 0) continue;
        sd += a * fitter.data[q];
        sm += a * fitter.phi[q];
      }
    }
    out.flux[i] = sd / (r.flux * sm) - 1;
    if (wbuf.length < nx * ny) wbuf = new Float64Array(nx * ny);
    for (let q = 0; q < nx * ny; q++) wbuf[q] = fitter.used[q];
    const star = adaptiveMoments({ width: nx, height: ny, data: fitter.data }, 1, x - px0, y - py0, sigma0, 60, 1e-7, wbuf);
    const mod = adaptiveMoments({ width: nx, height: ny, data: fitter.phi }, 1, x - px0, y - py0, sigma0, 60, 1e-7, wbuf);
    if (star.ok && mod.ok) {
      out.size[i] = star.sigma / mod.sigma - 1;
      out.e1[i] = star.e1 - mod.e1;
      out.e2[i] = star.e2 - mod.e2;
    }
  }
  return {
    n: count,
    ...out,
    stats: { flux: residualStats(out.flux), size: residualStats(out.size), e1: residualStats(out.e1), e2: residualStats(out.e2) },
  };
}
