/**
 * Scene generation: stars and galaxies with power-law number counts between magnitude limits, uniform seeded
 * positions, and galaxy shapes (Sersic index, half-light radius, ellipticity) drawn from simple populations.
 * Positions are 1-based pixel coordinates (FITS / SExtractor convention: the first pixel's centre is 1.0).
 */
import { distortion, type SersicShape } from './profiles.js';
import type { RandomSource } from './rng.js';

/** One object to render. Give either `mag` (with the simulation's zero point) or `flux` (total, ADU). */
export interface ObjectSpec {
  readonly type: 'star' | 'galaxy';
  /** 1-based pixel coordinates of the centre */
  readonly x: number;
  readonly y: number;
  readonly mag?: number;
  readonly flux?: number;
  /** intrinsic shape, galaxies only (rHalf in pixels) */
  readonly sersic?: SersicShape;
}

/** Number counts dN/dm proportional to 10^(slope * m) between magMin and magMax. */
export interface PowerLawCounts {
  readonly count: number;
  readonly magMin: number;
  readonly magMax: number;
  /** logarithmic slope d log10 N / dm (default 0.3 for stars, 0.35 for galaxies) */
  readonly slope?: number;
}

/** A galaxy population: counts plus shape distributions. */
export interface GalaxyPopulation extends PowerLawCounts {
  /** median half-light radius (arcsec) at magnitude 22 (default 0.6); it scales as 10^(-0.1 (mag - 22)) */
  readonly rHalf22?: number;
  /** log-normal scatter of the half-light radius, dex (default 0.15) */
  readonly rHalfScatter?: number;
  /** allowed half-light radius range, arcsec (default [0.05, 3]) */
  readonly rHalfRange?: readonly [number, number];
  /** fractions of exponential discs (n = 1) and de Vaucouleurs spheroids (n = 4); the rest get n uniform in
   *  [0.5, 3] rounded to 0.1 (default 0.6 and 0.2) */
  readonly discFraction?: number;
  readonly bulgeFraction?: number;
  /** axis ratios are uniform in [qMin, 1] (default 0.25), position angles uniform */
  readonly qMin?: number;
}

/**
 * Draw n magnitudes with dN/dm ~ 10^(slope m) on [magMin, magMax] by inverting the cumulative distribution.
 * slope = 0 gives a uniform distribution.
 */
export function drawMagnitudes(rng: RandomSource, n: number, magMin: number, magMax: number, slope: number): Float64Array {
  if (!(magMax >= magMin)) throw new RangeError(`magnitude range must have magMax >= magMin, got [${magMin}, ${magMax}]`);
  const out = new Float64Array(n);
  const span = magMax - magMin;
  const k = slope * Math.LN10;
  const growth = Math.expm1(k * span); // 10^(slope span) - 1
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    out[i] = Math.abs(k * span) < 1e-12 ? magMin + u * span : magMin + Math.log1p(u * growth) / k;
  }
  return out;
}

/** Region for uniform positions: 1-based coordinates covering the pixels, extended by `margin` pixels. */
export interface Area {
  readonly width: number;
  readonly height: number;
  readonly margin?: number;
}

function drawPosition(rng: RandomSource, area: Area): { x: number; y: number } {
  const m = area.margin ?? 0;
  return { x: 0.5 - m + rng.uniform() * (area.width + 2 * m), y: 0.5 - m + rng.uniform() * (area.height + 2 * m) };
}

/** Stars with power-law counts and uniform positions. */
export function drawStars(rng: RandomSource, pop: PowerLawCounts, area: Area): ObjectSpec[] {
  const mags = drawMagnitudes(rng, pop.count, pop.magMin, pop.magMax, pop.slope ?? 0.3);
  const out: ObjectSpec[] = [];
  for (let i = 0; i < pop.count; i++) {
    const { x, y } = drawPosition(rng, area);
    out.push({ type: 'star', x, y, mag: mags[i] });
  }
  return out;
}

/** Galaxies with power-law counts, uniform positions and shapes; pixelScale (arcsec/pixel) converts sizes. */
export function drawGalaxies(rng: RandomSource, pop: GalaxyPopulation, area: Area, pixelScale: number): ObjectSpec[] {
  const mags = drawMagnitudes(rng, pop.count, pop.magMin, pop.magMax, pop.slope ?? 0.35);
  const r22 = pop.rHalf22 ?? 0.6;
  const scatter = pop.rHalfScatter ?? 0.15;
  const [rLo, rHi] = pop.rHalfRange ?? [0.05, 3];
  const disc = pop.discFraction ?? 0.6;
  const bulge = pop.bulgeFraction ?? 0.2;
  const qMin = pop.qMin ?? 0.25;
  const out: ObjectSpec[] = [];
  for (let i = 0; i < pop.count; i++) {
    const { x, y } = drawPosition(rng, area);
    const mag = mags[i];
    const rArcsec = Math.min(rHi, Math.max(rLo, r22 * 10 ** (-0.1 * (mag - 22) + scatter * rng.gaussian())));
    const u = rng.uniform();
    const n = u < disc ? 1 : u < disc + bulge ? 4 : Math.round(5 + 25 * rng.uniform()) / 10;
    const q = qMin + (1 - qMin) * rng.uniform();
    const { e1, e2 } = distortion(q, Math.PI * rng.uniform());
    out.push({ type: 'galaxy', x, y, mag, sersic: { n, rHalf: rArcsec / pixelScale, e1, e2 } });
  }
  return out;
}
