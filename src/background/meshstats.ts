/**
 * Per-mesh background statistics, as SExtractor 2.25 computes them (back.c: backstat/backhisto/backguess).
 *
 * The image is cut into meshes of bw x bh pixels from its bottom-left corner; the last column/row of
 * meshes is narrower/shorter when the image size is not a multiple of the mesh size (they keep their
 * own pixel count; the spline later still places their node at a full-mesh centre). For each mesh:
 *  1. mean and sigma of the usable pixels (not masked, not NaN, variance below the weight threshold);
 *     a mesh with fewer than half of its pixels usable is bad (NaN here, interpolated later);
 *  2. mean and sigma again within mean +- 2 sigma;
 *  3. a histogram of those pixels, from which mode.ts estimates the mode and sigma.
 * Like SExtractor, when a full row of meshes exceeds 2^20 pixels, steps 1-2 use a subsample of evenly
 * spaced lines (the histogram still uses every line).
 * With a weight map the same statistics are made of the per-pixel variance (weight-map background).
 */
import type { Plane } from '../image/types.js';
import { histogramLayout, histogramMode, binOffset, QUANTIF_NMAXLEVELS, type HistogramLayout } from './mode.js';
import { BIG, resolveOptions, varianceThreshold, type BackgroundInputs, type BackgroundOptions } from './options.js';

/** Raw (unfiltered) mesh statistics. Bad meshes hold NaN. Index k = my * nx + mx. */
export interface MeshStatistics {
  readonly width: number;
  readonly height: number;
  /** mesh size in pixels (the last column/row of meshes may be smaller) */
  readonly bw: number;
  readonly bh: number;
  readonly nx: number;
  readonly ny: number;
  /** background level (mode estimate) per mesh */
  readonly level: Float32Array;
  /** background noise (clipped sigma) per mesh */
  readonly sigma: Float32Array;
  /** number of pixels that entered the histogram (0 for bad meshes) */
  readonly npix: Int32Array;
  /** with a weight map: level and sigma of the per-pixel variance in each mesh */
  readonly varianceLevel?: Float32Array;
  readonly varianceSigma?: Float32Array;
}

/** Line-buffer size above which SExtractor subsamples lines for the first statistics (BACK_BUFSIZE). */
const BACK_BUFSIZE = 1048576;
/** Minimum fraction of usable pixels for a mesh to be good (BACK_MINGOODFRAC). */
const BACK_MINGOODFRAC = 0.5;

const W_NONE = 0;
const W_WEIGHT = 1;
const W_VAR = 2;
const W_RMS = 3;

/** Per-pixel variance from a weight-map value (SExtractor's weight_to_var with a unit scale factor). */
function toVariance(w: number, kind: number): number {
  if (kind === W_WEIGHT) return w > 0 ? Math.fround(1 / w) : BIG;
  if (kind === W_VAR) return w;
  return w < BIG ? Math.fround(w * w) : w;
}

interface Moments {
  n: number;
  mean: number;
  sigma: number;
}

function moments(s: number, s2: number, n: number): Moments {
  const mean = s / n;
  const v = s2 / n - mean * mean;
  return { n, mean, sigma: v > 0 ? Math.sqrt(v) : 0 };
}

/**
 * Compute the raw per-mesh background level and noise of an image (no filtering, no interpolation).
 * Separate from the interpolation so that mesh grids can be merged or inspected (production mode).
 */
