/**
 * PSF star selection from a measured catalog (SExtractor columns), per CCD:
 *  1. bright, clean candidates: FLAGS & flagMask == 0 (saturated, blended, crowded, truncated...), SNR_WIN >= minSnr,
 *     (A - B) / (A + B) <= maxEllip, 2 FLUX_RADIUS within fwhmRange;
 *     On images whose brightest objects all peak at the same raw level (a saturation plateau the catalog's FLAGS do
 *     not know, e.g. photographic plates or an unset SATUR_LEVEL), stars peaking above `plateauFraction` of that
 *     level (above the background) are rejected as saturated or non-linear;
 *  2. the stellar locus: the mode of ln FLUX_RADIUS among them (densest +-5% window), then a band of half-width
 *     `tolerance` (in ln size) around a linear trend of ln FLUX_RADIUS with position (the PSF varies across the CCD),
 *     refitted twice with 3-sigma (robust) clipping;
 *  3. isolated: no other detection within `isolation` pixels, and the stamp (plus the Lanczos margin) inside the image;
 *  4. `reserveFraction` of the stars reserved for validation: the ones with the smallest seeded hash of their
 *     position, so the choice depends neither on catalog order nor on which other stars were selected.
 * FLUX_RADIUS is read from its first element (PHOT_FLUXFRAC should start with 0.5).
 */
import type { Catalog } from '../catalog/schema.js';

export interface StarSelectOptions {
  /** minimum SNR_WIN (default 20) */
  minSnr?: number;
  /** FLAGS bits that reject a star (default 0xff: every SExtractor extraction flag) */
  flagMask?: number;
  /** maximum (A - B) / (A + B) = (ELONGATION - 1) / (ELONGATION + 1) (default 0.3) */
  maxEllip?: number;
  /** allowed 2 x FLUX_RADIUS range, pixels (default [1.2, 25]) */
  fwhmRange?: readonly [number, number];
  /** half-width of the locus band in ln FLUX_RADIUS (default 0.2) */
  tolerance?: number;
  /** isolation radius in pixels (default: stampHalfWidth) */
  isolation?: number;
  /** half-width in pixels of the stamp that must lie inside the image (default 3 x FWHM estimate + 1) */
  stampHalfWidth?: number;
  /** fraction reserved for validation (default 0.2) */
  reserveFraction?: number;
  /** seed of the reserve hash (default 0); use e.g. the detector id */
  seed?: number;
  /** largest FLUX_MAX of a star, as a fraction of (plateau - BACKGROUND), when a saturation plateau is found (default 0.5) */
  plateauFraction?: number;
}

export interface StarSelection {
  /** catalog rows of the stars to fit the PSF with (ascending) */
  stars: Int32Array;
  /** catalog rows of the reserved stars (ascending) */
  reserved: Int32Array;
  /** FWHM estimate, 2 x the locus mode of FLUX_RADIUS (pixels); NaN if there is no locus */
  fwhm: number;
  /** half-width (pixels) of the stamps required inside the image */
  stampHalfWidth: number;
  counts: { bright: number; locus: number; isolated: number };
  /** raw saturation plateau found among the brightest objects (ADU), NaN if none */
  plateau: number;
}

const num = (cat: Catalog, name: string): ArrayLike<number> => {
  const c = cat[name];
  if (!c) throw new RangeError(`PSF star selection needs catalog column ${name}`);
  return c;
};

/** A 32-bit mixing hash of integers (murmur3 finaliser over a combination). */
export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a | 0, 0x9e3779b1) ^ Math.imul(b | 0, 0x85ebca77) ^ Math.imul(c | 0, 0xc2b2ae3d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The mode of sorted values: centre (median) of the densest window of half-width h; ties go to the smaller value. */
export function sortedMode(v: Float64Array, h: number): number {
  let best = -1;
  let bestCount = 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < v.length; i++) {
    while (v[lo] < v[i] - h) lo++;
    while (hi + 1 < v.length && v[hi + 1] <= v[i] + h) hi++;
    if (hi - lo + 1 > bestCount) {
      bestCount = hi - lo + 1;
      best = i;
    }
  }
  if (best < 0) return NaN;
  let a = best;
  let b = best;
  while (a > 0 && v[a - 1] >= v[best] - h) a--;
  while (b + 1 < v.length && v[b + 1] <= v[best] + h) b++;
  const m = (a + b) / 2;
  return 0.5 * (v[Math.floor(m)] + v[Math.ceil(m)]);
}

