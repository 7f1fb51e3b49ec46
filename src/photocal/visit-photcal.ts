/**
 * Production photometric calibration: ONE zero point and ONE aperture correction per visit.
 * Per CCD, visitPhotSummary() posts the photometry of the entries of its astrometric summary (same order:
 * PSF, first-aperture and AUTO fluxes with errors) and each entry's aperture-correction value and weight
 * (apcorr.ts: first aperture to the last, isolated bright stars; computed on the CCD because isolation needs
 * all its detections). The reducer knows which entries matched reference stars under the visit WCS
 * (visit-solve.ts), so ONE gather suffices: solveVisitPhotometry() accumulates each CCD's matched stars
 * (accumulateApcorr / accumulateZeroPoint, one part per CCD), merges the parts in detector order (mergeMeans)
 * and runs the clipping rounds (meanRounds) centrally. The photometry is chosen as in quick mode: PSF fluxes
 * when any CCD has them, else the first aperture corrected to the last, else FLUX_AUTO.
 */
import type { Catalog } from '../catalog/schema.js';
import { accumulateApcorr, apcorrValues } from './apcorr.js';
import { mergeMeans, meanRounds, type MeanRoundsResult } from './robust-mean.js';
import { accumulateZeroPoint, photometry, zeroPointValues, type PhotKind } from './zeropoint.js';

export interface VisitPhotSummary {
  detector: number;
  /** entries (those of the CCD's astrometric summary, same order) */
  n: number;
  /** FLUX_PSF / FLUXERR_PSF (NaN without a PSF model), FLUX_APER / FLUXERR_APER of the first aperture, FLUX_AUTO */
  psf: Float64Array;
  psfErr: Float64Array;
  aper: Float64Array;
  aperErr: Float64Array;
  auto: Float64Array;
  autoErr: Float64Array;
  /** FLAGS (the zero point's star selection) */
  flags: Int32Array;
  /** apertures measured; aperture correction of the first to the last per entry (NaN / 0 when not usable) */
  nAper: number;
  apcorr: Float64Array;
  apcorrWeight: Float64Array;
}

/** The photometric summary of catalog `rows` (the CCD's astrometric summary's `row`). */
export function visitPhotSummary(cat: Catalog, detector: number, rows: ArrayLike<number>): VisitPhotSummary {
  const n = cat.NUMBER.length;
  const m = rows.length;
  const nAper = n > 0 && cat.FLUX_APER ? cat.FLUX_APER.length / n : 0;
  const pick = (kind: PhotKind): [Float64Array, Float64Array] => {
    const out: [Float64Array, Float64Array] = [new Float64Array(m).fill(NaN), new Float64Array(m).fill(NaN)];
    let p: { flux: Float64Array; fluxErr: Float64Array };
    try {
      p = photometry(cat, kind);
    } catch (e) {
      if (e instanceof RangeError) return out;
      throw e;
    }
    for (let k = 0; k < m; k++) {
      out[0][k] = p.flux[rows[k]];
      out[1][k] = p.fluxErr[rows[k]];
    }
    return out;
  };
  const [psf, psfErr] = pick('PSF');
  const [aper, aperErr] = pick({ aper: 0 });
  const [auto, autoErr] = pick('AUTO');
  const apcorr = new Float64Array(m).fill(NaN);
  const apcorrWeight = new Float64Array(m);
  if (nAper > 1) {
    const v = apcorrValues(cat, { chosen: { aper: 0 }, large: { aper: nAper - 1 } });
    for (let k = 0; k < m; k++) {
      apcorr[k] = v.values[rows[k]];
      apcorrWeight[k] = v.weights[rows[k]];
    }
  }
  const flags = new Int32Array(m);
  if (cat.FLAGS) for (let k = 0; k < m; k++) flags[k] = cat.FLAGS[rows[k]];
  return { detector, n: m, psf, psfErr, aper, aperErr, auto, autoErr, flags, nAper, apcorr, apcorrWeight };
}

export interface VisitPhotSolution {
  /** 'PSF', 'APER' (first aperture + apcorr) or 'AUTO' */
  kind: 'PSF' | 'APER' | 'AUTO';
  /** calibrated MAG = instrumental + apcorr (APER only) + zeroPoint */
  zeroPoint: number;
  zeroPointErr: number;
  /** scatter (mag) of the stars kept, stars kept / considered */
  scatter: number;
  nStars: number;
  nAll: number;
  /** aperture correction of the first aperture to the last (mag; 0 with one aperture or none measured) */
  apcorr: number;
  apcorrErr: number;
  apcorrStars: number;
  /** stars of each CCD in the zero point (detector order) */
  ccds: { detector: number; nStars: number }[];
}

export interface VisitPhotOptions {
  /** reference magnitude errors per reference row, when known */
  refMagErr?: ArrayLike<number>;
  clipSigma?: number;
  /** minimum SNR of the zero point's stars (default 10) */
  minSnr?: number;
}

