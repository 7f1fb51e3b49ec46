/**
 * Noise-free rendering of one detector of a visit, in electrons, on top of the per-CCD simulator's pixel integration
 * (integrate.ts, profiles.ts, galaxy.ts): the focal-plane background, stars (pixel-integrated elliptical Moffat
 * PSFs) and galaxies (Sersic profiles convolved with the local PSF, galaxy.ts).
 */
import { detectorXf } from '../camera/geometry.js';
import type { DetectorGeom } from '../camera/types.js';
import { renderGalaxy as renderSersic } from './galaxy.js';
import { renderRadial, type RenderStats, type RenderTarget } from './integrate.js';
import { ellipseForm, psfProfile, SersicProfile, type RadialProfile } from './profiles.js';
import type { BackgroundModel } from './visit-model.js';
import type { TruePsf } from './visit-truth.js';

/** Largest rendering radius (pixels) of a star's wings, and of a galaxy's intrinsic profile. */
export const MAX_STAR_RADIUS = 300;
export const MAX_GALAXY_RADIUS = 60;

/** Fill a detector image with the background (electrons per pixel = gain * ADU background at the pixel's focal-plane position). */
export function fillBackground(img: Float32Array, det: DetectorGeom, b: BackgroundModel, gain: number): void {
  const { width, height } = det;
  const t = detectorXf(det);
  // (u, v) = fp / rNorm is affine in the pixel position: u = u0 + ux x + uy y
  const k = 1 / b.rNorm;
  const ux = t.m[0] * k;
  const uy = t.m[1] * k;
  const vx = t.m[2] * k;
  const vy = t.m[3] * k;
  const u00 = (t.cx - t.m[0] * t.pcx - t.m[1] * t.pcy) * k;
  const v00 = (t.cy - t.m[2] * t.pcx - t.m[3] * t.pcy) * k;
  const level = b.level * gain;
  for (let y = 0; y < height; y++) {
    const u0 = u00 + uy * y;
    const v0 = v00 + vy * y;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const u = u0 + ux * x;
      const v = v0 + vx * x;
      img[row + x] = level * (1 + b.gx * u + b.gy * v + b.cxx * u * u + b.cxy * u * v + b.cyy * v * v);
    }
  }
}

/** Rendering radius of a unit-flux profile carrying `flux`: all but 1e-3 of the flux, or down to `level` per pixel. */
function renderRadius(prof: RadialProfile, flux: number, level: number, cap: number): number {
  const r = Math.max(prof.radiusForLost(1e-3), prof.radiusForLevel(level / flux));
  return Math.min(cap, Math.max(3, r));
}

/** Add a star (flux in electrons) centred at 0-based (x, y). `level`: the per-pixel value below which wings are dropped. */
export function renderStar(target: RenderTarget, x: number, y: number, psf: TruePsf, flux: number, level: number): RenderStats {
  const prof = psfProfile({ kind: 'moffat', fwhm: psf.fwhm, beta: psf.beta, e1: psf.e1, e2: psf.e2 });
  const e = ellipseForm(psf.e1, psf.e2);
  return renderRadial(target, x, y, prof, e, flux, renderRadius(prof, flux, level, MAX_STAR_RADIUS));
}

/** Galaxy shape in the pixel frame. */
export interface PixelGalaxy {
  /** circularised half-light radius, pixels */
  readonly rHalf: number;
  readonly n: number;
  readonly e1: number;
  readonly e2: number;
}

/**
 * Add a PSF-convolved Sersic galaxy (flux in electrons) centred at 0-based (x, y) with the per-CCD simulator's
 * renderer (galaxy.ts): the intrinsic profile out to the radius holding all but 0.5% of its flux, or where it falls
 * below `level` per pixel if nearer (at most MAX_GALAXY_RADIUS), components drawn down to `level`.
 */
export function renderGalaxy(target: RenderTarget, x: number, y: number, gal: PixelGalaxy, psf: TruePsf, flux: number, level: number): RenderStats {
  const prof = new SersicProfile(gal.n, gal.rHalf);
  const rMax = Math.min(MAX_GALAXY_RADIUS, Math.max(2, Math.min(prof.radiusForLost(5e-3), prof.radiusForLevel(level / flux))));
  const shape = { n: gal.n, rHalf: gal.rHalf, e1: gal.e1, e2: gal.e2 };
  return renderSersic(target, x, y, shape, { kind: 'moffat', fwhm: psf.fwhm, beta: psf.beta, e1: psf.e1, e2: psf.e2 }, flux, rMax, { level });
}
