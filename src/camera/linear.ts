/**
 * Detectors from per-CCD linear sky models: each CCD's 1-based pixels map linearly to standard coordinates about
 * the field centre (xi, eta) = CD (p - CRPIX), the SCAMP .ahead / simple-TAN-header form. The focal-plane
 * placement (centre, rotation, flip, residual affine) follows by a QR-style decomposition of the linear map.
 */
import type { Camera, DetectorGeom } from './types.js';
import { NO_DISTORTION } from './types.js';

const R2D = 180 / Math.PI;

/** One CCD's linear model: pixel grid size, CRPIX (1-based), CD (deg per pixel) and the offset of our pixel 0. */
export interface LinearCcd {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly crpix: readonly [number, number];
  /** [cd11, cd12, cd21, cd22], deg per pixel */
  readonly cd: readonly [number, number, number, number];
  /** the model's 1-based pixel coordinate of our 0-based pixel (0, 0), default (1, 1) */
  readonly origin?: readonly [number, number];
}

/**
 * A detector whose 0-based pixel p lands at focal-plane fp = fp0 + M p (mm), decomposed as
 * M = pixelSize R(rotation) F A with A upper triangular (a21 = 0, positive diagonal).
 */
export function detectorFromLinear(
  id: number,
  name: string,
  width: number,
  height: number,
  pixelSize: number,
  fp0: readonly [number, number],
  m: readonly [number, number, number, number],
): DetectorGeom {
  const n11 = m[0] / pixelSize;
  const n12 = m[1] / pixelSize;
  const n21 = m[2] / pixelSize;
  const n22 = m[3] / pixelSize;
  const rot = Math.atan2(n21, n11);
  const c = Math.cos(rot);
  const s = Math.sin(rot);
  // R^-1 N = [[c n11 + s n21, c n12 + s n22], [-s n11 + c n21, -s n12 + c n22]]
  const a11 = c * n11 + s * n21;
  const a12 = c * n12 + s * n22;
  const b22 = -s * n12 + c * n22;
  const flip = b22 < 0;
  const a22 = Math.abs(b22);
  const pcx = (width - 1) / 2;
  const pcy = (height - 1) / 2;
  const center: [number, number] = [fp0[0] + m[0] * pcx + m[1] * pcy, fp0[1] + m[2] * pcx + m[3] * pcy];
  const det: DetectorGeom = { id, name, width, height, pixelSize, center, rotation: rot * R2D, ...(flip ? { flip: true } : {}) };
  const isIdentity = Math.abs(a11 - 1) < 1e-12 && Math.abs(a12) < 1e-12 && Math.abs(a22 - 1) < 1e-12;
  return isIdentity ? det : { ...det, affine: [a11, a12, 0, a22] };
}

/** Median of a non-empty list. */
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** Pixel scale (arcsec per pixel) of a CD matrix: sqrt |det|. */
export function cdPixelScale(cd: readonly [number, number, number, number]): number {
  return Math.sqrt(Math.abs(cd[0] * cd[3] - cd[1] * cd[2])) * 3600;
}

export interface LinearCameraOptions {
  name: string;
  description?: string;
  /** mm */
  pixelSize: number;
  /** arcsec per mm; default the median CCD pixel scale divided by the pixel size */
  plateScale?: number;
}

/**
 * A camera (no distortion field: the per-CCD linear models already carry the first-order distortion, which shows as
 * each detector's residual affine) from linear models about a common field centre, ids 0.. in order.
 */
export function cameraFromLinear(ccds: readonly LinearCcd[], opts: LinearCameraOptions): Camera {
  if (!ccds.length) throw new RangeError('no CCD models');
  const plateScale = opts.plateScale ?? median(ccds.map((c) => cdPixelScale(c.cd))) / opts.pixelSize;
  const k = 3600 / plateScale; // mm per degree
  const detectors = ccds.map((c, id) => {
    // ideal fp (mm) = (-xi, eta) * k, (xi, eta) = CD (P - CRPIX), P = p + origin
    const [o1, o2] = c.origin ?? [1, 1];
    const m: [number, number, number, number] = [-k * c.cd[0], -k * c.cd[1], k * c.cd[2], k * c.cd[3]];
    const dx = o1 - c.crpix[0];
    const dy = o2 - c.crpix[1];
    const fp0: [number, number] = [m[0] * dx + m[1] * dy, m[2] * dx + m[3] * dy];
    return detectorFromLinear(id, c.name, c.width, c.height, opts.pixelSize, fp0, m);
  });
  return { name: opts.name, ...(opts.description ? { description: opts.description } : {}), plateScale, detectors, distortion: NO_DISTORTION };
}

/**
 * The nominal (header) TAN model of a detector for a camera at rotator angle `rotation`: CRPIX (1-based) and CD (deg
 * per pixel) of its rigid placement (centre, rotation, flip, pixel size, plate scale), ignoring the residual affine and
 * the distortion field, as approximate raw headers do. CRVAL is the pointing.
 */
export function nominalLinear(cam: Camera, det: DetectorGeom, rotation: number): { crpix: [number, number]; cd: [number, number, number, number] } {
  const s = cam.plateScale / 3600;
  const t = (rotation * Math.PI) / 180;
  const ct = Math.cos(t);
  const st = Math.sin(t);
  const r = (det.rotation * Math.PI) / 180;
  const cr = Math.cos(r);
  const sr = Math.sin(r);
  const f = det.flip ? -1 : 1;
  const ps = det.pixelSize;
  // mm per pixel (rigid): [[cr, -sr f], [sr, cr f]] * ps
  const m11 = ps * cr;
  const m12 = -ps * sr * f;
  const m21 = ps * sr;
  const m22 = ps * cr * f;
  // std = s [[-ct, st], [st, ct]] fp
  const cd: [number, number, number, number] = [
    s * (-ct * m11 + st * m21),
    s * (-ct * m12 + st * m22),
    s * (st * m11 + ct * m21),
    s * (st * m12 + ct * m22),
  ];
  // the optical axis (fp = 0) in 0-based pixels: p = pc - M^-1 c
  const detM = m11 * m22 - m12 * m21;
  const cx = det.center[0];
  const cy = det.center[1];
  const px = (det.width - 1) / 2 - (m22 * cx - m12 * cy) / detM;
  const py = (det.height - 1) / 2 - (-m21 * cx + m11 * cy) / detM;
  return { crpix: [px + 1, py + 1], cd };
}
