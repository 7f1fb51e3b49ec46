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

/** Prefix sums of the counts, counts x bin and counts x bin^2 (grown on demand; exact integers in float64). */
let p0 = new Float64Array(0);
let p1 = new Float64Array(0);
let p2 = new Float64Array(0);

/**
 * Fill p0/p1/p2 for bins 0..nbins-1 (pk[i] = sum over bins below i). Returns false when a count is negative or
 * fractional or the sums could exceed 2^53, i.e. when partial sums would not be exact (then the caller loops).
 */
function prefixSums(histo: ArrayLike<number>, nbins: number): boolean {
  if (p0.length < nbins + 1) {
    p0 = new Float64Array(nbins + 1);
    p1 = new Float64Array(nbins + 1);
    p2 = new Float64Array(nbins + 1);
  }
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  if (histo instanceof Int32Array) {
    // integer counts (meshStatistics' histograms): only the sign needs checking
    let neg = 0;
    for (let i = 0; i < nbins; i++) {
      const c = histo[i];
      neg |= c;
      s0 += c;
      s1 += c * i;
      s2 += c * i * i;
      p0[i + 1] = s0;
      p1[i + 1] = s1;
      p2[i + 1] = s2;
    }
    return neg >= 0 && s2 < 2 ** 53;
  }
  for (let i = 0; i < nbins; i++) {
    const c = histo[i];
    if (!(c >= 0 && c === Math.floor(c))) return false;
    s0 += c;
    s1 += c * i;
    s2 += c * i * i;
    p0[i + 1] = s0;
    p1[i + 1] = s1;
    p2[i + 1] = s2;
  }
  return s2 < 2 ** 53;
}

/**
 * Mode and sigma of a mesh from its histogram (SExtractor's backguess). Writes [mode, sigma] to `out`
 * (float32-rounded, as SExtractor stores them). `histo` must hold at least layout.nlevels bins.
 *
 * Each clipping iteration needs the count, first and second moments of the bins in [lcut, hcut] and the median
 * split found by two cursors walking in from both ends, always feeding the lighter side. With non-negative
 * integer counts these come from prefix sums (exact, so identical to summing bin by bin) and the cursor walk is
 * a merge of two non-decreasing sequences, whose end point a binary search finds: O(nlevels) per mesh instead
 * of O(nlevels) per iteration. Other inputs take the bin-by-bin loop.
 */
export function histogramMode(histo: ArrayLike<number>, layout: HistogramLayout, out: Float64Array): void {
  const top = layout.nlevels - 1;
  const exact = prefixSums(histo, layout.nlevels);
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
    // `hi` ends on the top bin of the lower half, `lo` = hi + 1 on the bottom bin of the upper half.
    let lowsum = 0;
    let highsum = 0;
    let lo = lcut;
    let hi = hcut;
    if (exact) {
      if (hcut >= lcut) {
        const a = lcut;
        const b = hcut + 1;
        sum = p0[b] - p0[a];
        mea = p1[b] - p1[a];
        sig = p2[b] - p2[a];
        const j = mergeSplit(a, b);
        lo = a + j;
        hi = hcut - (b - a - j);
        lowsum = p0[lo] - p0[a];
        highsum = p0[b] - p0[hi + 1];
      }
    } else {
      for (let i = lcut; i <= hcut; i++) {
        if (lowsum < highsum) lowsum += histo[lo++];
        else highsum += histo[hi--];
        const c = histo[i];
        sum += c;
        mea += c * i;
        sig += c * i * i;
      }
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

/**
 * Bins taken from the low end by the two-cursor walk over bins [a, b) (n = b - a steps; the low cursor advances
 * when the low sum L(j) is below the high sum H(k), else the high one). Both sums are non-decreasing, so the walk
 * is a merge (ties to the high side) and takes the largest j with j = 0 or L(j - 1) < H(n - j).
 */
function mergeSplit(a: number, b: number): number {
  const n = b - a;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const j = (lo + hi + 1) >> 1;
    // L(j - 1) = sum of bins a .. a + j - 2; H(n - j) = sum of bins a + j .. b - 1
    if (p0[a + j - 1] - p0[a] < p0[b] - p0[a + j]) lo = j;
    else hi = j - 1;
  }
  return lo;
}
