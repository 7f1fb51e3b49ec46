/**
 * Orientation helpers of the focal-plane PSF model (focal.ts).
 *
 * The visit model lives in the pixel axes of the reference orientation: the focal-plane axes (rotation 0, no flip).
 * A detector whose pixel axes are rotated by a multiple of 90 degrees and/or flipped relative to them (camera
 * convention fp = c + M (p - pc), M = pixelSize R(rotation) F A, src/camera/types.ts) has a dihedral matrix D, the
 * signed permutation nearest M / pixelSize: a CCD pixel offset d is the offset D d in the reference axes. Stamps are
 * re-oriented by permuting pixels (no resampling; any residual rotation, below 1 degree in practice, is ignored) and
 * the model is turned back for the CCD the same way. The per-CCD model in the CCD's own pixel frame (ccdModelFromFocal)
 * re-expresses the focal polynomial in X_IMAGE, Y_IMAGE: exact for the cameras' affine pixel -> focal maps.
 */
import { detectorXf, pixelToFocal } from '../camera/geometry.js';
import type { DetectorGeom } from '../camera/types.js';
import type { Plane } from '../image/types.js';
import { normaliseCoeffs, PsfEvaluator, type PsfModel } from './model.js';
import { ccdFrame, evalTerms, nTerms } from './poly.js';
import { ShapeMeasurer } from './shape.js';
import { cholesky, choleskySolve } from './solve.js';

/** A signed permutation matrix [d00, d01, d10, d11] (row-major): reference offset = D x CCD pixel offset. */
export type Dihedral = readonly [number, number, number, number];

export const IDENTITY: Dihedral = [1, 0, 0, 1];

/** The detector's dihedral orientation and the residual rotation (degrees) it ignores. */
export function detectorDihedral(det: DetectorGeom): { d: Dihedral; residualDeg: number } {
  const m = detectorXf(det).m;
  const s = Math.sqrt(Math.abs(m[0] * m[3] - m[1] * m[2]));
  const n = m.map((v) => v / s);
  // the nearest signed permutation: the larger entry of the first column decides whether the axes swap
  let d: [number, number, number, number];
  if (Math.abs(n[0]) >= Math.abs(n[2])) d = [Math.sign(n[0]) || 1, 0, 0, Math.sign(n[3]) || 1];
  else d = [0, Math.sign(n[1]) || 1, Math.sign(n[2]) || 1, 0];
  // residual: angle between the first column of M and that of D
  const dot = n[0] * d[0] + n[2] * d[2];
  const cross = d[0] * n[2] - d[2] * n[0];
  return { d, residualDeg: (Math.atan2(cross, dot) * 180) / Math.PI };
}

export const isIdentity = (d: Dihedral): boolean => d[0] === 1 && d[1] === 0 && d[2] === 0 && d[3] === 1;
const swaps = (d: Dihedral): boolean => d[0] === 0;

/** Size of the re-oriented image. */
export function orientedSize(d: Dihedral, width: number, height: number): [number, number] {
  return swaps(d) ? [height, width] : [width, height];
}

/** 0-based position in the re-oriented image of a 0-based CCD pixel position. */
export function orientPoint(d: Dihedral, width: number, height: number, x: number, y: number): [number, number] {
  const [w2, h2] = orientedSize(d, width, height);
  const dx = x - (width - 1) / 2;
  const dy = y - (height - 1) / 2;
  return [(w2 - 1) / 2 + d[0] * dx + d[1] * dy, (h2 - 1) / 2 + d[2] * dx + d[3] * dy];
}

type PixelArray = Float32Array | Uint8Array | Int32Array;

