/**
 * Lanczos-3 interpolation for the PSF: shifting star stamps onto the model grid and the model onto image pixels.
 *
 * The kernel is L(t) = sinc(t) sinc(t / 3) for |t| < 3 (0 outside); the six weights of one interpolation are
 * renormalised to unit sum so that a constant is reproduced exactly and flux is preserved. Interpolation is
 * separable: `Resampler.resample` samples a source grid on a regular (x0 + i dx, y0 + j dy) lattice with one
 * horizontal pass over the source rows it needs and one vertical pass, reusing its buffers (no per-call allocation
 * once they have grown).
 */

/** Half-width of the Lanczos-3 kernel (taps on each side). */
export const LANCZOS_ORDER = 3;
const TAPS = 2 * LANCZOS_ORDER;

/** The Lanczos-3 kernel at t. */
export function lanczos3(t: number): number {
  if (t === 0) return 1;
  if (t <= -LANCZOS_ORDER || t >= LANCZOS_ORDER) return 0;
  const pt = Math.PI * t;
  return (LANCZOS_ORDER * Math.sin(pt) * Math.sin(pt / LANCZOS_ORDER)) / (pt * pt);
}

/**
 * Weights of the six samples around position t (sample coordinates: sample k sits at t = k), written to
 * out[o .. o + 6), normalised to unit sum. Returns the index of the first of the six samples, floor(t) - 2.
 */
export function lanczosWeights(t: number, out: Float64Array, o = 0): number {
  const i0 = Math.floor(t);
  const f = t - i0;
  let s = 0;
  for (let k = 0; k < TAPS; k++) {
    const w = lanczos3(f - (k - (LANCZOS_ORDER - 1)));
    out[o + k] = w;
    s += w;
  }
  const inv = 1 / s;
  for (let k = 0; k < TAPS; k++) out[o + k] *= inv;
  return i0 - (LANCZOS_ORDER - 1);
}

/** A source grid (row-major, data[y * width + x]). */
export interface Grid {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/**
 * Result of one resampling: taps with non-zero weight that fell outside the source (source rows outside count once
 * each, whatever their weight: an upper bound) or on a non-finite value.
 */
export interface ResampleInfo {
  outside: number;
  nonFinite: number;
}

/** Separable Lanczos-3 resampler with reusable scratch buffers. Not re-entrant: one per thread of work. */
export class Resampler {
  private wx = new Float64Array(0);
  private wy = new Float64Array(0);
  private ix = new Int32Array(0);
  private iy = new Int32Array(0);
  private rows = new Float64Array(0);
  readonly info: ResampleInfo = { outside: 0, nonFinite: 0 };

  private grow(nx: number, ny: number, nrows: number): void {
    if (this.wx.length < nx * TAPS) {
      this.wx = new Float64Array(nx * TAPS);
      this.ix = new Int32Array(nx);
    }
    if (this.wy.length < ny * TAPS) {
      this.wy = new Float64Array(ny * TAPS);
      this.iy = new Int32Array(ny);
    }
    if (this.rows.length < nrows * nx) this.rows = new Float64Array(nrows * nx);
  }

  /**
   * out[j * nx + i] = scale * (interpolated src at x = x0 + i dx, y = y0 + j dy), source coordinates in samples
   * (sample (k, l) at x = k, y = l). Samples outside the source, and non-finite ones, count as 0 and are tallied in
   * `this.info`. dy must be > 0.
   */
  resample(src: Grid, x0: number, dx: number, nx: number, y0: number, dy: number, ny: number, out: Float64Array, scale = 1): ResampleInfo {
    const { width: sw, height: sh, data } = src;
    const firstRow = Math.floor(y0) - (LANCZOS_ORDER - 1);
    const lastRow = Math.floor(y0 + (ny - 1) * dy) + LANCZOS_ORDER;
    const nrows = lastRow - firstRow + 1;
    this.grow(nx, ny, nrows);
    const { wx, wy, ix, iy, rows } = this;
    for (let i = 0; i < nx; i++) ix[i] = lanczosWeights(x0 + i * dx, wx, i * TAPS);
    for (let j = 0; j < ny; j++) iy[j] = lanczosWeights(y0 + j * dy, wy, j * TAPS);
    let outside = 0;
    let nonFinite = 0;
    // horizontal pass over every source row the vertical pass will read
    for (let r = 0; r < nrows; r++) {
      const sy = firstRow + r;
      const rowOut = r * nx;
      if (sy < 0 || sy >= sh) {
        rows.fill(0, rowOut, rowOut + nx);
        outside++;
        continue;
      }
      const base = sy * sw;
      for (let i = 0; i < nx; i++) {
        const k0 = ix[i];
        const wo = i * TAPS;
        let acc = 0;
        if (k0 >= 0 && k0 + TAPS <= sw) {
          for (let k = 0; k < TAPS; k++) {
            const v = data[base + k0 + k];
            if (v - v === 0) acc += wx[wo + k] * v;
            else if (wx[wo + k] !== 0) nonFinite++;
          }
        } else {
          for (let k = 0; k < TAPS; k++) {
            const sx = k0 + k;
            if (sx < 0 || sx >= sw) {
              if (wx[wo + k] !== 0) outside++;
              continue;
            }
            const v = data[base + sx];
            if (v - v === 0) acc += wx[wo + k] * v;
            else if (wx[wo + k] !== 0) nonFinite++;
          }
        }
        rows[rowOut + i] = acc;
      }
    }
    // vertical pass
    for (let j = 0; j < ny; j++) {
      const r0 = iy[j] - firstRow;
      const wo = j * TAPS;
      const o = j * nx;
      for (let i = 0; i < nx; i++) out[o + i] = 0;
      for (let k = 0; k < TAPS; k++) {
        const w = wy[wo + k] * scale;
        if (w === 0) continue;
        const ro = (r0 + k) * nx;
        for (let i = 0; i < nx; i++) out[o + i] += w * rows[ro + i];
      }
    }
    this.info.outside = outside;
    this.info.nonFinite = nonFinite;
    return this.info;
  }
}
