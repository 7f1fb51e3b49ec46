/**
 * Analytic surface-brightness profiles (elliptical Gaussian, Moffat, Sersic), normalised to unit total flux.
 *
 * Conventions (used by the whole simulator):
 * - Ellipticity (e1, e2) is the second-moment "distortion": e1 = (Ixx - Iyy) / (Ixx + Iyy), e2 = 2 Ixy / (Ixx + Iyy),
 *   |e| = (1 - q^2) / (1 + q^2) for axis ratio q = b/a, e1 = |e| cos 2theta, e2 = |e| sin 2theta,
 *   theta measured from +x towards +y. Every elliptical-isophote profile has exactly these moment ratios.
 * - Sizes are circularised (area-preserving, geometric mean of the axes): a profile of size s and ellipticity e has
 *   major / minor sizes s / sqrt(q) and s * sqrt(q). So `fwhm` is sqrt(FWHM_major * FWHM_minor) and `rHalf` is the
 *   radius of the circle of equal area to the half-light ellipse.
 * - A profile is a function of t = x^T Q x (pixels^2), where Q is the inverse shape matrix with det Q = 1.
 */
import { gammaPQ, gammaQInverse, lnGamma, sersicB } from './special.js';

/** Elliptical Gaussian PSF. */
export interface GaussianPsf {
  readonly kind: 'gaussian';
  /** circularised FWHM in pixels */
  readonly fwhm: number;
  readonly e1?: number;
  readonly e2?: number;
}

/** Elliptical Moffat PSF: I ~ (1 + r^2/alpha^2)^-beta, beta > 1 (finite flux). */
export interface MoffatPsf {
  readonly kind: 'moffat';
  readonly fwhm: number;
  readonly beta: number;
  readonly e1?: number;
  readonly e2?: number;
}

export type PsfModel = GaussianPsf | MoffatPsf;

/** The PSF at a CCD position (1-based pixel coordinates, FITS convention); drive it from focal-plane coordinates. */
export type PsfAt = (x: number, y: number) => PsfModel;

/** Intrinsic (pre-PSF) Sersic galaxy shape: I ~ exp(-b_n (r / rHalf)^(1/n)). */
export interface SersicShape {
  /** Sersic index; galaxies render for 0.5 <= n <= 8 (0.5 Gaussian, 1 exponential, 4 de Vaucouleurs) */
  readonly n: number;
  /** circularised half-light radius, pixels */
  readonly rHalf: number;
  readonly e1?: number;
  readonly e2?: number;
}

/** The quadratic form Q (t = qxx x^2 + 2 qxy x y + qyy y^2) and its inverse C, both with unit determinant. */
export interface EllipseForm {
  readonly qxx: number;
  readonly qxy: number;
  readonly qyy: number;
  readonly cxx: number;
  readonly cxy: number;
  readonly cyy: number;
}

/** The unit-determinant ellipse of distortion (e1, e2); |e| must be < 0.99. */
export function ellipseForm(e1 = 0, e2 = 0): EllipseForm {
  const e2sq = e1 * e1 + e2 * e2;
  if (!(e2sq < 0.99 * 0.99)) throw new RangeError(`ellipticity |e| must be < 0.99, got e1=${e1}, e2=${e2}`);
  const s = Math.sqrt(1 - e2sq);
  return { qxx: (1 - e1) / s, qxy: -e2 / s, qyy: (1 + e1) / s, cxx: (1 + e1) / s, cxy: e2 / s, cyy: (1 - e1) / s };
}

/** Axis ratio q = b/a and position angle (radians, from +x towards +y) of a distortion (e1, e2). */
export function axisRatioAngle(e1 = 0, e2 = 0): { q: number; theta: number } {
  const e = Math.hypot(e1, e2);
  return { q: Math.sqrt((1 - e) / (1 + e)), theta: 0.5 * Math.atan2(e2, e1) };
}

/** Distortion (e1, e2) of an ellipse with axis ratio q and position angle theta (radians). */
export function distortion(q: number, theta: number): { e1: number; e2: number } {
  const e = (1 - q * q) / (1 + q * q);
  return { e1: e * Math.cos(2 * theta), e2: e * Math.sin(2 * theta) };
}

/**
 * A circular radial profile of unit total flux, evaluated at t = r^2 (pixels^2).
 * `valueD` also leaves d/dt and d^2/dt^2 in `d1`, `d2` (for the midpoint-plus-Laplacian pixel rule).
 */
export interface RadialProfile {
  value(t: number): number;
  valueD(t: number): number;
  d1: number;
  d2: number;
  /** |d ln I / dr| at radius r (> 0) */
  logSlope(r: number): number;
  /** fraction of the flux inside radius r */
  enclosed(r: number): number;
  /** radius outside which only the fraction `lost` of the flux lies */
  radiusForLost(lost: number): number;
  /** radius where the (unit-flux) surface brightness falls to `level`; 0 if it never reaches it */
  radiusForLevel(level: number): number;
  /** half width at half maximum (circularised) */
  readonly hwhm: number;
  /** derivative singular at the centre (adaptive integration needed there) */
  readonly cuspy: boolean;
}

const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2);

