/**
 * The pixelized, position-variable PSF model.
 *
 * The model is a size x size grid of samples, `step` image pixels apart (1 / oversampling), centred on sample
 * (c, c) with c = (size - 1) / 2 (size is odd). Each sample is a polynomial of the frame position (poly.ts):
 * image(x, y)[k] = sum_t P_t(x, y) coeffs[t * npix + k]. It describes the effective PSF (optics, atmosphere and
 * pixel response) and is normalised to unit sum over the grid at every position: the constant term's samples sum to
 * 1 and every other term's to 0. A sample value is the fraction of the flux in a step x step cell, so the flux
 * falling in one image pixel centred at offset (dx, dy) from the centre is value(c + dx / step, c + dy / step) / step^2.
 */
import { evalTerms, nTerms, termExponents, type PsfFrame } from './poly.js';

/** Shape of a model: grid size, sampling step, polynomial degree and frame. */
export interface PsfGeometry {
  /** samples per side (odd) */
  readonly size: number;
  /** image pixels per sample: 1 (oversampling 1) or 0.5 (oversampling 2); PSFEx files may hold other values */
  readonly step: number;
  /** polynomial degree (accumulated: the maximum; solved: the one chosen) */
  readonly degree: number;
  readonly frame: PsfFrame;
}

export interface PsfModel extends PsfGeometry {
  /** nTerms(degree) x size^2 coefficients, term-major: coeffs[t * size^2 + j * size + i] */
  readonly coeffs: Float64Array;
  /** stars that entered the fit */
  readonly nStars: number;
  /** FWHM (image pixels) at the frame zero point, from the half-maximum area of the model */
  readonly fwhm: number;
  /** weighted mean squared residual per sample of the normalised stamps (diagnostic) */
  readonly residual: number;
}

/** Geometry checks shared by the accumulate, solve and I/O steps. */
export function checkGeometry(g: PsfGeometry): void {
  if (!Number.isInteger(g.size) || g.size < 3 || g.size % 2 !== 1) throw new RangeError(`PSF size must be an odd integer >= 3, got ${g.size}`);
  if (!(g.step > 0 && g.step <= 8)) throw new RangeError(`PSF sampling step must be in (0, 8], got ${g.step}`);
  if (!Number.isInteger(g.degree) || g.degree < 0 || g.degree > 6) throw new RangeError(`PSF polynomial degree must be 0..6, got ${g.degree}`);
  if (!(g.frame.scale[0] > 0 && g.frame.scale[1] > 0)) throw new RangeError('PSF frame scales must be > 0');
}

/** Odd model size covering `factor` x FWHM image pixels at sampling `step`, clamped to [minSize, maxSize]. */
export function modelSize(fwhm: number, step: number, factor = 6, minSize = 11, maxSize = 75): number {
  let n = Math.ceil((factor * fwhm) / step);
  if (n % 2 === 0) n++;
  n = Math.max(minSize, Math.min(maxSize, n));
  return n % 2 === 0 ? n + 1 : n;
}

/** Reusable scratch for model evaluation. */
export class PsfEvaluator {
  private readonly terms: Float64Array;
  readonly npix: number;
  constructor(readonly model: PsfModel) {
    this.terms = new Float64Array(nTerms(model.degree));
    this.npix = model.size * model.size;
  }
  /** The model grid at frame position (x, y), into out (length size^2); returns out. */
  imageAt(x: number, y: number, out: Float64Array, coeffs: Float64Array = this.model.coeffs): Float64Array {
    const { npix, terms } = this;
    evalTerms(this.model.frame, this.model.degree, x, y, terms);
    for (let k = 0; k < npix; k++) out[k] = coeffs[k];
    for (let t = 1; t < terms.length; t++) {
      const p = terms[t];
      const o = t * npix;
      for (let k = 0; k < npix; k++) out[k] += p * coeffs[o + k];
    }
    return out;
  }
}

/** The model grid at frame position (x, y) (allocates; use PsfEvaluator in loops). */
export function psfImageAt(model: PsfModel, x: number, y: number): Float64Array {
  return new PsfEvaluator(model).imageAt(x, y, new Float64Array(model.size * model.size));
}

/** Term exponents of a model (PSFEx order), for writers. */
export function modelTerms(model: PsfGeometry): Int32Array {
  return termExponents(model.degree);
}

/**
 * Make a model sum to 1 at every position: the constant term is scaled to unit sum and, from every other term,
 * its sum times the normalised constant term is subtracted (in place).
 */
export function normaliseCoeffs(coeffs: Float64Array, nt: number, npix: number): void {
  let s0 = 0;
  for (let k = 0; k < npix; k++) s0 += coeffs[k];
  if (!(s0 !== 0 && Number.isFinite(s0))) throw new RangeError('PSF model constant term has no flux');
  for (let k = 0; k < npix; k++) coeffs[k] /= s0;
  for (let t = 1; t < nt; t++) {
    const o = t * npix;
    let st = 0;
    for (let k = 0; k < npix; k++) st += coeffs[o + k];
    for (let k = 0; k < npix; k++) coeffs[o + k] -= st * coeffs[k];
  }
}