/**
 * A saturation plateau: among the brightest tenth (at least 8) of clean objects, the raw peaks FLUX_MAX + BACKGROUND
 * agree within 5% (80th / 20th percentile) while the fluxes differ by more than 20%. Returns the median raw peak, or
 * NaN when there is no plateau.
 */
export function saturationPlateau(cat: Catalog, rows: readonly number[]): number {
  const fluxCol = cat.FLUX_AUTO ?? cat.FLUX_ISO;
  const fmax = cat.FLUX_MAX;
  const back = cat.BACKGROUND;
  if (!fluxCol || !fmax || !back || rows.length < 8) return NaN;
  const top = [...rows].sort((a, b) => fluxCol[b] - fluxCol[a] || a - b).slice(0, Math.max(8, Math.round(rows.length / 10)));
  const q = (a: number[], p: number) => a[Math.floor(p * (a.length - 1))];
  const raw = top.map((i) => fmax[i] + back[i]).sort((a, b) => a - b);
  const fl = top.map((i) => fluxCol[i]).sort((a, b) => a - b);
  return q(raw, 0.8) < 1.05 * q(raw, 0.2) && q(fl, 0.8) > 1.2 * q(fl, 0.2) ? q(raw, 0.5) : NaN;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** Least-squares plane z = a + b u + c v (falls back to the mean when singular). */
function fitPlane(u: number[], v: number[], z: number[]): [number, number, number] {
  let s = 0, su = 0, sv = 0, suu = 0, svv = 0, suv = 0, sz = 0, suz = 0, svz = 0;
  for (let i = 0; i < z.length; i++) {
    s++; su += u[i]; sv += v[i]; suu += u[i] * u[i]; svv += v[i] * v[i]; suv += u[i] * v[i];
    sz += z[i]; suz += u[i] * z[i]; svz += v[i] * z[i];
  }
  const m = [[s, su, sv], [su, suu, suv], [sv, suv, svv]];
  const r = [sz, suz, svz];
  const det3 = (a: number[][]) => a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const d = det3(m);
  if (z.length < 6 || !(Math.abs(d) > 1e-9 * s * s * s)) return [s > 0 ? sz / s : 0, 0, 0];
  const col = (k: number) => m.map((row, i) => row.map((x, j) => (j === k ? r[i] : x)));
  return [det3(col(0)) / d, det3(col(1)) / d, det3(col(2)) / d];
}

/** Select PSF stars (and the reserved validation stars) from a catalog of an image of the given size. */
export function selectPsfStars(cat: Catalog, width: number, height: number, opts: StarSelectOptions = {}): StarSelection {
  const minSnr = opts.minSnr ?? 20;
  const flagMask = opts.flagMask ?? 0xff;
  const maxEllip = opts.maxEllip ?? 0.3;
  const [fmin, fmax] = opts.fwhmRange ?? [1.2, 25];
  const tol = opts.tolerance ?? 0.2;
  const xw = num(cat, 'XWIN_IMAGE');
  const yw = num(cat, 'YWIN_IMAGE');
  const flags = num(cat, 'FLAGS');
  const snr = num(cat, 'SNR_WIN');
  const elong = num(cat, 'ELONGATION');
  const frad = num(cat, 'FLUX_RADIUS');
  const n = xw.length;
  const rw = n > 0 ? frad.length / n : 1;
  let plateau = NaN;
  const empty = (fwhm: number, bright: number, locus: number): StarSelection => ({
    stars: new Int32Array(0), reserved: new Int32Array(0), fwhm, stampHalfWidth: NaN, counts: { bright, locus, isolated: 0 }, plateau,
  });
  // 1. bright clean candidates
  const base: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = frad[i * rw];
    const e = elong[i];
    if ((flags[i] & flagMask) !== 0 || !(snr[i] >= minSnr)) continue;
    if (!(r > 0) || 2 * r < fmin || 2 * r > fmax) continue;
    if (!((e - 1) / (e + 1) <= maxEllip) || !Number.isFinite(xw[i]) || !Number.isFinite(yw[i])) continue;
    base.push(i);
  }
  plateau = saturationPlateau(cat, base);
  if (Number.isFinite(plateau)) {
    const frac = opts.plateauFraction ?? 0.5;
    const fmax = cat.FLUX_MAX;
    const back = cat.BACKGROUND;
    const kept = base.filter((i) => fmax[i] <= frac * (plateau - back[i]));
    base.length = 0;
    base.push(...kept);
  }
  if (base.length < 2) return empty(NaN, base.length, 0);
  // 2. locus: mode of ln r, then a band around a positional trend
  const lr = base.map((i) => Math.log(frad[i * rw]));
  const mode = sortedMode(Float64Array.from(lr).sort(), 0.05);
  const bu = base.map((i) => xw[i] / width - 0.5);
  const bv = base.map((i) => yw[i] / height - 0.5);
  let trend: [number, number, number] = [mode, 0, 0];
  let band = tol;
  let members = base.map((_, k) => k).filter((k) => Math.abs(lr[k] - mode) <= tol);
  for (let iter = 0; iter < 3 && members.length >= 3; iter++) {
    trend = fitPlane(members.map((k) => bu[k]), members.map((k) => bv[k]), members.map((k) => lr[k]));
    const res = members.map((k) => lr[k] - (trend[0] + trend[1] * bu[k] + trend[2] * bv[k]));
    const sig = 1.4826 * median(res.map(Math.abs));
    band = Math.min(tol, Math.max(0.04, 3 * sig));
    members = base.map((_, k) => k).filter((k) => Math.abs(lr[k] - (trend[0] + trend[1] * bu[k] + trend[2] * bv[k])) <= band);
  }
  const fwhm = 2 * Math.exp(trend[0]);
  if (members.length === 0) return empty(fwhm, base.length, 0);
  // 3. isolation and stamp inside the image
  const half = opts.stampHalfWidth ?? Math.ceil(3 * fwhm) + 1;
  const iso = opts.isolation ?? half;
  const margin = half + 3;
  const cell = Math.max(1, iso);
  const gx = Math.max(1, Math.ceil(width / cell) + 1);
  const grid = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(xw[i]) || !Number.isFinite(yw[i])) continue;
    const key = Math.floor(yw[i] / cell) * gx + Math.floor(xw[i] / cell);
    const l = grid.get(key);
    if (l) l.push(i);
    else grid.set(key, [i]);
  }
  const isolated = (i: number): boolean => {
    const cx = Math.floor(xw[i] / cell);
    const cy = Math.floor(yw[i] / cell);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        for (const j of grid.get((cy + dy) * gx + cx + dx) ?? []) {
          if (j !== i && (xw[j] - xw[i]) ** 2 + (yw[j] - yw[i]) ** 2 < iso * iso) return false;
        }
      }
    }
    return true;
  };
  const chosen: number[] = [];
  for (const k of members) {
    const i = base[k];
    const x0 = xw[i] - 1;
    const y0 = yw[i] - 1;
    if (x0 - margin < 0 || y0 - margin < 0 || x0 + margin > width - 1 || y0 + margin > height - 1) continue;
    if (isolated(i)) chosen.push(i);
  }
  chosen.sort((a, b) => a - b);
  // 4. reserve by seeded position hash
  const seed = opts.seed ?? 0;
  const nres = Math.round((opts.reserveFraction ?? 0.2) * chosen.length);
  const keyed = chosen.map((i) => ({ i, h: hash3(Math.round(xw[i] * 1000), Math.round(yw[i] * 1000), seed) }));
  keyed.sort((a, b) => a.h - b.h || a.i - b.i);
  const res = new Set(keyed.slice(0, nres).map((k) => k.i));
  return {
    stars: Int32Array.from(chosen.filter((i) => !res.has(i))),
    reserved: Int32Array.from(chosen.filter((i) => res.has(i))),
    fwhm,
    stampHalfWidth: half,
    counts: { bright: base.length, locus: members.length, isolated: chosen.length },
    plateau,
  };
}
