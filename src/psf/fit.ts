/**
 * Quick mode's PSF stage for one CCD, built from the same ACCUMULATE / MERGE / SOLVE steps production runs over a
 * focal plane: select stars -> accumulate (flux = stamp sum) -> solve -> accumulate again with that prior (flux = PSF
 * fit, chi^2 outliers dropped) -> solve -> PSF photometry of every source -> residuals on the reserved stars.
 * With a single CCD the merge is the identity; production posts each pass's summary to a gather instead and
 * broadcasts the solved model (see reducePsfSummaries); there the geometry (psfGeometry) must be the same on every
 * CCD, e.g. from the median of the per-CCD FWHM estimates.
 * Default model width: 6 x the FWHM estimate 2 FLUX_RADIUS (which exceeds the FWHM of Moffat-like PSFs by ~20%),
 * i.e. about 5 FWHM; the flux beyond it (0.1-0.3% for Moffat beta 3.5-4 wings) is not in FLUX_PSF.
 */
import type { Catalog } from '../catalog/schema.js';
import type { Plane } from '../image/types.js';
import { accumulatePsf, STAR_USED, type PsfStarsInput, type PsfSummary } from './accumulate.js';
import { modelSize, type PsfGeometry, type PsfModel } from './model.js';
import { psfPhotometry, PSF_FLAG, type PsfColumns, type PsfPhotometryInput, type PsfPhotometryOptions } from './photometry.js';
import { ccdFrame, type PsfFrame } from './poly.js';
import { selectPsfStars, type StarSelection, type StarSelectOptions } from './select.js';
import { solvePsf } from './solve.js';
import { reserveResiduals, type ReserveResiduals } from './validate.js';

export interface PsfFitOptions {
  select?: StarSelectOptions;
  /** model samples per image pixel: 1 or 2 (default 1) */
  oversampling?: 1 | 2;
  /** model size in samples (odd; default sizeFactor x FWHM estimate) */
  size?: number;
  /** model width in units of the FWHM estimate (default 6) */
  sizeFactor?: number;
  /** maximum polynomial degree (default 3); the degree used is chosen from the number of stars */
  maxDegree?: number;
  /** force the polynomial degree */
  degree?: number;
  degreeThresholds?: readonly number[];
  /** see AccumulateOptions */
  accuracy?: number;
  maxChi2?: number;
  chi2Floor?: number;
  maxReplaced?: number;
  skyError?: number;
  /** fit passes with a prior model after the first (default 1) */
  refine?: number;
  /** frame of the polynomial (default: this CCD's X_IMAGE, Y_IMAGE) */
  frame?: PsfFrame;
  magZeropoint?: number;
  photometry?: PsfPhotometryOptions;
}

export interface CcdPsfInput {
  /** background-subtracted image */
  image: Plane;
  rms: Plane | number;
  gain: number;
  mask?: Uint8Array;
  segmentation?: Int32Array;
  /** measured catalog (XWIN_IMAGE, YWIN_IMAGE, FLAGS, SNR_WIN, ELONGATION, FLUX_RADIUS) */
  catalog: Catalog;
  /** frame position of every catalog row (default XWIN_IMAGE, YWIN_IMAGE) */
  fx?: ArrayLike<number>;
  fy?: ArrayLike<number>;
}

export type PsfCatalogColumns = PsfColumns & { PSF_STAR: Int32Array };

export interface CcdPsfResult {
  /** undefined when no model could be made (then `problem` says why and the columns are NaN / flagged) */
  model?: PsfModel;
  problem?: string;
  selection: StarSelection;
  columns: PsfCatalogColumns;
  reserve?: ReserveResiduals;
  /** summary of each pass */
  summaries: PsfSummary[];
  seconds: { select: number; model: number; photometry: number; validate: number };
}

/** Model geometry for a FWHM estimate and the fit options. */
export function psfGeometry(fwhm: number, frame: PsfFrame, opts: PsfFitOptions = {}): PsfGeometry {
  const step = 1 / (opts.oversampling ?? 1);
  const size = opts.size ?? modelSize(fwhm, step, opts.sizeFactor ?? 6);
  return { size, step, degree: opts.maxDegree ?? 3, frame };
}

