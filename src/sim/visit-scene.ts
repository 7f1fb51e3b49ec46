/**
 * The visit's sky: stars and galaxies generated cell by cell on the nominal tangent plane (each cell from its own
 * stream, so any detector regenerates exactly the objects it needs, in any order), and the reference catalogue.
 * Object positions are uniform in tangent-plane coordinates within a cell (area distortion < 0.1% over 2 degrees).
 */
import { stdToSky } from '../camera/tan.js';
import { Rng } from './rng.js';
import { VISIT_PURPOSE, type VisitModel } from './visit-model.js';
import { starDensityFactor } from './visit-truth.js';

export interface SkyStar {
  readonly id: number;
  readonly ra: number;
  readonly dec: number;
  readonly mag: number;
  readonly inRefcat: boolean;
  /** catalogue values (with measurement noise) and their errors, when inRefcat */
  readonly refRa: number;
  readonly refDec: number;
  readonly refMag: number;
  readonly posErrMas: number;
  readonly magErr: number;
}

export interface SkyGalaxy {
  readonly id: number;
  readonly ra: number;
  readonly dec: number;
  readonly mag: number;
  /** arcsec, circularised */
  readonly rHalf: number;
  readonly sersicN: number;
  /** intrinsic ellipticity (distortion) and position angle on the sky (deg, north through east) */
  readonly e: number;
  readonly pa: number;
}

/** Magnitude from a truncated power law dN/dm ~ 10^(alpha m) on [m0, m1), by inversion. */
function powerLawMag(rng: Rng, alpha: number, m0: number, m1: number): number {
  const a = 10 ** (alpha * m0);
  const b = 10 ** (alpha * m1);
  return Math.log10(a + rng.uniform() * (b - a)) / alpha;
}

/** Fraction of a power law's objects in [m0, m1) out of [lo, hi). */
function powerLawFraction(alpha: number, lo: number, hi: number, m0: number, m1: number): number {
  const f = (m: number) => 10 ** (alpha * m);
  return (f(m1) - f(m0)) / (f(hi) - f(lo));
}

/** Tangent-plane bounds (deg) of cell (i, j). */
export function cellBounds(m: VisitModel, i: number, j: number): [number, number, number, number] {
  const { size, radius } = m.cells;
  return [-radius + i * size, -radius + j * size, -radius + (i + 1) * size, -radius + (j + 1) * size];
}

/** Stars of one cell (both the refcat-bright and the faint population), in generation order. */
export function cellStars(m: VisitModel, i: number, j: number, brightOnly = false): SkyStar[] {
  const s = m.stars;
  const n = m.cells.n;
  const cell = j * n + i;
  const [x0, y0] = cellBounds(m, i, j);
  const size = m.cells.size;
  const maxMult = Math.exp(s.gradient);
  const out: SkyStar[] = [];
  const pops: [number, number, number, number][] = [
    [VISIT_PURPOSE.STARS_BRIGHT, s.mMin, s.refcatLimit, 0],
    [VISIT_PURPOSE.STARS_FAINT, s.refcatLimit, s.mMax, 30000],
  ];
  for (const [purpose, m0, m1, idBase] of brightOnly ? pops.slice(0, 1) : pops) {
    const rng = Rng.stream(m.seed, m.visitKey, cell, purpose);
    const mean = s.density * s.densityFactor * powerLawFraction(s.alpha, s.mMin, s.mMax, m0, m1) * maxMult * size * size;
    const count = rng.poisson(mean);
    for (let k = 0; k < count; k++) {
      const xi = x0 + size * rng.uniform();
      const eta = y0 + size * rng.uniform();
      const mag = powerLawMag(rng, s.alpha, m0, m1);
      const keep = rng.uniform() * maxMult < starDensityFactor(s, m.cells.radius, xi, eta);
      // catalogue noise (drawn for every star so the stream does not depend on the membership test)
      const missing = rng.uniform() < s.refcatMissing && mag > s.refcatLimit - 1;
      const posErrMas = 2 + 10 * 10 ** (0.4 * (mag - s.refcatLimit));
      const magErr = 0.002 + 0.03 * 10 ** (0.4 * (mag - s.refcatLimit));
      const gx = rng.gaussian();
      const gy = rng.gaussian();
      const gm = rng.gaussian();
      if (!keep) continue;
      const [ra, dec] = stdToSky(xi, eta, m.nominal.ra, m.nominal.dec);
      const cosd = Math.cos((dec * Math.PI) / 180);
      out.push({
        id: cell * 100000 + idBase + k,
        ra,
        dec,
        mag,
        inRefcat: mag < s.refcatLimit && !missing,
        refRa: ra + (gx * posErrMas) / 3.6e6 / Math.max(cosd, 1e-6),
        refDec: dec + (gy * posErrMas) / 3.6e6,
        refMag: mag + gm * magErr,
        posErrMas,
        magErr,
      });
    }
  }
  return out;
}

/** Galaxies of one cell. */
export function cellGalaxies(m: VisitModel, i: number, j: number): SkyGalaxy[] {
  const g = m.galaxies;
  const cell = j * m.cells.n + i;
  const [x0, y0] = cellBounds(m, i, j);
  const size = m.cells.size;
  const rng = Rng.stream(m.seed, m.visitKey, cell, VISIT_PURPOSE.GALAXIES);
  const count = rng.poisson(g.density * size * size);
  const out: SkyGalaxy[] = [];
  for (let k = 0; k < count; k++) {
    const xi = x0 + size * rng.uniform();
    const eta = y0 + size * rng.uniform();
    const mag = powerLawMag(rng, g.slope, g.mMin, g.mMax);
    const rHalf = Math.min(5, Math.max(0.1, g.rHalf22 * 10 ** (-0.12 * (mag - 22)) * Math.exp(0.35 * rng.gaussian())));
    const disk = rng.uniform() < 0.7;
    // Sersic index on a 0.05 grid (the renderer caches one Gaussian mixture per index)
    const sersicN = Math.round((disk ? rng.between(0.8, 1.5) : rng.between(2, 4)) * 20) / 20;
    const e = Math.min(0.8, 0.25 * Math.sqrt(-2 * Math.log(rng.uniform32())) * (disk ? 1 : 0.6));
    const pa = rng.between(0, 180);
    const [ra, dec] = stdToSky(xi, eta, m.nominal.ra, m.nominal.dec);
    out.push({ id: cell * 100000 + 60000 + k, ra, dec, mag, rHalf, sersicN, e, pa });
  }
  return out;
}

/** Cell index ranges [i0, i1] x [j0, j1] overlapping a tangent-plane box (deg), clipped to the grid. */
export function cellRange(m: VisitModel, xmin: number, ymin: number, xmax: number, ymax: number): [number, number, number, number] {
  const { size, radius, n } = m.cells;
  const clip = (v: number) => Math.min(n - 1, Math.max(0, v));
  return [clip(Math.floor((xmin + radius) / size)), clip(Math.floor((ymin + radius) / size)), clip(Math.floor((xmax + radius) / size)), clip(Math.floor((ymax + radius) / size))];
}

/** The reference catalogue: catalogue values of every refcat star over the whole field, ordered by id. */
export function refcatStars(m: VisitModel): SkyStar[] {
  const out: SkyStar[] = [];
  const { n, size, radius } = m.cells;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      // cells wholly outside the field circle hold nothing the camera can see
      const cx = -radius + (i + 0.5) * size;
      const cy = -radius + (j + 0.5) * size;
      if (Math.hypot(cx, cy) - size > radius) continue;
      for (const s of cellStars(m, i, j, true)) if (s.inRefcat) out.push(s);
    }
  }
  return out;
}