/** A per-pixel array of a width x height CCD re-oriented (pixels permuted) into `out` (allocated when absent). */
export function orientArray<T extends PixelArray>(d: Dihedral, width: number, height: number, src: T, out?: T): T {
  const [w2, h2] = orientedSize(d, width, height);
  const dst = out ?? (new (src.constructor as new (n: number) => T)(w2 * h2));
  // source pixel of oriented pixel (u, v): (x, y) - pc = D^T ((u, v) - pc'), in doubled integer arithmetic
  for (let v = 0; v < h2; v++) {
    const bv = 2 * v - (h2 - 1);
    for (let u = 0; u < w2; u++) {
      const bu = 2 * u - (w2 - 1);
      const x = (width - 1 + d[0] * bu + d[2] * bv) / 2;
      const y = (height - 1 + d[1] * bu + d[3] * bv) / 2;
      dst[v * w2 + u] = src[y * width + x];
    }
  }
  return dst;
}

/** A plane re-oriented. */
export function orientPlane(d: Dihedral, p: Plane): Plane {
  const [w2, h2] = orientedSize(d, p.width, p.height);
  return { width: w2, height: h2, data: orientArray(d, p.width, p.height, p.data) };
}

/**
 * Model sample images (size x size each, `count` of them, consecutive) turned from the reference orientation into the
 * CCD's pixel axes: CCD sample at offset p = reference sample at offset D p.
 */
export function modelToCcdAxes(d: Dihedral, coeffs: Float64Array, size: number, count: number): Float64Array {
  const npix = size * size;
  const out = new Float64Array(coeffs.length);
  const c = (size - 1) / 2;
  for (let t = 0; t < count; t++) {
    const o = t * npix;
    for (let q = -c; q <= c; q++) {
      for (let p = -c; p <= c; p++) {
        const u = d[0] * p + d[1] * q + c;
        const v = d[2] * p + d[3] * q + c;
        out[o + (q + c) * size + (p + c)] = coeffs[o + v * size + u];
      }
    }
  }
  return out;
}

/**
 * The visit model re-expressed for one CCD: a polynomial of the same degree in that CCD's X_IMAGE, Y_IMAGE (ccdFrame),
 * least-squares fitted to the focal model sampled on a (degree + 3)^2 grid over the CCD (exact for an affine
 * pixel -> focal map), its sample images turned into the CCD's pixel axes. `fwhm` is measured at the CCD centre.
 */
export function ccdModelFromFocal(model: PsfModel, det: DetectorGeom, d: Dihedral): PsfModel {
  const frame = ccdFrame(det.width, det.height);
  const deg = model.degree;
  const nt = nTerms(deg);
  const npix = model.size * model.size;
  const g = deg + 3;
  const ata = new Float64Array(nt * nt);
  const atb = new Float64Array(nt * npix);
  const terms = new Float64Array(nt);
  const img = new Float64Array(npix);
  const ev = new PsfEvaluator(model);
  for (let j = 0; j < g; j++) {
    for (let i = 0; i < g; i++) {
      const X = 1 + ((det.width - 1) * i) / (g - 1);
      const Y = 1 + ((det.height - 1) * j) / (g - 1);
      const [fx, fy] = pixelToFocal(det, X - 1, Y - 1);
      ev.imageAt(fx, fy, img);
      evalTerms(frame, deg, X, Y, terms);
      for (let a = 0; a < nt; a++) {
        for (let b = 0; b < nt; b++) ata[a * nt + b] += terms[a] * terms[b];
        const o = a * npix;
        const ta = terms[a];
        for (let k = 0; k < npix; k++) atb[o + k] += ta * img[k];
      }
    }
  }
  if (!cholesky(ata, nt)) throw new RangeError(`cannot re-express the focal-plane PSF model on detector ${det.id}`);
  choleskySolve(ata, nt, atb, npix);
  const coeffs = modelToCcdAxes(d, atb, model.size, nt);
  normaliseCoeffs(coeffs, nt, npix);
  const base: PsfModel = { size: model.size, step: model.step, degree: deg, frame, coeffs, nStars: model.nStars, residual: model.residual, fwhm: NaN };
  const centre = new PsfEvaluator(base).imageAt(frame.zero[0], frame.zero[1], new Float64Array(npix));
  const fwhm = new ShapeMeasurer().fwhm({ width: model.size, height: model.size, data: centre }, model.step);
  return { ...base, fwhm };
}
