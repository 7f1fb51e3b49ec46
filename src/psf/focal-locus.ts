/**
 * The visit's stellar locus over the focal plane, to reject non-stars from the per-CCD star selections.
 *
 * Quick mode finds the stellar locus per CCD (the mode of ln FLUX_RADIUS among bright compact objects): on a CCD with
 * almost no stars (a dark cloud) that mode is made of compact galaxies, which a model fitted to them cannot reveal.
 * Over the whole visit, the stars dominate: the reducer fits ln FLUX_RADIUS as a quadratic polynomial of the
 * focal-plane position to every CCD's selected stars with iterative clipping (start: the median, band 0.2 as the
 * per-CCD selection's tolerance; then the quadratic, band max(minBand, 3 x robust sigma)), and each CCD then leaves
 * out of the fit the stars outside the band (PSF_STAR 4). Reserve stars are not touched.
 */
import { reduce, type PsfFrame } from './poly.js';
import { cholesky, choleskySolve } from './solve.js';

/** The locus: ln FLUX_RADIUS = sum c_t P_t(u, v) (degree 2, PSFEx term order) within +-band. */
export interface FocalLocus {
  readonly frame: PsfFrame;
  readonly coeffs: readonly number[];
  readonly band: number;
  /** stars inside the band / stars given */
  readonly nIn: number;
  readonly nAll: number;
}

/** Star samples of one CCD for the locus (its non-reserve selected stars): focal-plane mm and ln FLUX_RADIUS. */
export interface LocusSamples {
  fx: Float64Array;
  fy: Float64Array;
  lnr: Float64Array;
}

const TERMS = 6;

function terms(frame: PsfFrame, x: number, y: number, out: Float64Array): void {
  const [u, v] = reduce(frame, x, y);
  out[0] = 1;
  out[1] = u;
  out[2] = u * u;
  out[3] = v;
  out[4] = u * v;
  out[5] = v * v;
}

/** ln FLUX_RADIUS of the locus at a focal-plane position. */
export function locusAt(l: FocalLocus, x: number, y: number): number {
  const t = new Float64Array(TERMS);
  terms(l.frame, x, y, t);
  let s = 0;
  for (let k = 0; k < l.coeffs.length; k++) s += l.coeffs[k] * t[k];
  return s;
}

function medianOf(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** Fit the locus to the samples of every CCD (in detector order); undefined when there are too few stars. */
export function fitFocalLocus(samples: readonly LocusSamples[], frame: PsfFrame, minBand = 0.06, minStars = 30): FocalLocus | undefined {
  const x: number[] = [];
  const y: number[] = [];
  const z: number[] = [];
  for (const s of samples) {
    for (let k = 0; k < s.lnr.length; k++) {
      if (!Number.isFinite(s.lnr[k]) || !Number.isFinite(s.fx[k]) || !Number.isFinite(s.fy[k])) continue;
      x.push(s.fx[k]);
      y.push(s.fy[k]);
      z.push(s.lnr[k]);
    }
  }
  const n = z.length;
  if (n < minStars) return undefined;
  let coeffs = [medianOf(z), 0, 0, 0, 0, 0];
  let band = 0.2;
  const t = new Float64Array(TERMS);
  const resid = (i: number): number => {
    terms(frame, x[i], y[i], t);
    let s = 0;
    for (let k = 0; k < TERMS; k++) s += coeffs[k] * t[k];
    return z[i] - s;
  };
  for (let iter = 0; iter < 4; iter++) {
    const ata = new Float64Array(TERMS * TERMS);
    const atb = new Float64Array(TERMS);
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (!(Math.abs(resid(i)) <= band)) continue;
      terms(frame, x[i], y[i], t);
      for (let a = 0; a < TERMS; a++) {
        atb[a] += t[a] * z[i];
        for (let b = 0; b < TERMS; b++) ata[a * TERMS + b] += t[a] * t[b];
      }
      m++;
    }
    if (m < minStars || !cholesky(ata, TERMS)) break;
    choleskySolve(ata, TERMS, atb, 1);
    coeffs = Array.from(atb);
    const dev: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = resid(i);
      if (Math.abs(r) <= band) dev.push(Math.abs(r));
    }
    band = Math.min(0.2, Math.max(minBand, 3 * 1.4826 * medianOf(dev)));
  }
  let nIn = 0;
  for (let i = 0; i < n; i++) if (Math.abs(resid(i)) <= band) nIn++;
  return { frame, coeffs, band, nIn, nAll: n };
}