/** Sub-arrays of a star list: 0-based centres and frame positions of catalog rows. */
export function starsOf(input: CcdPsfInput, rows: ArrayLike<number>): PsfStarsInput & PsfPhotometryInput {
  const xw = input.catalog.XWIN_IMAGE;
  const yw = input.catalog.YWIN_IMAGE;
  const fxAll = input.fx ?? xw;
  const fyAll = input.fy ?? yw;
  const n = rows.length;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const fx = new Float64Array(n);
  const fy = new Float64Array(n);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = rows[k];
    x[k] = xw[i] - 1;
    y[k] = yw[i] - 1;
    fx[k] = fxAll[i];
    fy[k] = fyAll[i];
    labels[k] = i + 1;
  }
  return { image: input.image, rms: input.rms, gain: input.gain, mask: input.mask, segmentation: input.segmentation, x, y, fx, fy, labels };
}

/** PSF columns of n rows when there is no model: NaN fluxes, MAG 99, FLAGS_PSF failed. */
export function failedColumns(n: number): PsfCatalogColumns {
  const f32 = () => new Float32Array(n).fill(NaN);
  const f64 = () => new Float64Array(n).fill(NaN);
  return {
    FLUX_PSF: f32(), FLUXERR_PSF: f32(), MAG_PSF: new Float32Array(n).fill(99), MAGERR_PSF: new Float32Array(n).fill(99),
    CHI2_PSF: f32(), SPREAD_MODEL: f32(), SPREADERR_MODEL: f32(), FWHMPSF_IMAGE: f32(),
    X2PSF_IMAGE: f64(), Y2PSF_IMAGE: f64(), XYPSF_IMAGE: f64(), FLAGS_PSF: new Int32Array(n).fill(PSF_FLAG.FAILED), PSF_STAR: new Int32Array(n),
  };
}

/** Fit the PSF of one CCD and measure every source of its catalog with it. */
export function fitPsfCcd(input: CcdPsfInput, opts: PsfFitOptions = {}): CcdPsfResult {
  const t0 = performance.now();
  const { width, height } = input.image;
  const nrows = input.catalog.XWIN_IMAGE.length;
  const sel = selectPsfStars(input.catalog, width, height, opts.select);
  const t1 = performance.now();
  const seconds = { select: (t1 - t0) / 1000, model: 0, photometry: 0, validate: 0 };
  const fail = (problem: string): CcdPsfResult => ({ problem, selection: sel, columns: failedColumns(nrows), summaries: [], seconds });
  if (sel.stars.length === 0) return fail(`no PSF stars (${sel.counts.bright} bright, ${sel.counts.locus} on the stellar locus, ${sel.counts.isolated} isolated)`);
  const frame = opts.frame ?? ccdFrame(width, height);
  const geometry = psfGeometry(sel.fwhm, frame, opts);
  const stars = starsOf(input, sel.stars);
  const summaries: PsfSummary[] = [];
  let model: PsfModel | undefined;
  let status: Uint8Array = new Uint8Array(0);
  const passes = 1 + (opts.refine ?? 1);
  try {
    for (let pass = 0; pass < passes; pass++) {
      const acc = accumulatePsf(geometry, stars, { prior: model, accuracy: opts.accuracy, maxChi2: opts.maxChi2, chi2Floor: opts.chi2Floor, maxReplaced: opts.maxReplaced, skyError: opts.skyError });
      summaries.push(acc.summary);
      status = acc.status;
      model = solvePsf(acc.summary, { degree: opts.degree, degreeThresholds: opts.degreeThresholds });
    }
  } catch (e) {
    if (e instanceof RangeError) return fail(e.message);
    throw e;
  }
  if (!model) return fail('no PSF model');
  const t2 = performance.now();
  seconds.model = (t2 - t1) / 1000;
  const all = starsOf(input, Int32Array.from({ length: nrows }, (_, i) => i));
  const cols = psfPhotometry(model, all, { magZeropoint: opts.magZeropoint, ...opts.photometry });
  const psfStar = new Int32Array(nrows);
  sel.stars.forEach((i, k) => (psfStar[i] = status[k] === STAR_USED ? 1 : 4));
  for (const i of sel.reserved) psfStar[i] = 2;
  const t3 = performance.now();
  seconds.photometry = (t3 - t2) / 1000;
  const reserve = sel.reserved.length > 0 ? reserveResiduals(model, starsOf(input, sel.reserved)) : undefined;
  seconds.validate = (performance.now() - t3) / 1000;
  return { model, selection: sel, columns: { ...cols, PSF_STAR: psfStar }, reserve, summaries, seconds };
}
