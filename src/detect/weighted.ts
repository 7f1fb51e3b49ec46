/**
 * Detection thresholds with a weight map, as SExtractor 2.25: the detection variance map (RMS^2) is filtered with
 * the same normalised kernel as the image (pixels outside the image count as 0, so the variance, hence the
 * threshold, drops near the edges: by sqrt(12/16) along the edges and sqrt(9/16) in the corners for the default
 * 3x3 mask), and pixel p is detected when filtered(p) > thresh * sqrt(filteredVariance(p)). Pixels of unusable
 * RMS (non-positive, NaN or infinite: zero weight) get SExtractor's "infinite" variance BIG = 1e30, which also
 * keeps their neighbours within the kernel from detecting, and never detect themselves.
 */
import { convolve, type Kernel } from './filter.js';

const BIG = 1e30;

/**
 * Per-pixel absolute detection thresholds, float32 (as a scalar threshold is): with a kernel, SExtractor's
 * thresh * sqrt(variance filtered by `kernel`); without, thresh * rms(p). Infinity where the (filtered) variance is
 * not positive or the pixel's own RMS is unusable.
 */
export function weightedThresholds(rms: Float32Array, width: number, height: number, thresh: number, kernel: Kernel | null): Float32Array {
  const n = width * height;
  const out = new Float32Array(n);
  if (!kernel) {
    for (let p = 0; p < n; p++) {
      const r = rms[p];
      out[p] = r > 0 && r < Infinity ? thresh * r : Infinity;
    }
    return out;
  }
  for (let p = 0; p < n; p++) {
    const r = rms[p];
    out[p] = r > 0 && r < Infinity ? r * r : BIG;
  }
  const fvar = convolve(out, width, height, kernel);
  const t = Math.fround(thresh);
  for (let p = 0; p < n; p++) {
    const v = fvar[p];
    const r = rms[p];
    out[p] = v > 0 && v < BIG && r > 0 && r < Infinity ? t * Math.sqrt(v) : Infinity;
  }
  return out;
}
