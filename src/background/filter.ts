/**
 * Mesh-grid post-processing, as SExtractor 2.25 does it (back.c: filterback and the weight normalisation):
 * bad meshes are replaced by the average of their nearest good meshes, then a median filter is applied
 * to level and sigma together; the global background and RMS are the medians of the filtered grids.
 */

/** Median of a float32 array as SExtractor's fqmedian does (mean of the two middle values for even n). Sorts `a` in place. */
export function floatMedian(a: Float32Array): number {
  const n = a.length;
  if (n === 0) return NaN;
  a.sort();
  return n % 2 ? a[n >> 1] : Math.fround((a[n / 2 - 1] + a[n / 2]) / 2);
}

/**
 * Replace bad (NaN) meshes, in place, by the mean of the closest good meshes (ties averaged);
 * with no good mesh at all, level 0 and sigma 1. Returns the number of meshes replaced.
 */
export function fillBadMeshes(level: Float32Array, sigma: Float32Array, nx: number, ny: number): number {
  const src = Float32Array.from(level);
  let nbad = 0;
  for (let py = 0, i = 0; py < ny; py++)
    for (let px = 0; px < nx; px++, i++) {
      if (!Number.isNaN(src[i])) continue;
      nbad++;
      let d2min = Infinity;
      let val = 0;
      let sval = 0;
      let nmin = 0;
      for (let y = 0, j = 0; y < ny; y++)
        for (let x = 0; x < nx; x++, j++) {
          if (Number.isNaN(src[j])) continue;
          const d2 = (x - px) * (x - px) + (y - py) * (y - py);
          if (d2 < d2min) {
            d2min = d2;
            val = src[j];
            sval = sigma[j];
            nmin = 1;
          } else if (d2 === d2min) {
            val += src[j];
            sval += sigma[j];
            nmin++;
          }
        }
      level[i] = nmin ? val / nmin : 0;
      sigma[i] = nmin ? sval / nmin : 1;
    }
  return nbad;
}

/**
 * Median-filter level and sigma over fx x fy meshes (in place). Near the grid edges the window shrinks
 * symmetrically (a corner mesh is its own median), as in SExtractor. A mesh is replaced (level and sigma)
 * only when |median level - level| >= thresh (BACK_FILTTHRESH; 0 = always).
 */
export function medianFilterMeshes(level: Float32Array, sigma: Float32Array, nx: number, ny: number, fx: number, fy: number, thresh: number): void {
  const hx = fx >> 1;
  const hy = fy >> 1;
  const wl = new Float32Array((2 * hx + 1) * (2 * hy + 1));
  const ws = new Float32Array(wl.length);
  const outL = new Float32Array(level.length);
  const outS = new Float32Array(level.length);
  for (let py = 0; py < ny; py++) {
    const ry = Math.min(hy, ny - 1 - py, py);
    for (let px = 0; px < nx; px++) {
      const rx = Math.min(hx, nx - 1 - px, px);
      let n = 0;
      for (let y = py - ry; y <= py + ry; y++)
        for (let x = px - rx; x <= px + rx; x++) {
          wl[n] = level[y * nx + x];
          ws[n++] = sigma[y * nx + x];
        }
      const i = py * nx + px;
      const med = floatMedian(wl.subarray(0, n));
      if (Math.abs(med - level[i]) >= thresh) {
        outL[i] = med;
        outS[i] = floatMedian(ws.subarray(0, n));
      } else {
        outL[i] = level[i];
        outS[i] = sigma[i];
      }
    }
  }
  level.set(outL);
  sigma.set(outS);
}

/** Global background and RMS of a filtered grid (SExtractor's "Background: X RMS: Y"). */
export function globalLevels(level: Float32Array, sigma: Float32Array): { background: number; rms: number } {
  const background = floatMedian(Float32Array.from(level));
  const s = Float32Array.from(sigma);
  let rms = floatMedian(s);
  if (!(rms > 0)) {
    // Mostly constant data: median of the positive sigmas (s is sorted now), else 1.
    let first = s.length;
    while (first > 0 && s[first - 1] > 0) first--;
    rms = first < s.length && first > 0 ? floatMedian(s.subarray(first)) : 1;
  }
  return { background, rms };
}

/**
 * Scale factor that turns the weight map's variances into the measured sky noise (RESCALE_WEIGHTS):
 * the median over meshes of sigma / sqrt(variance level); 1 when undefined.
 */
export function weightScale(sigma: Float32Array, varianceLevel: Float32Array): number {
  const ratio = new Float32Array(sigma.length);
  let n = 0;
  for (let i = 0; i < sigma.length; i++) {
    const v = varianceLevel[i];
    if (!(v > 0)) continue;
    const r = Math.fround(sigma[i] / Math.sqrt(v));
    if (r > 0) ratio[n++] = r;
  }
  return n ? floatMedian(ratio.subarray(0, n)) : 1;
}
