/**
 * Photometric zero point from stars matched to a reference catalogue. Per star:
 *   zp_i = m_ref,i + k * colour_i - (m_inst,i + apcorr),   m_inst = -2.5 log10(flux)
 * with the chosen photometry (FLUX_APER of one aperture, FLUX_AUTO or FLUX_PSF), the aperture correction of
 * that photometry (apcorr.ts, 0 for none) and an optional colour term k (off by default). The zero point is
 * the sigma-clipped mean weighted by 1 / (sigma_inst^2 + sigma_ref^2 + floor^2), as accumulate/merge/solve
 * (robust-mean.ts): calibrated magnitude = m_inst + apcorr + ZP.
 */
import type { Catalog } from '../catalog/schema.js';
import { accumulateMean, meanRounds, type HistSpec, type MeanAccum, type MeanRoundsResult, type MeanWindow } from './robust-mean.js';

/** Which photometry: an aperture (0-based index into PHOT_APERTURES), AUTO or PSF. */
export type PhotKind = { aper: number } | 'AUTO' | 'PSF' | 'WIN' | 'ISO';

/** Flux and flux error columns of a catalog for a photometry kind. */
export function photometry(cat: Catalog, kind: PhotKind): { flux: Float64Array; fluxErr: Float64Array } {
  const n = cat.NUMBER?.length ?? 0;
  const name = typeof kind === 'string' ? kind : 'APER';
  const f = cat[`FLUX_${name}`];
  const e = cat[`FLUXERR_${name}`];
  if (!f || !e) throw new RangeError(`photometric calibration: the catalog has no FLUX_${name} / FLUXERR_${name} columns`);
  const width = n > 0 ? f.length / n : 1;
  const k = typeof kind === 'string' ? 0 : kind.aper;
  if (!(Number.isInteger(k) && k >= 0 && k < width)) throw new RangeError(`photometric calibration: aperture ${k} does not exist (${width} apertures)`);
  const flux = new Float64Array(n);
  const fluxErr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    flux[i] = f[i * width + k];
    fluxErr[i] = e[i * width + k];
  }
  return { flux, fluxErr };
}

/** Instrumental magnitude -2.5 log10(flux) (NaN for flux <= 0). */
export function instMag(flux: number): number {
  return flux > 0 ? -2.5 * Math.log10(flux) : NaN;
}

const K = 2.5 / Math.LN10;

export interface ZeroPointStars {
  /** catalog rows and reference rows of the matched stars */
  source: ArrayLike<number>;
  ref: ArrayLike<number>;
}

export interface ZeroPointOptions {
  /** Aperture correction (mag) added to the instrumental magnitudes. Default 0. */
  apcorr?: number;
  /** Minimum SNR (flux / fluxErr) of the stars used. Default 10. */
  minSnr?: number;
  /** FLAGS bits that exclude a star. Default 0xfc (saturated, truncated and worse). */
  badFlags?: number;
  /** Reference magnitude range used. Default all. */
  magRange?: [number, number];
  /** Reference magnitude errors (per reference row), when known. */
  refMagErr?: ArrayLike<number>;
  /** Colour per reference row and colour-term coefficient k (default 0: off). */
  colour?: ArrayLike<number>;
  colourTerm?: number;
  /** Error floor added in quadrature (mag). Default 0.005. */
  floor?: number;
  /** Histogram of the per-star values. Default [0, 50) mag in 0.005 mag bins. */
  hist?: HistSpec;
}

export const ZP_HIST: HistSpec = Object.freeze({ lo: 0, hi: 50, bin: 0.005 });

/** Per-star zero points and weights (NaN / 0 for stars not used). */
export function zeroPointValues(
  stars: ZeroPointStars,
  flux: ArrayLike<number>,
  fluxErr: ArrayLike<number>,
  flags: ArrayLike<number> | undefined,
  refMag: ArrayLike<number>,
  opts: ZeroPointOptions = {},
): { values: Float64Array; weights: Float64Array } {
  const n = stars.source.length;
  const values = new Float64Array(n).fill(NaN);
  const weights = new Float64Array(n);
  const minSnr = opts.minSnr ?? 10;
  const bad = opts.badFlags ?? 0xfc;
  const floor2 = (opts.floor ?? 0.005) ** 2;
  const apcorr = opts.apcorr ?? 0;
  const kc = opts.colourTerm ?? 0;
  const [mlo, mhi] = opts.magRange ?? [-Infinity, Infinity];
  for (let k = 0; k < n; k++) {
    const i = stars.source[k];
    const j = stars.ref[k];
    const f = flux[i];
    const e = fluxErr[i];
    const m = refMag[j];
    if (!(f > 0 && e > 0 && f / e >= minSnr && m >= mlo && m <= mhi)) continue;
    if (flags && (flags[i] & bad) !== 0) continue;
    let v = m - (instMag(f) + apcorr);
    if (kc !== 0) {
      const c = opts.colour?.[j] ?? NaN;
      if (!Number.isFinite(c)) continue;
      v += kc * c;
    }
    const sr = opts.refMagErr?.[j] ?? 0;
    const si = (K * e) / f;
    values[k] = v;
    weights[k] = 1 / (si * si + (Number.isFinite(sr) ? sr * sr : 0) + floor2);
  }
  return { values, weights };
}

/** One CCD's (or part's) accumulation of zero-point values for a round. */
export function accumulateZeroPoint(values: { values: Float64Array; weights: Float64Array }, window: MeanWindow | undefined, id = 0, hist: HistSpec = ZP_HIST): MeanAccum {
  return accumulateMean(values.values, values.weights, hist, window, id);
}

export interface ZeroPointResult extends MeanRoundsResult {
  /** the zero point (mag): calibrated = m_inst + apcorr + zeroPoint */
  zeroPoint: number;
}

/** Quick-mode zero point of one catalog's matched stars (all rounds on one part). */
export function fitZeroPoint(
  stars: ZeroPointStars,
  flux: ArrayLike<number>,
  fluxErr: ArrayLike<number>,
  flags: ArrayLike<number> | undefined,
  refMag: ArrayLike<number>,
  opts: ZeroPointOptions & { clipSigma?: number } = {},
): ZeroPointResult {
  const v = zeroPointValues(stars, flux, fluxErr, flags, refMag, opts);
  const r = meanRounds((w) => accumulateZeroPoint(v, w, 0, opts.hist ?? ZP_HIST), { clipSigma: opts.clipSigma });
  return { ...r, zeroPoint: r.mean };
}
