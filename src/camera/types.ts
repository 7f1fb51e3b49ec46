/**
 * Camera geometry types and conventions (used by every function in src/camera and by the simulator).
 *
 * Pixels: 0-based (x, y) = (column, row) with pixel centres at integers, as in Plane (src/image/types.ts);
 *   FITS / SExtractor 1-based coordinates are these plus 1. A detector covers [-0.5, width - 0.5] x [-0.5, height - 0.5].
 * Focal plane: millimetres, origin on the optical axis (the pointing), right-handed (x, y). Projected on the sky at
 *   rotator angle 0, +y points north (+eta) and +x points WEST (-xi): a detector with rotation 0 and no flip shows
 *   the sky as astronomers draw it (north up, east left; CD1_1 < 0, CD2_2 > 0).
 * Detector placement: fp = center + pixelSize * R(rotation) * F * A * (p - pc), where pc = ((width-1)/2, (height-1)/2)
 *   is the central pixel, F = diag(1, -1) when `flip` (the detector's y axis mirrored) else identity, A = `affine`
 *   (a near-identity residual scale/shear, default identity) and R(rotation) turns counter-clockwise (+x towards +y)
 *   by `rotation` degrees: the detector's +x pixel axis points at `rotation` degrees from the focal-plane +x axis.
 * Distortion: maps ideal (gnomonic) focal-plane positions u to actual ones d (both mm), in units of rRef:
 *   with (a, b) = u / rRef and r2 = a^2 + b^2,
 *   d / rRef = (a, b) * (1 + k1 r2 + k2 r2^2) + (p1 (r2 + 2 a^2) + 2 p2 a b, p2 (r2 + 2 b^2) + 2 p1 a b)
 *   (radial terms plus a small decentering term). The inverse is iterative.
 * Sky: a pointing (ra, dec) is the tangent point of the gnomonic projection on the optical axis; the rotator angle t is
 *   the position angle (degrees, north through east) of the focal-plane +y axis. Standard coordinates (xi towards east,
 *   eta towards north, degrees) of an ideal focal-plane position (x, y) are
 *   xi = s (-x cos t + y sin t), eta = s (x sin t + y cos t), with s = plateScale / 3600 degrees per mm.
 */

/** Optical distortion field (see the module comment). All coefficients 0 means none. */
export interface Distortion {
  /** normalising radius, mm */
  readonly rRef: number;
  readonly k1: number;
  readonly k2: number;
  /** decentering (non-radial) coefficients */
  readonly p1?: number;
  readonly p2?: number;
}

/** One CCD. */
export interface DetectorGeom {
  /** detector id (unique, used in file names) */
  readonly id: number;
  readonly name: string;
  /** pixels */
  readonly width: number;
  readonly height: number;
  /** pixel pitch, mm */
  readonly pixelSize: number;
  /** focal-plane position (mm) of the central pixel ((width-1)/2, (height-1)/2) */
  readonly center: readonly [number, number];
  /** degrees, counter-clockwise from the focal-plane +x axis to the detector's +x pixel axis */
  readonly rotation: number;
  /** the detector's y axis is mirrored */
  readonly flip?: boolean;
  /** residual linear map [a11, a12, a21, a22] applied before the flip and rotation (default identity) */
  readonly affine?: readonly [number, number, number, number];
}

/** A camera: plate scale, detectors, distortion. */
export interface Camera {
  readonly name: string;
  readonly description?: string;
  /** arcsec per mm on the optical axis */
  readonly plateScale: number;
  readonly detectors: readonly DetectorGeom[];
  readonly distortion: Distortion;
}

/** A telescope pointing: tangent point (deg) and rotator angle (deg, position angle of the focal-plane +y axis). */
export interface Pointing {
  readonly ra: number;
  readonly dec: number;
  readonly rotation: number;
}

export const NO_DISTORTION: Distortion = { rRef: 1, k1: 0, k2: 0, p1: 0, p2: 0 };