export class GaussianProfile implements RadialProfile {
  d1 = 0;
  d2 = 0;
  readonly hwhm: number;
  readonly cuspy = false;
  private readonly norm: number;
  private readonly k: number;
  constructor(readonly sigma: number) {
    if (!(sigma > 0)) throw new RangeError(`Gaussian sigma must be > 0, got ${sigma}`);
    this.norm = 1 / (2 * Math.PI * sigma * sigma);
    this.k = 1 / (2 * sigma * sigma);
    this.hwhm = (sigma * FWHM_PER_SIGMA) / 2;
  }
  value(t: number): number {
    return this.norm * Math.exp(-this.k * t);
  }
  valueD(t: number): number {
    const f = this.norm * Math.exp(-this.k * t);
    this.d1 = -this.k * f;
    this.d2 = this.k * this.k * f;
    return f;
  }
  logSlope(r: number): number {
    return 2 * this.k * r;
  }
  enclosed(r: number): number {
    return -Math.expm1(-this.k * r * r);
  }
  radiusForLost(lost: number): number {
    return Math.sqrt(-Math.log(lost) / this.k);
  }
  radiusForLevel(level: number): number {
    return level >= this.norm ? 0 : Math.sqrt(Math.log(this.norm / level) / this.k);
  }
}

export class MoffatProfile implements RadialProfile {
  d1 = 0;
  d2 = 0;
  readonly hwhm: number;
  readonly cuspy = false;
  private readonly norm: number;
  private readonly a2: number;
  constructor(
    readonly alpha: number,
    readonly beta: number,
  ) {
    if (!(alpha > 0)) throw new RangeError(`Moffat alpha must be > 0, got ${alpha}`);
    if (!(beta > 1)) throw new RangeError(`Moffat beta must be > 1 for finite flux, got ${beta}`);
    this.a2 = alpha * alpha;
    this.norm = (beta - 1) / (Math.PI * this.a2);
    this.hwhm = alpha * Math.sqrt(Math.pow(2, 1 / beta) - 1);
  }
  value(t: number): number {
    return this.norm * Math.exp(-this.beta * Math.log1p(t / this.a2));
  }
  valueD(t: number): number {
    const u = this.a2 + t;
    const f = this.norm * Math.exp(-this.beta * Math.log(u / this.a2));
    this.d1 = (-this.beta * f) / u;
    this.d2 = (this.beta * (this.beta + 1) * f) / (u * u);
    return f;
  }
  logSlope(r: number): number {
    return (2 * this.beta * r) / (this.a2 + r * r);
  }
  enclosed(r: number): number {
    return 1 - Math.pow(1 + (r * r) / this.a2, 1 - this.beta);
  }
  radiusForLost(lost: number): number {
    return this.alpha * Math.sqrt(Math.pow(lost, 1 / (1 - this.beta)) - 1);
  }
  radiusForLevel(level: number): number {
    return level >= this.norm ? 0 : this.alpha * Math.sqrt(Math.pow(this.norm / level, 1 / this.beta) - 1);
  }
}

export class SersicProfile implements RadialProfile {
  d1 = 0;
  d2 = 0;
  readonly hwhm: number;
  readonly cuspy: boolean;
  /** the Sersic b_n constant */
  readonly b: number;
  /** central surface brightness for unit flux */
  readonly i0: number;
  private readonly invRe2: number;
  private readonly p: number; // 1 / (2n): exponent on t / re^2
  constructor(
    readonly n: number,
    readonly rHalf: number,
  ) {
    if (!(rHalf > 0)) throw new RangeError(`Sersic half-light radius must be > 0, got ${rHalf}`);
    this.b = sersicB(n);
    this.invRe2 = 1 / (rHalf * rHalf);
    this.p = 1 / (2 * n);
    // total flux = 2 pi n re^2 Gamma(2n) b^-2n I0
    this.i0 = Math.exp(2 * n * Math.log(this.b) - lnGamma(2 * n)) / (2 * Math.PI * n * rHalf * rHalf);
    this.hwhm = rHalf * Math.pow(Math.LN2 / this.b, n);
    this.cuspy = n !== 0.5;
  }
  value(t: number): number {
    return this.i0 * Math.exp(-this.b * Math.pow(t * this.invRe2, this.p));
  }
  valueD(t: number): number {
    const s = Math.pow(t * this.invRe2, this.p);
    const f = this.i0 * Math.exp(-this.b * s);
    // ds/dt = p s / t ; d2s/dt2 = p (p - 1) s / t^2
    const ds = (this.p * s) / t;
    const dds = (this.p * (this.p - 1) * s) / (t * t);
    this.d1 = -this.b * ds * f;
    this.d2 = f * (this.b * this.b * ds * ds - this.b * dds);
    return f;
  }
  logSlope(r: number): number {
    return (this.b / this.n) * Math.pow(r / this.rHalf, 1 / this.n) / r;
  }
  enclosed(r: number): number {
    return gammaPQ(2 * this.n, this.b * Math.pow(r / this.rHalf, 1 / this.n)).p;
  }
  radiusForLost(lost: number): number {
    return this.rHalf * Math.pow(gammaQInverse(2 * this.n, lost) / this.b, this.n);
  }
  radiusForLevel(level: number): number {
    return level >= this.i0 ? 0 : this.rHalf * Math.pow(Math.log(this.i0 / level) / this.b, this.n);
  }
}

/** Moffat alpha for a given FWHM and beta. */
export function moffatAlpha(fwhm: number, beta: number): number {
  return fwhm / (2 * Math.sqrt(Math.pow(2, 1 / beta) - 1));
}

/** The unit-flux radial profile of a PSF model, with its size in pixels multiplied by `scale` (oversampling). */
export function psfProfile(psf: PsfModel, scale = 1): RadialProfile {
  if (!(psf.fwhm > 0)) throw new RangeError(`PSF FWHM must be > 0, got ${psf.fwhm}`);
  if (psf.kind === 'gaussian') return new GaussianProfile((psf.fwhm * scale) / FWHM_PER_SIGMA);
  if (psf.kind === 'moffat') return new MoffatProfile(moffatAlpha(psf.fwhm * scale, psf.beta), psf.beta);
  throw new RangeError(`unknown PSF kind ${(psf as { kind: string }).kind}`);
}
