/**
 * Truth functions of a simulated visit, evaluated from its model (visit.json): the PSF, background, zero point and
 * true astrometry at any pixel of any detector. Pixel coordinates here are 1-based (FITS, like X_IMAGE).
 */
import { readFileSync } from 'node:fs';
import { detectorById, detectorXf, pixelToFocal, pixelToSky, skyToPixel } from '../camera/geometry.js';
import { nominalLinear } from '../camera/linear.js';
import type { TanWcs } from '../camera/tan.js';
import type { DetectorGeom } from '../camera/types.js';
import { validateCamera } from '../camera/load.js';
import type { BackgroundModel, PsfPattern, StarModel, VisitModel } from './visit-model.js';

/** The PSF at a pixel: Moffat FWHM (pixels, circularised), beta and ellipticity (e1, e2) in the detector's pixel axes. */
export interface TruePsf {
  readonly kind: 'moffat';
  readonly fwhm: number;
  readonly beta: number;
  readonly e1: number;
  readonly e2: number;
  /** FWHM in arcsec at the nominal plate scale */
  readonly fwhmArcsec: number;
}

/** Read and check a visit truth file (visit.json). */
export function loadVisitTruth(file: string): VisitModel {
  const m = JSON.parse(readFileSync(file, 'utf8')) as VisitModel;
  if (m.format !== 'lsst-pipe-sim-visit' || m.version !== 1) throw new RangeError(`${file}: not a simulated visit truth file`);
  return { ...m, camera: validateCamera(m.camera) };
}

/** The detector of a visit by id (RangeError if absent). */
export function visitDetector(m: VisitModel, det: number | DetectorGeom): DetectorGeom {
  if (typeof det !== 'number') return det;
  const d = detectorById(m.camera, det);
  if (!d) throw new RangeError(`visit ${m.visit}: no detector ${det}`);
  return d;
}

/** Background (ADU per pixel) at an actual focal-plane position (mm). */
export function backgroundAtFocal(b: BackgroundModel, fx: number, fy: number): number {
  const u = fx / b.rNorm;
  const v = fy / b.rNorm;
  return b.level * (1 + b.gx * u + b.gy * v + b.cxx * u * u + b.cxy * u * v + b.cyy * v * v);
}

/** True sky background (ADU per pixel) at 1-based pixel (x, y) of a detector. */
export function trueBackgroundAt(m: VisitModel, det: number | DetectorGeom, x: number, y: number): number {
  const [fx, fy] = pixelToFocal(visitDetector(m, det), x - 1, y - 1);
  return backgroundAtFocal(m.background, fx, fy);
}

/** PSF FWHM (arcsec) and focal-plane-frame ellipticity at an actual focal-plane position (mm). */
export function psfAtFocal(p: PsfPattern, fx: number, fy: number): { fwhm: number; e1: number; e2: number } {
  const u = fx / p.rNorm;
  const v = fy / p.rNorm;
  return {
    fwhm: p.fwhm0 * (1 + p.fwhmR2 * (u * u + v * v) + p.fwhmX * u + p.fwhmY * v),
    e1: p.e1c + p.eAstig * (u * u - v * v),
    e2: p.e2c + 2 * p.eAstig * u * v,
  };
}

/**
 * An elliptical shape given in focal-plane axes (circularised size in mm, distortion e1, e2) seen in a detector's pixel
 * frame: the shape matrix C_fp = size^2 U(e1, e2) (U of unit determinant) maps through the detector's linear map M
 * (mm per pixel) to C_pix = M^-1 C_fp M^-T; returns its circularised size (pixels) and distortion.
 */
export function shapeInPixels(det: DetectorGeom, sizeMm: number, e1: number, e2: number): { size: number; e1: number; e2: number } {
  const s = Math.sqrt(1 - e1 * e1 - e2 * e2);
  const f2 = sizeMm * sizeMm;
  const cxx = (f2 * (1 + e1)) / s;
  const cxy = (f2 * e2) / s;
  const cyy = (f2 * (1 - e1)) / s;
  const [a, b, c, d] = detectorXf(det).inv;
  // P = inv * C, then C_pix = P * inv^T
  const p11 = a * cxx + b * cxy;
  const p12 = a * cxy + b * cyy;
  const p21 = c * cxx + d * cxy;
  const p22 = c * cxy + d * cyy;
  const qxx = p11 * a + p12 * b;
  const qxy = p11 * c + p12 * d;
  const qyy = p21 * c + p22 * d;
  const tr = qxx + qyy;
  return { size: Math.pow(qxx * qyy - qxy * qxy, 0.25), e1: (qxx - qyy) / tr, e2: (2 * qxy) / tr };
}

/** The PSF in a detector's pixel frame at an actual focal-plane position (mm). */
export function psfInPixels(m: VisitModel, det: DetectorGeom, fx: number, fy: number): TruePsf {
  const { fwhm, e1, e2 } = psfAtFocal(m.psf, fx, fy);
  const px = shapeInPixels(det, fwhm / m.camera.plateScale, e1, e2);
  return { kind: 'moffat', fwhm: px.size, beta: m.psf.beta, e1: px.e1, e2: px.e2, fwhmArcsec: fwhm };
}

/** True PSF at 1-based pixel (x, y) of a detector. */
export function truePsfAt(m: VisitModel, det: number | DetectorGeom, x: number, y: number): TruePsf {
  const d = visitDetector(m, det);
  const [fx, fy] = pixelToFocal(d, x - 1, y - 1);
  return psfInPixels(m, d, fx, fy);
}

/** True 1-based pixel position of a sky position (deg) on a detector (may lie off it). */
export function trueSkyToPixel(m: VisitModel, det: number | DetectorGeom, ra: number, dec: number): [number, number] {
  const [x, y] = skyToPixel(m.camera, visitDetector(m, det), m.truePointing, ra, dec);
  return [x + 1, y + 1];
}

/** True sky position (deg) of a 1-based pixel position. */
export function truePixelToSky(m: VisitModel, det: number | DetectorGeom, x: number, y: number): [number, number] {
  return pixelToSky(m.camera, visitDetector(m, det), m.truePointing, x - 1, y - 1);
}

/** The approximate TAN WCS written in a detector's raw header: nominal pointing, rigid geometry, no distortion. */
export function nominalWcs(m: VisitModel, det: number | DetectorGeom): TanWcs {
  const { crpix, cd } = nominalLinear(m.camera, visitDetector(m, det), m.nominal.rotation);
  return { crpix, cd, crval: [m.nominal.ra, m.nominal.dec] };
}

/** Magnitude of a source giving 1 ADU in the exposure (the same for every detector of the visit). */
export function trueZeroPoint(m: VisitModel): number {
  return m.photometry.zeroPoint;
}

/** Star density multiplier at nominal tangent-plane (xi, eta) deg: at most exp(gradient) within the field radius. */
export function starDensityFactor(s: StarModel, fieldRadius: number, xi: number, eta: number): number {
  const a = (s.gradientAngle * Math.PI) / 180;
  const g = Math.exp((s.gradient * (xi * Math.cos(a) + eta * Math.sin(a))) / fieldRadius);
  const d = Math.hypot(xi - s.cloud.xi, eta - s.cloud.eta);
  let w = 0;
  if (d <= s.cloud.radius) w = 1;
  else if (d < s.cloud.radius + s.cloud.edge) w = 0.5 * (1 + Math.cos((Math.PI * (d - s.cloud.radius)) / s.cloud.edge));
  return g * (1 - s.cloud.depth * w);
}
