/**
 * ACCUMULATE and MERGE steps of the PSF fit.
 *
 * Each star s gives a stamp: the background-subtracted image Lanczos-3-resampled onto the model grid centred on
 * the star (sample value = flux in a step x step cell), divided by the star's flux F_s: d_s. With one weight w_s per
 * star, every model sample k obeys the same linear model d_s[k] = sum_t P_t(x_s) c_t[k] in the position-polynomial
 * terms P_t, so the least-squares normal equations share one nterms x nterms matrix:
 *   A = sum_s w_s P(x_s) P(x_s)^T,   B[t][k] = sum_s w_s P_t(x_s) d_s[k],   D[k] = sum_s w_s d_s[k]^2.
 * A CCD's summary (A, B, D, counts) is a few kB; summaries of several CCDs add up (mergePsfSummaries) and the central
 * SOLVE step (solve.ts) needs nothing else. Summaries are accumulated at the maximum degree: the system of any lower
 * degree is a sub-system, so the degree can be chosen after the merge from the total number of stars.
 *
 * Stamps are taken along the CCD's pixel axes: a focal-plane fit assumes CCDs of one orientation (or stamps
 * rotated by the caller beforehand).
 * Stamps: pixels of other objects (segmentation) or bad pixels are replaced by their mirror image through the star
 * centre; stars with such pixels near the centre or too many of them are rejected.
 * Flux normalisation: without a prior model, F_s is the stamp's sum (flux inside the model footprint); with a prior
 * model (refining passes), F_s is the least-squares amplitude of the prior, and stars whose chi^2 against the prior
 * exceeds an absolute limit are rejected. Per-star weight: 1 / (1 / SNR^2 + accuracy^2 + (A skyError rms / F_s)^2),
 * SNR of the PSF-weighted flux, A the footprint area: `accuracy` caps the weight of very bright stars, the last term
 * that of faint stars, whose normalised stamps are dominated by background errors in the wings.
 */
import type { Plane } from '../image/types.js';
import { Resampler } from './lanczos.js';
import { checkGeometry, PsfEvaluator, type PsfGeometry, type PsfModel } from './model.js';
import { evalTerms, nTerms } from './poly.js';

export interface PsfSummary {
  readonly geometry: PsfGeometry;
  nStars: number;
  sumW: number;
  /** nt x nt, row-major */
  readonly ata: Float64Array;
  /** nt x npix, term-major */
  readonly atb: Float64Array;
  /** npix */
  readonly dtd: Float64Array;
  /** stars not accumulated: stamp off the image / on bad pixels, no positive flux, chi^2 outliers */
  rejected: { edge: number; noFlux: number; outlier: number };
}

/** Pixels and noise of one CCD, and the stars to accumulate (positions 0-based pixels, and in the model frame). */
export interface PsfStarsInput {
  /** background-subtracted image */
  readonly image: Plane;
  /** background noise RMS: a map or a constant */
  readonly rms: Plane | number;
  /** e-/ADU; 0 = infinite (no photon noise term) */
  readonly gain: number;
  /** non-zero = bad pixel */
  readonly mask?: Uint8Array;
  /** star centres, 0-based pixel coordinates (XWIN_IMAGE - 1, YWIN_IMAGE - 1) */
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** star positions in the model frame (X_IMAGE, Y_IMAGE in quick mode; focal-plane mm in production) */
  readonly fx: ArrayLike<number>;
  readonly fy: ArrayLike<number>;
  /** segmentation map (0 sky, k = object k): pixels of other objects are replaced (see Cutout) */
  readonly segmentation?: Int32Array;
  /** own segmentation label of each star (default: the label under its centre) */
  readonly labels?: ArrayLike<number>;
}

