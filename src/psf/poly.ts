/**
 * The position polynomial of the PSF model: the frame (which two coordinates, their offset and scale) and the
 * monomial terms, in PSFEx's order.
 *
 * Positions are reduced as u = (X - zero[0]) / scale[0], v = (Y - zero[1]) / scale[1] (PSFEx's POLZERO / POLSCAL).
 * The terms of degree d are u^px v^py with px + py <= d, ordered with py outer and px inner:
 * 1, u, u^2, ..., v, u v, ..., v^2, ... (PSFEx's PSF_MASK plane order). The frame is a parameter: CCD pixels
 * (X_IMAGE, Y_IMAGE, 1-based) in quick mode, focal-plane millimetres in production.
 */

/** Coordinate frame of the PSF variation. */
export interface PsfFrame {
  /** context names, as PSFEx's POLNAME1/2 (e.g. X_IMAGE, Y_IMAGE or FOCAL_X, FOCAL_Y) */
  readonly names: readonly [string, string];
  readonly zero: readonly [number, number];
  readonly scale: readonly [number, number];
}

/** The frame of one CCD in pixels: X_IMAGE, Y_IMAGE (1-based) reduced to about [-0.5, 0.5] over the CCD. */
export function ccdFrame(width: number, height: number): PsfFrame {
  return { names: ['X_IMAGE', 'Y_IMAGE'], zero: [(width + 1) / 2, (height + 1) / 2], scale: [Math.max(1, width), Math.max(1, height)] };
}

/** A focal-plane frame in millimetres centred on the optical axis; `radius` (mm) sets the scale. */
export function focalFrame(radius: number): PsfFrame {
  return { names: ['FOCAL_X', 'FOCAL_Y'], zero: [0, 0], scale: [2 * radius, 2 * radius] };
}

/** Number of terms of a degree-d polynomial in two variables. */
export function nTerms(degree: number): number {
  return ((degree + 1) * (degree + 2)) / 2;
}

/** Exponents (px, py) of the terms of degree `degree`, flattened [px0, py0, px1, py1, ...], PSFEx order. */
export function termExponents(degree: number): Int32Array {
  const out = new Int32Array(2 * nTerms(degree));
  let k = 0;
  for (let py = 0; py <= degree; py++) {
    for (let px = 0; px <= degree - py; px++) {
      out[k++] = px;
      out[k++] = py;
    }
  }
  return out;
}

/**
 * Indices, within the degree-`full` term list, of the degree-`sub` terms in their own PSFEx order (sub <= full):
 * the normal equations of a lower degree are the corresponding sub-matrix of the higher degree's.
 */
export function subTermIndex(full: number, sub: number): Int32Array {
  if (sub > full) throw new RangeError(`polynomial degree ${sub} exceeds the accumulated degree ${full}`);
  const f = termExponents(full);
  const s = termExponents(sub);
  const out = new Int32Array(nTerms(sub));
  for (let t = 0; t < out.length; t++) {
    let found = -1;
    for (let q = 0; q < f.length / 2; q++) {
      if (f[2 * q] === s[2 * t] && f[2 * q + 1] === s[2 * t + 1]) found = q;
    }
    out[t] = found;
  }
  return out;
}

/** Reduced coordinates (u, v) of a frame position. */
export function reduce(frame: PsfFrame, x: number, y: number): [number, number] {
  return [(x - frame.zero[0]) / frame.scale[0], (y - frame.zero[1]) / frame.scale[1]];
}

/** Values of the degree-`degree` terms at frame position (x, y), written to out (length nTerms(degree)). */
export function evalTerms(frame: PsfFrame, degree: number, x: number, y: number, out: Float64Array): Float64Array {
  const u = (x - frame.zero[0]) / frame.scale[0];
  const v = (y - frame.zero[1]) / frame.scale[1];
  let k = 0;
  let vp = 1;
  for (let py = 0; py <= degree; py++) {
    let up = 1;
    for (let px = 0; px <= degree - py; px++) {
      out[k++] = up * vp;
      up *= u;
    }
    vp *= v;
  }
  return out;
}
