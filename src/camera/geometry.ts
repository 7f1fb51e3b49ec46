/**
 * Camera geometry transforms (conventions in types.ts):
 *   pixel (0-based) <-> actual focal plane (mm)            per detector, affine
 *   actual focal plane <-> ideal focal plane (mm)          the camera's distortion field (inverse by Newton iteration)
 *   ideal focal plane <-> standard coordinates <-> sky     plate scale, rotator angle, gnomonic projection
 */
import { skyToStd, stdToSky } from './tan.js';
import type { Camera, DetectorGeom, Distortion, Pointing } from './types.js';

const D2R = Math.PI / 180;

/** The affine pixel -> focal-plane map of a detector: fp = c + M (p - pc), and its inverse matrix. */
export interface DetectorXf {
  /** [m11, m12, m21, m22], mm per pixel */
  readonly m: readonly [number, number, number, number];
  /** inverse of m, pixels per mm */
  readonly inv: readonly [number, number, number, number];
  /** central pixel (0-based) */
  readonly pcx: number;
  readonly pcy: number;
  /** focal-plane centre, mm */
  readonly cx: number;
  readonly cy: number;
}

const XF_CACHE = new WeakMap<DetectorGeom, DetectorXf>();

/** The detector's linear map M = pixelSize R(rotation) F A (cached per detector object). */
export function detectorXf(det: DetectorGeom): DetectorXf {
  const cached = XF_CACHE.get(det);
  if (cached) return cached;
  const t = det.rotation * D2R;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const f = det.flip ? -1 : 1;
  const [a11, a12, a21, a22] = det.affine ?? [1, 0, 0, 1];
  // R F = [[c, -s f], [s, c f]]
  const r11 = c;
  const r12 = -s * f;
  const r21 = s;
  const r22 = c * f;
  const ps = det.pixelSize;
  const m: [number, number, number, number] = [
    ps * (r11 * a11 + r12 * a21),
    ps * (r11 * a12 + r12 * a22),
    ps * (r21 * a11 + r22 * a21),
    ps * (r21 * a12 + r22 * a22),
  ];
  const det2 = m[0] * m[3] - m[1] * m[2];
  const xf: DetectorXf = {
    m,
    inv: [m[3] / det2, -m[1] / det2, -m[2] / det2, m[0] / det2],
    pcx: (det.width - 1) / 2,
    pcy: (det.height - 1) / 2,
    cx: det.center[0],
    cy: det.center[1],
  };
  XF_CACHE.set(det, xf);
  return xf;
}

/** Actual focal-plane position (mm) of a 0-based pixel position. */
export function pixelToFocal(det: DetectorGeom, x: number, y: number): [number, number] {
  const t = detectorXf(det);
  const dx = x - t.pcx;
  const dy = y - t.pcy;
  return [t.cx + t.m[0] * dx + t.m[1] * dy, t.cy + t.m[2] * dx + t.m[3] * dy];
}

/** 0-based pixel position of an actual focal-plane position (mm) in a detector's frame (may be outside it). */
export function focalToPixel(det: DetectorGeom, fx: number, fy: number): [number, number] {
  const t = detectorXf(det);
  const dx = fx - t.cx;
  const dy = fy - t.cy;
  return [t.pcx + t.inv[0] * dx + t.inv[1] * dy, t.pcy + t.inv[2] * dx + t.inv[3] * dy];
}

/** True if a 0-based pixel position lies on the detector (within its pixel edges). */
export function onDetector(det: DetectorGeom, x: number, y: number): boolean {
  return x >= -0.5 && x <= det.width - 0.5 && y >= -0.5 && y <= det.height - 0.5;
}

/** Focal-plane positions (mm) of the detector's four outer corners (pixel edges), counter-clockwise from (0, 0). */
export function detectorCorners(det: DetectorGeom): [number, number][] {
  const w = det.width - 0.5;
  const h = det.height - 0.5;
  return [pixelToFocal(det, -0.5, -0.5), pixelToFocal(det, w, -0.5), pixelToFocal(det, w, h), pixelToFocal(det, -0.5, h)];
}

/** The detector containing an actual focal-plane position, or undefined (in a gap or off the focal plane). */
export function findDetector(cam: Camera, fx: number, fy: number): DetectorGeom | undefined {
  for (const det of cam.detectors) {
    const [x, y] = focalToPixel(det, fx, fy);
    if (onDetector(det, x, y)) return det;
  }
  return undefined;
}

/** Apply the distortion field: ideal focal-plane position (mm) -> actual. */
export function distort(d: Distortion, ux: number, uy: number): [number, number] {
  const a = ux / d.rRef;
  const b = uy / d.rRef;
  const r2 = a * a + b * b;
  const f = 1 + r2 * (d.k1 + d.k2 * r2);
  const p1 = d.p1 ?? 0;
  const p2 = d.p2 ?? 0;
  return [d.rRef * (a * f + p1 * (r2 + 2 * a * a) + 2 * p2 * a * b), d.rRef * (b * f + p2 * (r2 + 2 * b * b) + 2 * p1 * a * b)];
}

/** True when the field is the identity. */
export function isUndistorted(d: Distortion): boolean {
  return d.k1 === 0 && d.k2 === 0 && !d.p1 && !d.p2;
}