export interface AccumulateOptions {
  /** prior model (refining passes): flux normalisation by PSF fit and outlier rejection */
  prior?: PsfModel;
  /** relative accuracy floor of a star's normalised stamp, capping the weight of bright stars (default 0.003) */
  accuracy?: number;
  /**
   * outlier rejection against the prior: reduced chi^2 computed with a relative model-error floor `chi2Floor`
   * (default 0.03) in each sample's variance, stars above `maxChi2` (default 3) rejected. The rule is absolute, so a
   * star's fate does not depend on the other stars of the call (split and merged accumulations agree exactly).
   */
  maxChi2?: number;
  chi2Floor?: number;
  /** largest fraction of the stamp's samples on other objects or bad pixels (replaced by symmetry; default 0.15) */
  maxReplaced?: number;
  /**
   * systematic background error per pixel, in units of the background rms (default 0.05): a star's normalised stamp
   * then carries an error of about (footprint area x error) / flux, which down-weights faint stars (whose stamps,
   * divided by a small flux, would otherwise carry the background error into the model's wings and normalisation)
   */
  skyError?: number;
}

/** Per-star outcome of accumulatePsf (EDGE: off the image, on unrepairable bad pixels or too contaminated). */
export const STAR_USED = 0;
export const STAR_EDGE = 1;
export const STAR_NOFLUX = 2;
export const STAR_OUTLIER = 3;

export interface AccumulateResult {
  summary: PsfSummary;
  /** per input star: STAR_USED, STAR_EDGE, STAR_NOFLUX or STAR_OUTLIER */
  status: Uint8Array;
  /** per input star: the normalising flux (NaN when rejected before normalisation) */
  flux: Float64Array;
  /** per input star: reduced chi^2 against the prior (NaN without a prior) */
  chi2: Float64Array;
}

/** An empty summary for a geometry. */
export function emptySummary(geometry: PsfGeometry): PsfSummary {
  checkGeometry(geometry);
  const nt = nTerms(geometry.degree);
  const npix = geometry.size * geometry.size;
  return {
    geometry,
    nStars: 0,
    sumW: 0,
    ata: new Float64Array(nt * nt),
    atb: new Float64Array(nt * npix),
    dtd: new Float64Array(npix),
    rejected: { edge: 0, noFlux: 0, outlier: 0 },
  };
}

const rmsAt = (rms: Plane | number, k: number): number => (typeof rms === 'number' ? rms : rms.data[k]);

/**
 * A star's cutout with pixels of other objects (segmentation label not 0 nor the star's own) and bad pixels
 * replaced by their mirror image through the star centre when that one is clean (0 otherwise). Returns the number
 * of replaced pixels within `rStamp` and whether any lies within `rCore` or could not be replaced.
 */
class Cutout {
  data = new Float64Array(0);
  bad = new Uint8Array(0);
  x0 = 0;
  y0 = 0;
  n = 0;
  fill(input: PsfStarsInput, label: number, x: number, y: number, half: number, rStamp: number, rCore: number): { replaced: number; core: boolean; lost: boolean } {
    const { image, mask } = input;
    const seg = input.segmentation;
    const w = image.width;
    const n = 2 * half + 1;
    if (this.data.length < n * n) {
      this.data = new Float64Array(n * n);
      this.bad = new Uint8Array(n * n);
    }
    this.n = n;
    this.x0 = Math.round(x) - half;
    this.y0 = Math.round(y) - half;
    const { data, bad } = this;
    let nbad = 0;
    for (let j = 0; j < n; j++) {
      const py = this.y0 + j;
      for (let i = 0; i < n; i++) {
        const px = this.x0 + i;
        const q = j * n + i;
        if (px < 0 || py < 0 || px >= w || py >= image.height) {
          data[q] = NaN;
          bad[q] = 0;
          continue;
        }
        const k = py * w + px;
        const v = image.data[k];
        data[q] = v;
        const b = !(v - v === 0) || (mask !== undefined && mask[k] !== 0) || (seg !== undefined && seg[k] !== 0 && seg[k] !== label);
        bad[q] = b ? 1 : 0;
        if (b) nbad++;
      }
    }
    const out = { replaced: 0, core: false, lost: false };
    if (nbad === 0) return out;
    const rs2 = rStamp * rStamp;
    const rc2 = rCore * rCore;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const q = j * n + i;
        if (!bad[q]) continue;
        const dx = this.x0 + i - x;
        const dy = this.y0 + j - y;
        const r2 = dx * dx + dy * dy;
        if (r2 <= rs2) out.replaced++;
        if (r2 <= rc2) out.core = true;
        const mi = Math.round(2 * x) - (this.x0 + i) - this.x0;
        const mj = Math.round(2 * y) - (this.y0 + j) - this.y0;
        if (mi >= 0 && mj >= 0 && mi < n && mj < n && !bad[mj * n + mi] && Number.isFinite(data[mj * n + mi])) data[q] = data[mj * n + mi];
        else {
          data[q] = 0;
          if (r2 <= rs2) out.lost = true;
        }
      }
    }
    return out;
  }
}