export function meshStatistics(image: Plane, options: Partial<BackgroundOptions> = {}, inputs: BackgroundInputs = {}): MeshStatistics {
  const { width, height, data } = image;
  const { bw, bh } = resolveOptions(width, height, options);
  const nx = Math.ceil(width / bw);
  const ny = Math.ceil(height / bh);
  for (const aux of [inputs.weight, inputs.mask])
    if (aux && (aux.width !== width || aux.height !== height))
      throw new RangeError(`weight/mask is ${aux.width}x${aux.height}, image is ${width}x${height}`);
  const mask = inputs.mask?.data;
  const wdata = inputs.weight?.data;
  const wtype = inputs.weightType ?? 'weight';
  const wkind = !wdata ? W_NONE : wtype === 'weight' ? W_WEIGHT : wtype === 'variance' ? W_VAR : W_RMS;
  const wthresh = varianceThreshold(wtype, inputs.weightThresh);

  const nb = nx * ny;
  const level = new Float32Array(nb).fill(NaN);
  const sigma = new Float32Array(nb).fill(NaN);
  const npix = new Int32Array(nb);
  const vlevel = wdata ? new Float32Array(nb).fill(NaN) : undefined;
  const vsigma = wdata ? new Float32Array(nb).fill(NaN) : undefined;
  const histo = new Int32Array(QUANTIF_NMAXLEVELS);
  const whisto = new Int32Array(QUANTIF_NMAXLEVELS);
  const res = new Float64Array(2);
  const sums = new Float64Array(3);
  // no mask, no weights: the first two passes take a loop without per-pixel tests on them
  const plain = !mask && wkind === W_NONE;

  for (let my = 0; my < ny; my++) {
    const y0 = my * bh;
    const rows = Math.min(bh, height - y0);
    // Lines used for the mean/sigma passes (all of them unless a mesh row is too large).
    let sFirst = y0;
    let sStep = 1;
    let sCount = rows;
    if (width * bh > BACK_BUFSIZE) {
      const nl = Math.max(1, Math.floor(BACK_BUFSIZE / width));
      sStep = Math.floor((rows - 1) / nl) + 1;
      sCount = Math.floor(rows / sStep);
      sFirst = y0 + Math.floor(sStep / 2);
    }
    for (let mx = 0; mx < nx; mx++) {
      const x0 = mx * bw;
      const x1 = Math.min(x0 + bw, width);
      const k = my * nx + mx;

      // Pass 1: plain moments of the usable pixels.
      let s = 0, s2 = 0, n = 0, ws = 0, ws2 = 0;
      if (plain) {
        plainMoments(data, width, x0, x1, sFirst, sStep, sCount, -BIG, BIG, false, sums);
        s = sums[0];
        s2 = sums[1];
        n = sums[2];
      } else {
        for (let r = 0; r < sCount; r++) {
          const row = (sFirst + r * sStep) * width;
          for (let i = row + x0; i < row + x1; i++) {
            if (mask && mask[i] !== 0) continue;
            const p = data[i];
            if (!(p > -BIG && p < BIG)) continue; // NaN, +-Inf and SExtractor's -BIG flag are unusable
            if (wkind !== W_NONE) {
              const v = toVariance(wdata![i], wkind);
              if (!(v < wthresh)) continue;
              ws += v;
              ws2 += v * v;
            }
            s += p;
            s2 += p * p;
            n++;
          }
        }
      }
      if (n < (x1 - x0) * sCount * BACK_MINGOODFRAC) continue; // bad mesh: stays NaN
      const m1 = moments(s, s2, n);
      const lcut = Math.fround(m1.mean - 2 * m1.sigma);
      const hcut = Math.fround(m1.mean + 2 * m1.sigma);
      const w1 = moments(ws, ws2, n);
      const wlcut = Math.fround(w1.mean - 2 * w1.sigma);
      const whcut = Math.fround(w1.mean + 2 * w1.sigma);

      // Pass 2: moments within mean +- 2 sigma (variance: within its own +- 2 sigma as well).
      s = s2 = ws = ws2 = 0;
      n = 0;
      let wn = 0;
      if (plain) {
        plainMoments(data, width, x0, x1, sFirst, sStep, sCount, lcut, hcut, true, sums);
        s = sums[0];
        s2 = sums[1];
        n = sums[2];
      } else {
        for (let r = 0; r < sCount; r++) {
          const row = (sFirst + r * sStep) * width;
          for (let i = row + x0; i < row + x1; i++) {
            if (mask && mask[i] !== 0) continue;
            const p = data[i];
            if (!(p <= hcut && p >= lcut)) continue;
            if (wkind !== W_NONE) {
              const v = toVariance(wdata![i], wkind);
              if (!(v < wthresh)) continue;
              if (v <= whcut && v >= wlcut) {
                ws += v;
                ws2 += v * v;
                wn++;
              }
            }
            s += p;
            s2 += p * p;
            n++;
          }
        }
      }
      const m2 = moments(s, s2, n);
      const lay = histogramLayout(n, m2.mean, m2.sigma);
      const w2 = moments(ws, ws2, wn);
      const wlay = wkind !== W_NONE ? histogramLayout(wn, w2.mean, w2.sigma) : lay;

      // Pass 3: histogram(s) over every line of the mesh.
      fillHistograms(data, mask, wdata, wkind, wthresh, width, x0, x1, y0, rows, lay, wlay, histo, whisto);
      histogramMode(histo, lay, res);
      level[k] = res[0];
      sigma[k] = res[1];
      npix[k] = n;
      if (vlevel && vsigma) {
        histogramMode(whisto, wlay, res);
        vlevel[k] = res[0];
        vsigma[k] = res[1];
      }
    }
  }
  return { width, height, bw, bh, nx, ny, level, sigma, npix, varianceLevel: vlevel, varianceSigma: vsigma };
}

