/**
 * The visit model: every visit-level parameter of a simulated exposure (pointing and its error, photometry, the
 * focal-plane background and PSF patterns, the star and galaxy populations), drawn from the (seed, visit) stream.
 * It is written verbatim as the visit truth (R/truth/<visit>/visit.json) and is all the truth functions need.
 */
import { focalPlaneRadius, scaleCamera } from '../camera/geometry.js';
import type { Camera, Pointing } from '../camera/types.js';
import { Rng } from './rng.js';

/** Stream purposes of the visit simulator (the per-CCD simulator uses 1..99). */
export const VISIT_PURPOSE = {
  VISIT: 1001,
  STARS_BRIGHT: 1002,
  STARS_FAINT: 1003,
  GALAXIES: 1004,
  NOISE: 1005,
  DEFECTS: 1006,
  COSMICS: 1007,
} as const;

/** Sky background in ADU per pixel, a quadratic in focal-plane mm: level (1 + gx u + gy v + cxx u^2 + cxy u v + cyy v^2), (u, v) = fp / rNorm. */
export interface BackgroundModel {
  readonly level: number;
  readonly rNorm: number;
  readonly gx: number;
  readonly gy: number;
  readonly cxx: number;
  readonly cxy: number;
  readonly cyy: number;
  /** sky surface brightness at the focal-plane origin, mag / arcsec^2 */
  readonly skyMag: number;
}

/**
 * PSF pattern: an elliptical Moffat whose FWHM (arcsec at the nominal plate scale) and ellipticity (in focal-plane
 * axes) are smooth functions of the actual focal-plane position (u, v) = fp / rNorm:
 * fwhm = fwhm0 (1 + fwhmR2 (u^2 + v^2) + fwhmX u + fwhmY v), e1 = e1c + eAstig (u^2 - v^2), e2 = e2c + 2 eAstig u v.
 */
export interface PsfPattern {
  readonly kind: 'moffat';
  readonly beta: number;
  readonly rNorm: number;
  readonly fwhm0: number;
  readonly fwhmR2: number;
  readonly fwhmX: number;
  readonly fwhmY: number;
  readonly e1c: number;
  readonly e2c: number;
  readonly eAstig: number;
}

/**
 * Stars: dN/dm ~ 10^(alpha m) between mMin and mMax with `density` stars per deg^2 (times densityFactor), modulated on
 * the sky (nominal tangent-plane coordinates xi, eta in deg) by exp(gradient (xi cos(angle) + eta sin(angle)) / fieldRadius)
 * and a dark cloud: a factor (1 - depth) within `radius` of (xi, eta), tapering to 1 at radius + edge.
 */
export interface StarModel {
  readonly density: number;
  readonly densityFactor: number;
  readonly alpha: number;
  readonly mMin: number;
  readonly mMax: number;
  /** stars brighter than this are in the reference catalogue ... */
  readonly refcatLimit: number;
  /** ... except this fraction of those within 1 mag of the limit */
  readonly refcatMissing: number;
  readonly gradient: number;
  readonly gradientAngle: number;
  readonly cloud: { readonly xi: number; readonly eta: number; readonly radius: number; readonly edge: number; readonly depth: number; readonly detector: number };
}

/** Galaxies: Sersic profiles (convolved with the PSF), dN/dm ~ 10^(slope m), sizes shrinking with magnitude. */
export interface GalaxyModel {
  readonly density: number;
  readonly slope: number;
  readonly mMin: number;
  readonly mMax: number;
  /** median half-light radius (arcsec) at magnitude 22; r ~ 10^(-0.12 (m - 22)) */
  readonly rHalf22: number;
}

export interface DetectorTruthSummary {
  readonly id: number;
  readonly name: string;
  /** relative to the repository */
  readonly raw: string;
  readonly truth: string;
  readonly stars: number;
  readonly galaxies: number;
  readonly refcatStars: number;
  readonly saturatedStars: number;
  /** cosmic-ray tracks and hot pixels on the CCD */
  readonly cosmics: number;
  readonly hotPixels: number;
  /** dead columns (0-based x, rows y0..y1) */
  readonly badColumns: readonly { readonly x: number; readonly y0: number; readonly y1: number }[];
  /** the defect mask file, relative to the repository, when written */
  readonly mask?: string;
}