/** A star's own segmentation label: given, or the label under its centre. */
function ownLabel(input: PsfStarsInput, s: number): number {
  if (input.labels) return input.labels[s];
  const seg = input.segmentation;
  if (!seg) return 0;
  const k = Math.round(input.y[s]) * input.image.width + Math.round(input.x[s]);
  return k >= 0 && k < seg.length ? seg[k] : 0;
}

/** ACCUMULATE: the normal equations of one CCD's stars for a model geometry. */
export function accumulatePsf(geometry: PsfGeometry, input: PsfStarsInput, opts: AccumulateOptions = {}): AccumulateResult {
  const summary = emptySummary(geometry);
  const { size, step, degree, frame } = geometry;
  const npix = size * size;
  const nt = nTerms(degree);
  const c = (size - 1) / 2;
  const acc = opts.accuracy ?? 0.003;
  const maxChi2 = opts.maxChi2 ?? 3;
  const floor = opts.chi2Floor ?? 0.03;
  const maxReplaced = opts.maxReplaced ?? 0.15;
  const skyError = opts.skyError ?? 0.05;
  const { rms, gain } = input;
  const nstar = input.x.length;
  const status = new Uint8Array(nstar);
  const flux = new Float64Array(nstar).fill(NaN);
  const chi2 = new Float64Array(nstar).fill(NaN);
  const weight = new Float64Array(nstar);
  const stamps = new Float64Array(nstar * npix);
  const rs = new Resampler();
  const cut = new Cutout();
  const prior = opts.prior ? new PsfEvaluator(opts.prior) : undefined;
  if (opts.prior && (opts.prior.size !== size || opts.prior.step !== step)) throw new RangeError('prior PSF model has a different grid');
  const m = new Float64Array(npix);
  const s2 = step * step;
  const rStamp = c * step;
  const half = Math.ceil(rStamp * Math.SQRT2) + 4;
  let inStamp = 0;
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) if ((i - c) ** 2 + (j - c) ** 2 <= c * c) inStamp++;
  const inStampPix = inStamp * s2;
  for (let s = 0; s < nstar; s++) {
    const x = input.x[s];
    const y = input.y[s];
    const stamp = stamps.subarray(s * npix, (s + 1) * npix);
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(input.fx[s]) || !Number.isFinite(input.fy[s])) {
      status[s] = STAR_EDGE;
      continue;
    }
    const fix = cut.fill(input, ownLabel(input, s), x, y, half, rStamp, 0.25 * rStamp);
    const grid = { width: cut.n, height: cut.n, data: cut.data };
    const info = rs.resample(grid, x - cut.x0 - rStamp, step, size, y - cut.y0 - rStamp, step, size, stamp, s2);
    if (info.nonFinite > 0 || info.outside > 0 || fix.core || fix.lost || fix.replaced > maxReplaced * inStampPix) {
      status[s] = STAR_EDGE;
      continue;
    }
    let f = 0;
    if (prior) {
      prior.imageAt(input.fx[s], input.fy[s], m);
      let smm = 0;
      let sms = 0;
      for (let k = 0; k < npix; k++) {
        smm += m[k] * m[k];
        sms += m[k] * stamp[k];
      }
      f = sms / smm;
    } else {
      for (let k = 0; k < npix; k++) f += stamp[k];
      for (let k = 0; k < npix; k++) m[k] = Math.max(0, stamp[k]) / f;
    }
    if (!(f > 0)) {
      status[s] = STAR_NOFLUX;
      continue;
    }
    flux[s] = f;
    // noise of each sample (image-pixel variance x step^4), PSF-weighted SNR, chi^2 against the prior
    const r = rmsAt(rms, Math.round(y) * input.image.width + Math.round(x));
    let snr2 = 0;
    let ch = 0;
    for (let k = 0; k < npix; k++) {
      const mod = f * m[k];
      const v = (r * r + (gain > 0 ? Math.max(0, mod / s2) / gain : 0)) * s2 * s2;
      snr2 += (mod * mod) / v;
      if (prior) {
        const dv = stamp[k] - mod;
        ch += (dv * dv) / (v + floor * floor * mod * mod);
      }
    }
    snr2 *= s2;
    const sys = (skyError * r * npix * s2) / f;
    weight[s] = 1 / (1 / snr2 + acc * acc + sys * sys);
    if (prior) {
      chi2[s] = (ch * s2) / (npix * s2 - 1);
      if (!(chi2[s] <= maxChi2)) status[s] = STAR_OUTLIER;
    }
  }
  const p = new Float64Array(nt);
  const { ata, atb, dtd } = summary;
  for (let s = 0; s < nstar; s++) {
    if (status[s] !== STAR_USED) {
      if (status[s] === STAR_EDGE) summary.rejected.edge++;
      else if (status[s] === STAR_NOFLUX) summary.rejected.noFlux++;
      else summary.rejected.outlier++;
      continue;
    }
    const w = weight[s];
    const inv = 1 / flux[s];
    evalTerms(frame, degree, input.fx[s], input.fy[s], p);
    for (let a = 0; a < nt; a++) for (let b = 0; b < nt; b++) ata[a * nt + b] += w * p[a] * p[b];
    const stamp = stamps.subarray(s * npix, (s + 1) * npix);
    for (let k = 0; k < npix; k++) {
      const d = stamp[k] * inv;
      dtd[k] += w * d * d;
      for (let t = 0; t < nt; t++) atb[t * npix + k] += w * p[t] * d;
    }
    summary.nStars++;
    summary.sumW += w;
  }
  return { summary, status, flux, chi2 };
}

