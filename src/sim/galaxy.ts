/**
 * PSF-convolved Sersic galaxies, by mixtures of Gaussians.
 *
 * Approximation (documented for users of the truth):
 * - The Sersic profile (unit half-light radius) is replaced by a non-negative mixture of ~24 circular Gaussians
 *   of log-spaced widths (src/sim/mog.ts; error ~3e-4 of the flux per unit ln r for 1 <= n <= 6, ~1e-3 below
 *   n = 0.8, exact for n = 0.5), sheared to the galaxy's ellipticity. A Moffat PSF is likewise a 12-Gaussian
 *   mixture (error < 1e-4 for beta >= 2.5); a Gaussian PSF is exact.
 * - The convolution is then exact: component pairs add their covariances. Where one member of a pair is much
 *   narrower than the other (variance < 10% of the other's smallest), the narrow members are merged into one with
 *   the same total flux and mean variance (a 4th-order error, < ~1e-3 of that component).
 * - Pixel integration is analytic to 4th order (src/sim/gaussmix.ts).
 * Total flux is exact before truncation: component k (flux fraction a_k) is drawn out to where it falls below
 * level * a_k per pixel, so the light left out is below `level` everywhere (reported by the caller as the flux
 * actually deposited).
 * The PSF is the one at the galaxy centre, constant over the stamp.
 */
import { gaussianList, pushGaussian, renderGaussians, type GaussianList } from './gaussmix.js';
import type { RenderStats, RenderTarget } from './integrate.js';
import { moffatMixture, sersicMixture, type Mixture } from './mog.js';
import { ellipseForm, moffatAlpha, psfProfile, type EllipseForm, type PsfModel, type SersicShape } from './profiles.js';

const MERGE_FRACTION = 0.1;
const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2);
const GAUSS_ONE: Mixture = { amp: Float64Array.of(1), sigma: Float64Array.of(1), maxError: 0 };

/** The PSF as a mixture, in pixels: per-component sigma = mixture sigma * returned scale. */
function psfMixture(psf: PsfModel): { mix: Mixture; scale: number } {
  if (psf.kind === 'gaussian') return { mix: GAUSS_ONE, scale: psf.fwhm / FWHM_PER_SIGMA };
  return { mix: moffatMixture(psf.beta), scale: moffatAlpha(psf.fwhm, psf.beta) };
}

/**
 * The galaxy (x) PSF as a list of Gaussian components (unit total flux), with covariances in pixels^2.
 * Exported for tests and for callers that want the analytic model (e.g. moments).
 */
export function convolvedGalaxy(shape: SersicShape, psf: PsfModel, out: GaussianList = gaussianList()): GaussianList {
  if (!(shape.rHalf > 0)) throw new RangeError(`galaxy rHalf must be > 0, got ${shape.rHalf}`);
  const gal = sersicMixture(shape.n);
  const eg = ellipseForm(shape.e1, shape.e2);
  const ep = ellipseForm(psf.e1, psf.e2);
  const { mix: pm, scale: ps } = psfMixture(psf);
  // largest eigenvalues of the unit-determinant shapes (the smallest are their inverses)
  const egMax = 0.5 * (eg.cxx + eg.cyy) + Math.hypot(0.5 * (eg.cxx - eg.cyy), eg.cxy);
  const epMax = 0.5 * (ep.cxx + ep.cyy) + Math.hypot(0.5 * (ep.cxx - ep.cyy), ep.cxy);
  const ng = gal.amp.length;
  const np = pm.amp.length;
  // buckets: galaxy components far narrower than PSF component j, and PSF components far narrower than galaxy i
  const pAmp = new Float64Array(np);
  const pVar = new Float64Array(np);
  const gAmp = new Float64Array(ng);
  const gVar = new Float64Array(ng);
  out.count = 0;
  for (let j = 0; j < np; j++) {
    const t2 = (pm.sigma[j] * ps) ** 2;
    for (let i = 0; i < ng; i++) {
      const s2 = (gal.sigma[i] * shape.rHalf) ** 2;
      const a = gal.amp[i] * pm.amp[j];
      if (s2 * egMax < (MERGE_FRACTION * t2) / epMax) {
        pAmp[j] += a;
        pVar[j] += a * s2;
      } else if (t2 * epMax < (MERGE_FRACTION * s2) / egMax) {
        gAmp[i] += a;
        gVar[i] += a * t2;
      } else {
        pushGaussian(out, a, s2 * eg.cxx + t2 * ep.cxx, s2 * eg.cxy + t2 * ep.cxy, s2 * eg.cyy + t2 * ep.cyy);
      }
    }
  }
  for (let j = 0; j < np; j++) {
    if (pAmp[j] <= 0) continue;
    const t2 = (pm.sigma[j] * ps) ** 2;
    const s2 = pVar[j] / pAmp[j];
    pushGaussian(out, pAmp[j], s2 * eg.cxx + t2 * ep.cxx, s2 * eg.cxy + t2 * ep.cxy, s2 * eg.cyy + t2 * ep.cyy);
  }
  for (let i = 0; i < ng; i++) {
    if (gAmp[i] <= 0) continue;
    const s2 = (gal.sigma[i] * shape.rHalf) ** 2;
    const t2 = gVar[i] / gAmp[i];
    pushGaussian(out, gAmp[i], s2 * eg.cxx + t2 * ep.cxx, s2 * eg.cxy + t2 * ep.cxy, s2 * eg.cyy + t2 * ep.cyy);
  }
  return out;
}

const SCRATCH = gaussianList(512);

export interface GalaxyRenderOptions {
  /**
   * Per-pixel level (same units as the flux): the light left undrawn is below it everywhere (e.g. a small fraction
   * of the noise RMS). Default: 1e-10 of the flux (effectively no truncation inside the box).
   */
  readonly level?: number;
}

/**
 * Add a PSF-convolved Sersic galaxy of total flux `flux` centred at (cx, cy) (target pixel coordinates) to the
 * target, within the box reaching rMax (circularised radius of the intrinsic profile worth drawing, pixels) plus
 * the PSF's radius enclosing all but 1e-4 of its flux. Returns the flux actually added (pixels off the target are
 * dropped) and the brightest added pixel.
 */
export function renderGalaxy(
  target: RenderTarget,
  cx: number,
  cy: number,
  shape: SersicShape,
  psf: PsfModel,
  flux: number,
  rMax: number,
  opts: GalaxyRenderOptions = {},
): RenderStats {
  const level = opts.level ?? 1e-10 * Math.abs(flux);
  if (!(level > 0)) throw new RangeError(`galaxy truncation level must be > 0, got ${level}`);
  // semi-major axis factor of a unit-determinant shape: sqrt of its largest eigenvalue
  const major = (e: EllipseForm) => Math.sqrt(0.5 * (e.cxx + e.cyy) + Math.hypot(0.5 * (e.cxx - e.cyy), e.cxy));
  const psfRadius = psfProfile(psf).radiusForLost(1e-4) * major(ellipseForm(psf.e1, psf.e2));
  const box = Math.ceil(Math.max(2, rMax) * major(ellipseForm(shape.e1, shape.e2)) + psfRadius + 1);
  const list = convolvedGalaxy(shape, psf, SCRATCH);
  return renderGaussians(target, cx, cy, list, flux, level, box);
}