/**
 * Sum, sum of squares and count of the pixels of rows first, first + step, ... (count rows) between x0 and x1
 * that lie strictly between lo and hi (inclusive: within [lo, hi]), into out[0..2]. No mask, no weights: the
 * common case, kept free of per-pixel tests on them; same summation order as the general loops.
 */
function plainMoments(
  data: Float32Array,
  width: number,
  x0: number,
  x1: number,
  first: number,
  step: number,
  count: number,
  lo: number,
  hi: number,
  inclusive: boolean,
  out: Float64Array,
): void {
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let r = 0; r < count; r++) {
    const row = (first + r * step) * width;
    const end = row + x1;
    if (inclusive)
      for (let i = row + x0; i < end; i++) {
        const p = data[i];
        if (p <= hi && p >= lo) {
          s += p;
          s2 += p * p;
          n++;
        }
      }
    else
      for (let i = row + x0; i < end; i++) {
        const p = data[i];
        if (p > lo && p < hi) {
          s += p;
          s2 += p * p;
          n++;
        }
      }
  }
  out[0] = s;
  out[1] = s2;
  out[2] = n;
}

/** Bin the pixels of one mesh (and their variances) into zeroed histograms, with SExtractor's float32 binning. */
function fillHistograms(
  data: Float32Array,
  mask: ArrayLike<number> | undefined,
  wdata: Float32Array | undefined,
  wkind: number,
  wthresh: number,
  width: number,
  x0: number,
  x1: number,
  y0: number,
  rows: number,
  lay: HistogramLayout,
  wlay: HistogramLayout,
  histo: Int32Array,
  whisto: Int32Array,
): void {
  const nl = lay.nlevels;
  const qs = lay.qscale;
  const off = binOffset(lay);
  histo.fill(0, 0, nl);
  const wnl = wlay.nlevels;
  const wqs = wlay.qscale;
  const woff = binOffset(wlay);
  if (wkind !== W_NONE) whisto.fill(0, 0, wnl);
  if (!mask && wkind === W_NONE) {
    for (let y = y0; y < y0 + rows; y++) {
      const end = y * width + x1;
      for (let i = y * width + x0; i < end; i++) {
        const t = Math.fround(Math.fround(data[i] / qs) + off);
        if (t > -1 && t < nl) histo[t | 0]++;
      }
    }
    return;
  }
  for (let y = y0; y < y0 + rows; y++) {
    const row = y * width;
    for (let i = row + x0; i < row + x1; i++) {
      if (mask && mask[i] !== 0) continue;
      const t = Math.fround(Math.fround(data[i] / qs) + off);
      if (wkind === W_NONE) {
        if (t > -1 && t < nl) histo[t | 0]++;
        continue;
      }
      const v = toVariance(wdata![i], wkind);
      if (!(v < wthresh && t > -1 && t < nl)) continue;
      histo[t | 0]++;
      const wt = Math.fround(Math.fround(v / wqs) + woff);
      if (wt > -1 && wt < wnl) whisto[wt | 0]++;
    }
  }
}