function sameGeometry(a: PsfGeometry, b: PsfGeometry): boolean {
  return (
    a.size === b.size && a.step === b.step && a.degree === b.degree &&
    a.frame.names[0] === b.frame.names[0] && a.frame.names[1] === b.frame.names[1] &&
    a.frame.zero[0] === b.frame.zero[0] && a.frame.zero[1] === b.frame.zero[1] &&
    a.frame.scale[0] === b.frame.scale[0] && a.frame.scale[1] === b.frame.scale[1]
  );
}

/** MERGE: the sum of summaries of one geometry, added in the order given (a new summary; inputs untouched). */
export function mergePsfSummaries(parts: readonly PsfSummary[]): PsfSummary {
  if (parts.length === 0) throw new RangeError('no PSF summaries to merge');
  const out = emptySummary(parts[0].geometry);
  for (const p of parts) {
    if (!sameGeometry(p.geometry, out.geometry)) throw new RangeError('PSF summaries of different geometries cannot be merged');
    out.nStars += p.nStars;
    out.sumW += p.sumW;
    for (let i = 0; i < out.ata.length; i++) out.ata[i] += p.ata[i];
    for (let i = 0; i < out.atb.length; i++) out.atb[i] += p.atb[i];
    for (let i = 0; i < out.dtd.length; i++) out.dtd[i] += p.dtd[i];
    out.rejected.edge += p.rejected.edge;
    out.rejected.noFlux += p.rejected.noFlux;
    out.rejected.outlier += p.rejected.outlier;
  }
  return out;
}

/**
 * MERGE as a visit reducer: summaries keyed by detector, summed in ascending detector order whatever the arrival
 * order (a deterministic result); failed CCDs (`{ failed: true }`) are skipped.
 */
export function reducePsfSummaries(entries: ReadonlyArray<{ detector: number; summary: PsfSummary | { failed: true } }>): PsfSummary {
  const ok = entries.filter((e) => !('failed' in e.summary)).sort((a, b) => a.detector - b.detector);
  return mergePsfSummaries(ok.map((e) => e.summary as PsfSummary));
}
