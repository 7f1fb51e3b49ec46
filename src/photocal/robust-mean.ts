/**
 * A sigma-clipped weighted mean written as ACCUMULATE -> MERGE -> SOLVE, for per-star estimates of one number
 * (a zero point, an aperture correction) spread over many CCDs. Values v_i have weights w_i = 1 / sigma_i^2.
 *  - accumulateMean(): a fixed-bin histogram of the values (for the median that starts the iteration), a
 *    log-binned histogram of the normalised residuals chi_i = |v_i - centre| sqrt(w_i) about the round's centre
 *    (for a robust scale), and weighted sums over the values with chi_i <= clip;
 *  - mergeMeans(): plain sums, in id order (deterministic);
 *  - solveMean(): the weighted mean of the values kept, its uncertainty, and the next round's window: centred on
 *    that mean, clipping at clipSigma x max(1, s) where s = median(chi) / 0.6745 is the robust scale of the
 *    normalised residuals (never tighter than clipSigma modelled sigmas).
 * Round 0 has no window (median only); round 1 measures the scale about the median with no clipping; meanRounds()
 * iterates until the set kept no longer changes.
 */

/** Histogram range and bin width of the values. */
export interface HistSpec {
  lo: number;
  hi: number;
  bin: number;
}

/** The window of a round (undefined in round 0): centre and clip threshold on the normalised residual. */
export interface MeanWindow {
  centre: number;
  clip: number;
}

export interface MeanAccum {
  id: number;
  spec: HistSpec;
  /** counts of the values per bin; values outside [lo, hi) go to the first / last bin */
  hist: Float64Array;
  /** counts of the normalised residuals about window.centre (CHI_* log bins); empty in round 0 */
  chiHist: Float64Array;
  /** finite values seen */
  nAll: number;
  window?: MeanWindow;
  /** kept: count, sum w, sum w d, sum w d^2 with d = value - centre */
  n: number;
  sw: number;
  swd: number;
  swd2: number;
}

const CHI_LO = -4;
const CHI_PER_DECADE = 40;
const CHI_BINS = 7 * CHI_PER_DECADE + 2;

function chiBin(chi: number): number {
  if (!(chi > 0)) return 0;
  const b = Math.floor((Math.log10(chi) - CHI_LO) * CHI_PER_DECADE) + 1;
  return b < 1 ? 0 : b > CHI_BINS - 2 ? CHI_BINS - 1 : b;
}

function binCount(spec: HistSpec): number {
  return Math.max(1, Math.ceil((spec.hi - spec.lo) / spec.bin));
}

/** Accumulate values with weights (1 / sigma^2) for a round; `window` undefined in round 0. */
export function accumulateMean(values: ArrayLike<number>, weights: ArrayLike<number>, spec: HistSpec, window?: MeanWindow, id = 0): MeanAccum {
  const nb = binCount(spec);
  const hist = new Float64Array(nb);
  const chiHist = new Float64Array(window ? CHI_BINS : 0);
  let nAll = 0;
  let n = 0;
  let sw = 0;
  let swd = 0;
  let swd2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const w = weights[i];
    if (!(Number.isFinite(v) && w > 0 && Number.isFinite(w))) continue;
    nAll++;
    const b = Math.floor((v - spec.lo) / spec.bin);
    hist[b < 0 ? 0 : b >= nb ? nb - 1 : b]++;
    if (!window) continue;
    const d = v - window.centre;
    const chi = Math.abs(d) * Math.sqrt(w);
    chiHist[chiBin(chi)]++;
    if (!(chi <= window.clip)) continue;
    n++;
    sw += w;
    swd += w * d;
    swd2 += w * d * d;
  }
  return { id, spec, hist, chiHist, nAll, window, n, sw, swd, swd2 };
}

/** Sum accumulations of one round (same spec and window), in increasing id order. */
export function mergeMeans(parts: readonly MeanAccum[]): MeanAccum {
  if (parts.length === 0) throw new RangeError('mergeMeans: no parts');
  const order = parts.map((p, i) => ({ p, i })).sort((a, b) => a.p.id - b.p.id || a.i - b.i);
  const f = order[0].p;
  const out: MeanAccum = { id: f.id, spec: f.spec, hist: new Float64Array(f.hist.length), chiHist: new Float64Array(f.chiHist.length), nAll: 0, window: f.window, n: 0, sw: 0, swd: 0, swd2: 0 };
  for (const { p } of order) {
    if (p.hist.length !== out.hist.length || p.spec.lo !== f.spec.lo || p.spec.bin !== f.spec.bin) throw new RangeError('mergeMeans: parts use different histograms');
    if (p.window?.centre !== f.window?.centre || p.window?.clip !== f.window?.clip) throw new RangeError('mergeMeans: parts of different rounds');
    for (let k = 0; k < p.hist.length; k++) out.hist[k] += p.hist[k];
    for (let k = 0; k < p.chiHist.length; k++) out.chiHist[k] += p.chiHist[k];
    out.nAll += p.nAll;
    out.n += p.n;
    out.sw += p.sw;
    out.swd += p.swd;
    out.swd2 += p.swd2;
  }
  return out;
}

