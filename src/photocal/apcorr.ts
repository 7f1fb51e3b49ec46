/**
 * Aperture correction of a chosen photometry from bright isolated stars: per star
 *   apcorr_i = -2.5 log10(F_large / F_chosen)
 * (the magnitude to add to the chosen photometry to reach the large aperture's, i.e. nearly total, flux), as
 * a sigma-clipped weighted mean with accumulate/merge/solve (robust-mean.ts). Stars: SNR of the large aperture
 * >= minSnr, no FLAGS bit of `badFlags` (by default none at all: no neighbours, not blended, not saturated),
 * no other detection within `isolation` pixels, and optionally a star mask (e.g. matched to reference stars).
 */
import type { Catalog } from '../catalog/schema.js';
import { PlaneGrid } from '../astrometry/match-nn.js';
import { accumulateMean, meanRounds, type HistSpec, type MeanAccum, type MeanRoundsResult, type MeanWindow } from './robust-mean.js';
import { photometry, type PhotKind } from './zeropoint.js';

const K = 2.5 / Math.LN10;

export interface ApcorrOptions {
  /** Photometry to correct (default the first aperture) and the large aperture (default the last one). */
  chosen?: PhotKind;
  large?: PhotKind;
  /** Minimum SNR in the large aperture. Default 50. */
  minSnr?: number;
  /** FLAGS bits that exclude a star. Default 0xff (any flag). */
  badFlags?: number;
  /** Isolation radius (pixels): no other detection closer. Default 20. */
  isolation?: number;
  /** Only rows with mask[i] != 0 (e.g. stars matched to the reference catalogue). */
  starMask?: ArrayLike<number>;
  /** Error floor added in quadrature (mag). Default 0.002. */
  floor?: number;
  /** Histogram of the per-star values. Default [-3, 3) mag in 0.001 mag bins. */
  hist?: HistSpec;
}

export const APCORR_HIST: HistSpec = Object.freeze({ lo: -3, hi: 3, bin: 0.001 });

/** Per-row aperture corrections and weights (NaN / 0 for rows not used). */
export function apcorrValues(cat: Catalog, opts: ApcorrOptions = {}): { values: Float64Array; weights: Float64Array; nStars: number } {
  const n = cat.NUMBER.length;
  const nAper = n > 0 && cat.FLUX_APER ? cat.FLUX_APER.length / n : 0;
  const chosen = photometry(cat, opts.chosen ?? { aper: 0 });
  const large = photometry(cat, opts.large ?? { aper: Math.max(0, nAper - 1) });
  const x = cat.XWIN_IMAGE ?? cat.X_IMAGE;
  const y = cat.YWIN_IMAGE ?? cat.Y_IMAGE;
  const flags = cat.FLAGS;
  const bad = opts.badFlags ?? 0xff;
  const minSnr = opts.minSnr ?? 50;
  const iso = opts.isolation ?? 20;
  const floor2 = (opts.floor ?? 0.002) ** 2;
  const grid = new PlaneGrid({ xi: Float64Array.from(x), eta: Float64Array.from(y), n }, iso);
  const values = new Float64Array(n).fill(NaN);
  const weights = new Float64Array(n);
  let nStars = 0;
  for (let i = 0; i < n; i++) {
    if (opts.starMask && !opts.starMask[i]) continue;
    if (flags && (flags[i] & bad) !== 0) continue;
    const fl = large.flux[i];
    const el = large.fluxErr[i];
    const fc = chosen.flux[i];
    const ec = chosen.fluxErr[i];
    if (!(fl > 0 && fc > 0 && el > 0 && fl / el >= minSnr)) continue;
    if (grid.countWithin(x[i], y[i], iso) > 1) continue;
    // the chosen flux is part of the large one: the difference's variance is about that of the annulus
    const rl = el / fl;
    const rc = ec / fc;
    values[i] = -K * Math.log(fl / fc);
    weights[i] = 1 / (K * K * Math.max(rl * rl - rc * rc, 0.25 * rl * rl) + floor2);
    nStars++;
  }
  return { values, weights, nStars };
}

/** One part's accumulation of aperture corrections for a round. */
export function accumulateApcorr(values: { values: Float64Array; weights: Float64Array }, window: MeanWindow | undefined, id = 0, hist: HistSpec = APCORR_HIST): MeanAccum {
  return accumulateMean(values.values, values.weights, hist, window, id);
}

export interface ApcorrResult extends MeanRoundsResult {
  /** mag to add to the chosen photometry's magnitudes */
  apcorr: number;
}

/** Quick-mode aperture correction of one catalog (all rounds on one part). */
export function fitApcorr(cat: Catalog, opts: ApcorrOptions & { clipSigma?: number } = {}): ApcorrResult {
  const v = apcorrValues(cat, opts);
  const r = meanRounds((w) => accumulateApcorr(v, w, 0, opts.hist ?? APCORR_HIST), { clipSigma: opts.clipSigma });
  return { ...r, apcorr: r.mean };
}