/**
 * The reducer body of the visit photometry: the CCDs' photometric summaries (any order; sorted here), their
 * matched stars (summary entry -> reference row, from solveVisitAstrometry) and the reference magnitudes.
 */
export function solveVisitPhotometry(
  summaries: readonly VisitPhotSummary[],
  matches: readonly { detector: number; source: ArrayLike<number>; refRow: ArrayLike<number> }[],
  refMag: ArrayLike<number>,
  opts: VisitPhotOptions = {},
): VisitPhotSolution {
  const parts = [...summaries].sort((a, b) => a.detector - b.detector);
  const byDet = new Map(matches.map((m) => [m.detector, m]));
  const none = { source: new Int32Array(0), refRow: new Int32Array(0) };
  const hasPsf = parts.some((p) => p.psf.some((v) => Number.isFinite(v) && v > 0));
  const nAper = parts.reduce((a, p) => Math.max(a, p.nAper), 0);
  const kind: VisitPhotSolution['kind'] = hasPsf ? 'PSF' : nAper > 1 ? 'APER' : 'AUTO';
  // aperture correction of the matched stars (reported always; applied to the zero point's photometry when APER)
  const apParts = parts.map((p) => {
    const m = byDet.get(p.detector) ?? none;
    const values = new Float64Array(m.source.length);
    const weights = new Float64Array(m.source.length);
    for (let k = 0; k < m.source.length; k++) {
      values[k] = p.apcorr[m.source[k]];
      weights[k] = p.apcorrWeight[m.source[k]];
    }
    return { id: p.detector, values, weights };
  });
  let ap: MeanRoundsResult | undefined;
  if (nAper > 1 && anyValue(apParts)) ap = meanRounds((w) => mergeMeans(apParts.map((v) => accumulateApcorr(v, w, v.id))), { clipSigma: opts.clipSigma });
  const apcorr = ap && Number.isFinite(ap.mean) ? ap.mean : 0;
  const zpParts = parts.map((p) => {
    const m = byDet.get(p.detector) ?? none;
    const [flux, err] = kind === 'PSF' ? [p.psf, p.psfErr] : kind === 'APER' ? [p.aper, p.aperErr] : [p.auto, p.autoErr];
    const v = zeroPointValues({ source: m.source, ref: m.refRow }, flux, err, p.flags, refMag, {
      apcorr: kind === 'APER' ? apcorr : 0,
      refMagErr: opts.refMagErr,
      minSnr: opts.minSnr,
    });
    return { id: p.detector, ...v };
  });
  const zp: Pick<MeanRoundsResult, 'mean' | 'error' | 'scatter' | 'n' | 'nAll'> = anyValue(zpParts)
    ? meanRounds((w) => mergeMeans(zpParts.map((v) => accumulateZeroPoint(v, w, v.id))), { clipSigma: opts.clipSigma })
    : { mean: NaN, error: NaN, scatter: NaN, n: 0, nAll: 0 };
  return {
    kind,
    zeroPoint: zp.mean,
    zeroPointErr: zp.error,
    scatter: zp.scatter,
    nStars: zp.n,
    nAll: zp.nAll,
    apcorr,
    apcorrErr: ap && Number.isFinite(ap.mean) ? ap.error : NaN,
    apcorrStars: ap && Number.isFinite(ap.mean) ? ap.n : 0,
    ccds: zpParts.map((v) => ({ detector: v.id, nStars: v.weights.reduce((s, w) => s + (w > 0 ? 1 : 0), 0) })),
  };
}

/** Whether any part has a usable value (else the rounds have no median to start from). */
function anyValue(parts: readonly { values: Float64Array; weights: Float64Array }[]): boolean {
  return parts.some((p) => p.values.some((v, k) => Number.isFinite(v) && p.weights[k] > 0 && Number.isFinite(p.weights[k])));
}

/**
 * A CCD's catalog with the visit's zero point applied to every MAG_* column (99 = undefined stays), as quick
 * mode does: shift = zeroPoint - magZeropoint (the MAG_ZEROPOINT the catalog was measured with), plus the
 * aperture correction on MAG_APER's first aperture when the zero point's photometry is APER.
 */
export function applyVisitZeroPoint(cat: Catalog, sol: VisitPhotSolution, magZeropoint: number): Catalog {
  const out: Catalog = { ...cat };
  if (!Number.isFinite(sol.zeroPoint)) return out;
  const n = cat.NUMBER.length;
  const shift = sol.zeroPoint - magZeropoint;
  for (const [name, col] of Object.entries(cat)) {
    if (!name.startsWith('MAG_')) continue;
    const m = Float32Array.from(col as Float32Array);
    const width = m.length / Math.max(1, n);
    for (let i = 0; i < m.length; i++) {
      if (m[i] >= 99) continue;
      m[i] += shift + (name === 'MAG_APER' && i % width === 0 && sol.kind === 'APER' ? sol.apcorr : 0);
    }
    out[name] = m;
  }
  return out;
}