/** Median of the histogrammed values (linear within the bin); NaN when empty. */
export function histogramMedian(acc: MeanAccum): number {
  const half = acc.nAll / 2;
  if (!(half > 0)) return NaN;
  let cum = 0;
  for (let k = 0; k < acc.hist.length; k++) {
    const h = acc.hist[k];
    if (cum + h >= half) return acc.spec.lo + (k + (h > 0 ? (half - cum) / h : 0.5)) * acc.spec.bin;
    cum += h;
  }
  return NaN;
}

/** Median absolute deviation of the histogrammed values about `c` (bin resolution; at least half a bin). */
export function histogramMad(acc: MeanAccum, c: number): number {
  const half = acc.nAll / 2;
  if (!(half > 0)) return NaN;
  const { lo, bin } = acc.spec;
  // walk bins in order of |centre - c|
  let left = Math.floor((c - lo) / bin);
  let right = left + 1;
  let cum = 0;
  const nb = acc.hist.length;
  for (;;) {
    const dl = left >= 0 && left < nb ? Math.abs(lo + (left + 0.5) * bin - c) : Infinity;
    const dr = right >= 0 && right < nb ? Math.abs(lo + (right + 0.5) * bin - c) : Infinity;
    if (dl === Infinity && dr === Infinity) return NaN;
    const k = dl <= dr ? left-- : right++;
    const h = acc.hist[k];
    if (cum + h >= half) return Math.max(Math.min(dl, dr), bin / 2);
    cum += h;
  }
}

/** Robust scale of the normalised residuals: median(chi) / 0.6745 (log-interpolated in the bin); NaN when empty. */
export function chiScale(acc: MeanAccum): number {
  let total = 0;
  for (let k = 0; k < acc.chiHist.length; k++) total += acc.chiHist[k];
  if (total === 0) return NaN;
  const half = total / 2;
  let cum = 0;
  for (let k = 0; k < acc.chiHist.length; k++) {
    const h = acc.chiHist[k];
    if (cum + h >= half) {
      const f = h > 0 ? (half - cum) / h : 0.5;
      const med = k === 0 ? 10 ** CHI_LO : 10 ** (CHI_LO + (Math.min(k, CHI_BINS - 2) - 1 + f) / CHI_PER_DECADE);
      return med / 0.6745;
    }
    cum += h;
  }
  return NaN;
}

export interface MeanSolution {
  /** weighted mean of the values kept (NaN before round 2 or with none kept) */
  mean: number;
  /** its 1-sigma uncertainty: sqrt(1 / sum w), scaled up by sqrt(reduced chi^2) when that exceeds 1 */
  error: number;
  /** weighted rms scatter of the values kept */
  scatter: number;
  /** robust scale of the normalised residuals (NaN in round 0) */
  chiScale: number;
  n: number;
  nAll: number;
  /** the window of the next round */
  next: MeanWindow;
}

/** Solve a (merged) accumulation; `clipSigma` sets the next round's clip. */
export function solveMean(acc: MeanAccum, clipSigma = 3): MeanSolution {
  let mean = NaN;
  let error = NaN;
  let scatter = NaN;
  const clipped = acc.window !== undefined && Number.isFinite(acc.window.clip);
  if (clipped && acc.n > 0 && acc.sw > 0) {
    const dm = acc.swd / acc.sw;
    mean = acc.window!.centre + dm;
    const chi2 = Math.max(0, acc.swd2 - acc.sw * dm * dm);
    scatter = Math.sqrt(chi2 / acc.sw);
    const red = acc.n > 1 ? chi2 / (acc.n - 1) : 1;
    error = Math.sqrt(Math.max(1, red) / acc.sw);
  }
  const s = acc.window ? chiScale(acc) : NaN;
  // round 0: start at the median; round 1 (no clip yet): keep the median, set the clip from the scale about it
  const centre = !acc.window ? histogramMedian(acc) : clipped && Number.isFinite(mean) ? mean : acc.window.centre;
  const clip = !acc.window ? Infinity : clipSigma * (Number.isFinite(s) ? Math.max(1, s) : 1);
  return { mean, error, scatter, chiScale: s, n: acc.n, nAll: acc.nAll, next: { centre, clip } };
}

export interface MeanRoundsResult extends MeanSolution {
  rounds: number;
  converged: boolean;
}

/**
 * Iterate rounds: `accumulate(window)` is the caller's (one part in quick mode, the merge of every CCD's part in
 * production). Stops when the set kept repeats (same n and sum of weights), or after maxRounds.
 */
export function meanRounds(accumulate: (window: MeanWindow | undefined) => MeanAccum, opts: { clipSigma?: number; maxRounds?: number } = {}): MeanRoundsResult {
  const maxRounds = opts.maxRounds ?? 20;
  let window: MeanWindow | undefined;
  let prev: MeanAccum | undefined;
  let sol: MeanSolution | undefined;
  for (let round = 0; round <= maxRounds; round++) {
    const acc = accumulate(window);
    sol = solveMean(acc, opts.clipSigma);
    const clipped = acc.window !== undefined && Number.isFinite(acc.window.clip);
    if (clipped && prev && prev.n === acc.n && prev.sw === acc.sw) return { ...sol, rounds: round, converged: true };
    if (clipped) prev = acc;
    window = sol.next;
  }
  return { ...sol!, rounds: maxRounds, converged: false };
}