/** The whole visit truth (visit.json). Pixel coordinates in truth tables are 1-based (FITS, like X_IMAGE). */
export interface VisitModel {
  readonly format: 'lsst-pipe-sim-visit';
  readonly version: 1;
  readonly visit: string;
  /** the integer key of the visit in the random streams */
  readonly visitKey: number;
  readonly seed: number;
  readonly scale: number;
  readonly filter: string;
  readonly mjd: number;
  readonly exptime: number;
  /** the (scaled) camera used, with its distortion field (camera.distortion) */
  readonly camera: Camera;
  /** the pointing written in the raw headers */
  readonly nominal: Pointing;
  /** the pointing that made the pixels */
  readonly truePointing: Pointing;
  readonly pointingError: { readonly eastArcsec: number; readonly northArcsec: number; readonly totalArcsec: number; readonly rotationDeg: number };
  readonly photometry: {
    /** magnitude of a source giving 1 ADU in the whole exposure: mag = zeroPoint - 2.5 log10(flux_ADU) */
    readonly zeroPoint: number;
    /** magnitude giving 1 ADU per second */
    readonly zeroPoint1s: number;
    /** e- / ADU */
    readonly gain: number;
    /** e- */
    readonly readNoise: number;
    readonly fullWell: number;
    /** ADU */
    readonly saturation: number;
  };
  readonly background: BackgroundModel;
  readonly psf: PsfPattern;
  readonly stars: StarModel;
  readonly galaxies: GalaxyModel;
  /** object cells: a grid of n x n square cells of `size` deg covering [-radius, radius]^2 of the nominal tangent plane */
  readonly cells: { readonly size: number; readonly n: number; readonly radius: number };
  /** cosmic-ray events per cm^2 per second (each CCD gets at least 4) */
  readonly cosmicRate: number;
  readonly detectors: readonly DetectorTruthSummary[];
}

/** The integer stream key of a visit id: itself when it is a decimal integer, else 2^40 + its FNV-1a hash. */
export function visitKey(visit: string): number {
  if (/^\d{1,15}$/.test(visit)) return Number(visit);
  let h = 0x811c9dc5;
  for (let i = 0; i < visit.length; i++) h = Math.imul(h ^ visit.charCodeAt(i), 0x01000193) >>> 0;
  return 2 ** 40 + h;
}

export interface VisitModelOptions {
  seed?: number;
  scale?: number;
  /** multiplies the star density (default: up to 8x more on small detectors so each keeps ~ a full LSST CCD's star count) */
  densityFactor?: number;
  filter?: string;
  exptime?: number;
  /** override the nominal pointing */
  pointing?: Pointing;
}

/** Area (deg^2) of the median detector. */
function medianDetectorArea(cam: Camera): number {
  const a = cam.detectors.map((d) => d.width * d.height * (d.pixelSize * cam.plateScale / 3600) ** 2).sort((x, y) => x - y);
  return a[Math.floor(a.length / 2)];
}