/** Invert the distortion field (actual -> ideal, mm) by Newton iteration; converges to ~1e-15 relative. */
export function undistort(d: Distortion, fx: number, fy: number): [number, number] {
  if (isUndistorted(d)) return [fx, fy];
  const p1 = d.p1 ?? 0;
  const p2 = d.p2 ?? 0;
  const ta = fx / d.rRef;
  const tb = fy / d.rRef;
  let a = ta;
  let b = tb;
  for (let it = 0; it < 30; it++) {
    const r2 = a * a + b * b;
    const f = 1 + r2 * (d.k1 + d.k2 * r2);
    const fp = d.k1 + 2 * d.k2 * r2;
    const ex = a * f + p1 * (r2 + 2 * a * a) + 2 * p2 * a * b - ta;
    const ey = b * f + p2 * (r2 + 2 * b * b) + 2 * p1 * a * b - tb;
    const j11 = f + 2 * a * a * fp + 6 * p1 * a + 2 * p2 * b;
    const j12 = 2 * a * b * fp + 2 * p1 * b + 2 * p2 * a;
    const j21 = 2 * a * b * fp + 2 * p2 * a + 2 * p1 * b;
    const j22 = f + 2 * b * b * fp + 6 * p2 * b + 2 * p1 * a;
    const det = j11 * j22 - j12 * j21;
    const da = (j22 * ex - j12 * ey) / det;
    const db = (-j21 * ex + j11 * ey) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-16 * (1 + Math.abs(a) + Math.abs(b))) break;
  }
  return [a * d.rRef, b * d.rRef];
}

/** Standard coordinates (deg) of an ideal focal-plane position for a plate scale (arcsec/mm) and rotator angle (deg). */
export function focalToStd(plateScale: number, rotation: number, x: number, y: number): [number, number] {
  const s = plateScale / 3600;
  const t = rotation * D2R;
  const c = Math.cos(t);
  const n = Math.sin(t);
  return [s * (-x * c + y * n), s * (x * n + y * c)];
}

/** Ideal focal-plane position (mm) of standard coordinates (deg): inverse of focalToStd. */
export function stdToFocal(plateScale: number, rotation: number, xi: number, eta: number): [number, number] {
  const s = 3600 / plateScale;
  const t = rotation * D2R;
  const c = Math.cos(t);
  const n = Math.sin(t);
  // the matrix [[-c, n], [n, c]] is its own inverse
  return [s * (-xi * c + eta * n), s * (xi * n + eta * c)];
}

/** Sky position (deg) of an actual focal-plane position (mm) for a pointing. */
export function focalToSky(cam: Camera, p: Pointing, fx: number, fy: number): [number, number] {
  const [ux, uy] = undistort(cam.distortion, fx, fy);
  const [xi, eta] = focalToStd(cam.plateScale, p.rotation, ux, uy);
  return stdToSky(xi, eta, p.ra, p.dec);
}

/** Actual focal-plane position (mm) of a sky position for a pointing (NaN beyond 90 degrees from the axis). */
export function skyToFocal(cam: Camera, p: Pointing, ra: number, dec: number): [number, number] {
  const [xi, eta] = skyToStd(ra, dec, p.ra, p.dec);
  const [ux, uy] = stdToFocal(cam.plateScale, p.rotation, xi, eta);
  return distort(cam.distortion, ux, uy);
}

/** Sky position (deg) of a 0-based pixel position of a detector. */
export function pixelToSky(cam: Camera, det: DetectorGeom, p: Pointing, x: number, y: number): [number, number] {
  const [fx, fy] = pixelToFocal(det, x, y);
  return focalToSky(cam, p, fx, fy);
}

/** 0-based pixel position (possibly off the detector) of a sky position. */
export function skyToPixel(cam: Camera, det: DetectorGeom, p: Pointing, ra: number, dec: number): [number, number] {
  const [fx, fy] = skyToFocal(cam, p, ra, dec);
  return focalToPixel(det, fx, fy);
}

/** Radius (mm) of the smallest origin-centred circle holding every detector corner. */
export function focalPlaneRadius(cam: Camera): number {
  let r = 0;
  for (const det of cam.detectors) for (const [x, y] of detectorCorners(det)) r = Math.max(r, Math.hypot(x, y));
  return r;
}

/** Bounding box [xmin, ymin, xmax, ymax] (mm) of all detectors. */
export function focalPlaneBounds(cam: Camera): [number, number, number, number] {
  const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const det of cam.detectors) {
    for (const [x, y] of detectorCorners(det)) {
      b[0] = Math.min(b[0], x);
      b[1] = Math.min(b[1], y);
      b[2] = Math.max(b[2], x);
      b[3] = Math.max(b[3], y);
    }
  }
  return b;
}

/**
 * The camera with every detector shrunk to round(scale * size) pixels about the same centre, keeping the pixel
 * size and plate scale (so the pixel scale on the sky is unchanged and the gaps grow). For fast tests.
 */
export function scaleCamera(cam: Camera, scale: number): Camera {
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`scale must be in (0, 1], got ${scale}`);
  if (scale === 1) return cam;
  return {
    ...cam,
    detectors: cam.detectors.map((d) => ({
      ...d,
      width: Math.max(8, Math.round(d.width * scale)),
      height: Math.max(8, Math.round(d.height * scale)),
    })),
  };
}

/** The detector with a given id, or undefined. */
export function detectorById(cam: Camera, id: number): DetectorGeom | undefined {
  return cam.detectors.find((d) => d.id === id);
}
