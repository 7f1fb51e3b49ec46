/**
 * SExtractor's per-mesh background estimator, working on a histogram of the mesh pixels
 * (Bertin & Arnouts 1996, section 3.1; SExtractor 2.25 numerics).
 *
 * After a first clipping at mean +- 2 sigma (done by the caller), the clipped pixels are binned in
 * `nlevels` bins of width `qscale` covering mean +- 5 sigma. The estimator then iterates a clipping at
 * median +- 3 sigma in histogram space (median interpolated inside its bin) until sigma changes by
 * less than 1e-4 (relative), falls below 0.1 bin, or 100 iterations. The result is
 * 2.5 median - 1.5 mean when |mean - median| < 0.3 sigma (a crowded-field mode estimate), else the median.
 */

/** Histogram limits: +- QUANTIF_NSIGMA sigma around the clipped mean. */
export const QUANTIF_NSIGMA = 5;
/** Maximum number of histogram bins. */
export const QUANTIF_NMAXLEVELS = 4096;
/** Minimum mean number of pixels per bin near the mode. */
export const QUANTIF_AMIN = 4;
/** Bins per pixel: nlevels = floor(QUANTIF_STEP * npix + 1), capped at QUANTIF_NMAXLEVELS. */
export const QUANTIF_STEP = (Math.sqrt(2 / 3.1415926535898) * QUANTIF_NSIGMA) / QUANTIF_AMIN;

/** Histogram layout of one mesh, from its 2-sigma-clipped mean and standard deviation (float32 like SExtractor). */
export interface HistogramLayout {
  /** number of bins */
  readonly nlevels: number;
  /** value at the centre of bin 0 */
  readonly qzero: number;
  /** bin width */
  readonly qscale: number;
  /** clipped mean and sigma the layout was made from */
  readonly mean: number;
  readonly sigma: number;
}

/** Histogram layout for npix clipped pixels of the given mean and sigma. */
export function histogramLayout(npix: number, mean: number, sigma: number): HistogramLayout {
  const nlevels = Math.min(Math.floor(QUANTIF_STEP * npix + 1), QUANTIF_NMAXLEVELS);
  return {
    nlevels,
    qscale: Math.fround(sigma > 0 ? (2 * QUANTIF_NSIGMA * sigma) / nlevels : 1),
    qzero: Math.fround(mean - QUANTIF_NSIGMA * sigma),
    mean: Math.fround(mean),
    sigma: Math.fround(sigma),
  };
}

/**
 * Offset added before truncating (value / qscale) to a bin index, in float32 as SExtractor does.
 * A pixel v goes to bin trunc(fround(fround(v / qscale) + offset)) when that lies in [0, nlevels)
 * (truncation toward zero: bin 0 also receives values up to 1.5 bins below its centre).
 */
export function binOffset(layout: HistogramLayout): number {
  return Math.fround(0.499999 - Math.fround(layout.qzero / layout.qscale));
}

/** Convergence tolerance on the relative change of sigma. */
const EPS = 1e-4;

/**
 * Mode and sigma of a mesh from its histogram (SExtractor's backguess). Writes [mode, sigma] to `out`
 * (float32-rounded, as SExtractor stores them). `histo` must hold at least layout.nlevels bins.
 */
export function histogramMode(histo: ArrayLike<number>, layout: HistogramLayout, out: Float64Array): void {
  const top = layout.nlevels - 1;
  let lcut = 0;
  let hcut = top;
  let sig = 10 * top;
  let sig1 = 1;
  let mea = layout.mean;
  let med = layout.mean;
  for (let n = 100; n > 0 && sig >= 0.1 && Math.abs(sig / sig1 - 1) > EPS; n--) {
    sig1 = sig;
    let sum = 0;
    mea = 0;
    sig = 0;
    // Two cursors walk in from both ends, always feeding the lighter side, until they meet:
    // `hi` ends on the top bin of the lower half, `lo` = hi + 1 on the bottom bin of the upper half.
    let lowsum = 0;
    let highsum = 0;
    let lo = lcut;
    let hi = hcut;
    for (let i = lcut; i <= hcut; i++) {
      if (lowsum < highsum) lowsum += histo[lo++];
      else highsum += histo[hi--];
      const c = histo[i];
      sum += c;
      mea += c * i;
      sig += c * i * i;
    }
    if (hi >= 0) {
      const a = histo[hi];
      const b = lo <= top ? histo[lo] : 0;
      const peak = a > b ? a : b;
      // SExtractor divides by zero here when both bins are empty; we take the bin edge instead.
      med = hi + 0.5 + (peak > 0 ? (highsum - lowsum) / (2 * peak) : 0);
    } else med = 0;
    if (sum) {
      mea /= sum;
      sig = sig / sum - mea * mea;
    }
    sig = sig > 0 ? Math.sqrt(sig) : 0;
    const l = med - 3 * sig;
    const h = med + 3 * sig;
    lcut = l > 0 ? Math.trunc(l + 0.5) : 0;
    hcut = h < top ? Math.trunc(h > 0 ? h + 0.5 : h - 0.5) : top;
  }
  const { qzero, qscale } = layout;
  let mode: number;
  if (Math.abs(sig) > 0) {
    if (Math.abs((mea - med) / sig) < 0.3) mode = qzero + (2.5 * med - 1.5 * mea) * qscale;
    else mode = qzero + med * qscale;
  } else mode = qzero + mea * qscale;
  out[0] = Math.fround(mode);
  out[1] = Math.fround(sig * qscale);
}