/** Draw the visit model for a camera (scaled by opts.scale) and visit id. */
export function makeVisitModel(camera: Camera, visit: string, opts: VisitModelOptions = {}): VisitModel {
  const seed = opts.seed ?? 0;
  const scale = opts.scale ?? 1;
  const cam = scaleCamera(camera, scale);
  const key = visitKey(visit);
  const rng = Rng.stream(seed, key, 0, VISIT_PURPOSE.VISIT);
  const exptime = opts.exptime ?? 30;
  const filter = opts.filter ?? 'r';
  const sinDec = rng.between(Math.sin((-70 * Math.PI) / 180), Math.sin((10 * Math.PI) / 180));
  const drawn: Pointing = { ra: rng.between(0, 360), dec: (Math.asin(sinDec) * 180) / Math.PI, rotation: rng.between(-90, 90) };
  const nominal = opts.pointing ?? drawn;
  // pointing error: 10-60 arcsec in a random direction, 0.005-0.03 deg of rotation
  const errSize = rng.between(10, 60);
  const errAngle = rng.between(0, 2 * Math.PI);
  const rotErr = rng.between(0.005, 0.03) * (rng.uniform() < 0.5 ? -1 : 1);
  const east = errSize * Math.cos(errAngle);
  const north = errSize * Math.sin(errAngle);
  const dec = nominal.dec + north / 3600;
  const truePointing: Pointing = {
    ra: (nominal.ra + east / 3600 / Math.cos((nominal.dec * Math.PI) / 180) + 360) % 360,
    dec,
    rotation: nominal.rotation + rotErr,
  };
  const gain = 1.5;
  const zpE = 28.3 + 2.5 * Math.log10(exptime) - rng.between(0, 0.15); // mag for 1 e- in the exposure (thin cloud)
  const zeroPoint = zpE - 2.5 * Math.log10(gain);
  const fullWell = 90000;
  const pixScale = cam.detectors[0].pixelSize * cam.plateScale;
  const rFp = focalPlaneRadius(cam);
  const skyMag = rng.between(20.6, 21.3);
  const background: BackgroundModel = {
    level: 10 ** (-0.4 * (skyMag - zeroPoint)) * pixScale * pixScale,
    rNorm: rFp,
    gx: rng.between(-0.08, 0.08),
    gy: rng.between(-0.08, 0.08),
    cxx: rng.between(-0.06, 0.02),
    cxy: rng.between(-0.02, 0.02),
    cyy: rng.between(-0.06, 0.02),
    skyMag,
  };
  const psf: PsfPattern = {
    kind: 'moffat',
    beta: rng.between(3, 4.5),
    rNorm: rFp,
    fwhm0: rng.between(0.6, 0.9),
    fwhmR2: rng.between(0.05, 0.2),
    fwhmX: rng.between(-0.05, 0.05),
    fwhmY: rng.between(-0.05, 0.05),
    e1c: rng.between(-0.02, 0.02),
    e2c: rng.between(-0.02, 0.02),
    eAstig: rng.between(0.03, 0.06) * (rng.uniform() < 0.5 ? -1 : 1),
  };
  const fieldRadius = (rFp * cam.plateScale) / 3600 + 120 / 3600;
  // the dark cloud covers the detector nearest to 55% of the field radius along a random direction
  const ca = rng.between(0, 2 * Math.PI);
  const target = [0.55 * rFp * Math.cos(ca), 0.55 * rFp * Math.sin(ca)];
  let cloudDet = cam.detectors[0];
  for (const d of cam.detectors) {
    if (Math.hypot(d.center[0] - target[0], d.center[1] - target[1]) < Math.hypot(cloudDet.center[0] - target[0], cloudDet.center[1] - target[1])) cloudDet = d;
  }
  const s = cam.plateScale / 3600;
  const t = (nominal.rotation * Math.PI) / 180;
  const [cx, cy] = cloudDet.center;
  const halfDiag = 0.5 * Math.hypot(cloudDet.width, cloudDet.height) * cloudDet.pixelSize * s;
  const stars: StarModel = {
    density: 30000,
    densityFactor: opts.densityFactor ?? Math.min(8, Math.max(1, 0.05 / medianDetectorArea(cam))),
    alpha: 0.25,
    mMin: 14,
    mMax: 25,
    refcatLimit: 21,
    refcatMissing: 0.1,
    gradient: rng.between(0.3, 0.7),
    gradientAngle: rng.between(0, 360),
    cloud: {
      xi: s * (-cx * Math.cos(t) + cy * Math.sin(t)),
      eta: s * (cx * Math.sin(t) + cy * Math.cos(t)),
      radius: halfDiag + 90 / 3600,
      edge: 60 / 3600,
      depth: 0.998,
      detector: cloudDet.id,
    },
  };
  const galaxies: GalaxyModel = { density: 50000, slope: 0.35, mMin: 18, mMax: 24, rHalf22: 0.45 };
  const n = 64;
  return {
    format: 'lsst-pipe-sim-visit',
    version: 1,
    visit,
    visitKey: key,
    seed,
    scale,
    filter,
    mjd: 60000 + (key % 3000) + rng.between(0.1, 0.4),
    exptime,
    camera: cam,
    nominal,
    truePointing,
    pointingError: { eastArcsec: east, northArcsec: north, totalArcsec: errSize, rotationDeg: rotErr },
    photometry: { zeroPoint, zeroPoint1s: zeroPoint - 2.5 * Math.log10(exptime), gain, readNoise: 6, fullWell, saturation: Math.floor(fullWell / gain) },
    background,
    psf,
    stars,
    galaxies,
    cells: { size: (2 * fieldRadius) / n, n, radius: fieldRadius },
    cosmicRate: 0.08,
    detectors: [],
  };
}
