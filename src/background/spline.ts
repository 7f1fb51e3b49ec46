/**
 * Bicubic-spline interpolation of a mesh grid to full resolution, following SExtractor 2.25
 * (back.c: makebackspline, subbackline, backrmsline):
 *  - natural cubic splines with unit node spacing, first along y (coefficients computed once per grid
 *    column), then along x (coefficients recomputed for each image row from the y-interpolated nodes);
 *  - node (mx, my) sits at pixel x = (mx + 0.5) * bw - 0.5 but at pixel y = (my + 0.5) * bh: SExtractor
 *    evaluates rows at y / bh - 0.5 and columns at (x + 0.5) / bw - 0.5, and we keep that half-pixel
 *    asymmetry so the maps match its check images;
 *  - beyond the first/last node the end intervals' cubics are extrapolated;
 *  - the tridiagonal back-substitution divides the coupling term by 6 at every step
 *    (d[i] = (c[i] d[i+1] + r[i]) / 6, where a textbook natural spline has d[i] = c[i] d[i+1] + r[i] / 6);
 *    we reproduce this to match SExtractor's maps;
 *  - with a single row of meshes no spline is made along x (linear interpolation between nodes).
 * Everything is evaluated row by row with preallocated scratch arrays (no per-pixel allocation).
 */

/** A grid of node values ready for interpolation. */
export interface SplineGrid {
  readonly width: number;
  readonly height: number;
  readonly bw: number;
  readonly bh: number;
  readonly nx: number;
  readonly ny: number;
  /** node values, index my * nx + mx */
  readonly values: Float32Array;
  /** spline coefficients along y (SExtractor's scaled second derivatives), same layout */
  readonly d2y: Float32Array;
}

/**
 * Spline coefficients of n nodes read from src[off + i * stride], written to dst likewise.
 * `c` and `r` are scratch arrays of at least n elements.
 */
function splineCoefficients(
  src: ArrayLike<number>,
  off: number,
  stride: number,
  n: number,
  dst: Float32Array | Float64Array,
  c: Float64Array,
  r: Float64Array,
): void {
  dst[off] = 0;
  if (n < 2) return;
  c[0] = 0;
  r[0] = 0;
  for (let i = 1; i < n - 1; i++) {
    const p = off + i * stride;
    const t = -1 / (c[i - 1] + 4);
    c[i] = t;
    r[i] = t * (r[i - 1] - 6 * (src[p + stride] + src[p - stride] - 2 * src[p]));
  }
  let next = 0;
  dst[off + (n - 1) * stride] = 0;
  for (let i = n - 2; i >= 1; i--) {
    next = (c[i] * next + r[i]) / 6;
    dst[off + i * stride] = next;
  }
}

/** Build the interpolation grid: node values plus their spline coefficients along y. */
export function makeSplineGrid(
  values: Float32Array,
  geometry: { width: number; height: number; bw: number; bh: number; nx: number; ny: number },
): SplineGrid {
  const { nx, ny } = geometry;
  if (values.length !== nx * ny) throw new RangeError(`mesh grid has ${values.length} values, expected ${nx}x${ny}`);
  const d2y = new Float32Array(nx * ny);
  const c = new Float64Array(ny);
  const r = new Float64Array(ny);
  for (let mx = 0; mx < nx; mx++) splineCoefficients(values, mx, nx, ny, d2y, c, r);
  return { ...geometry, values, d2y };
}

/**
 * Interpolate rows y0 (inclusive) to y1 (exclusive) of the full-resolution map into `out`
 * (row-major, (y1 - y0) * width values; allocated when not given). For streaming use.
 */
export function splineRows(g: SplineGrid, y0: number, y1: number, out?: Float32Array): Float32Array {
  const { width, height, bw, bh, nx, ny, values, d2y } = g;
  if (!(Number.isInteger(y0) && Number.isInteger(y1) && 0 <= y0 && y0 <= y1 && y1 <= height))
    throw new RangeError(`row band ${y0}..${y1} outside 0..${height}`);
  const dst = out ?? new Float32Array((y1 - y0) * width);
  if (dst.length < (y1 - y0) * width) throw new RangeError('output buffer too small for the row band');
  const node = new Float64Array(nx);
  const dnode = new Float64Array(nx);
  const c = new Float64Array(nx);
  const r = new Float64Array(nx);
  // First pixel of each x interval k (node k to k + 1); interval 0 starts at 0, the last one runs to the edge.
  const start = new Int32Array(Math.max(nx, 2));
  for (let k = 1; k < nx - 1; k++) start[k] = k * bw + (bw >> 1);
  start[Math.max(nx - 1, 1)] = width;
  const invbw = 1 / bw;

  for (let y = y0; y < y1; y++) {
    const o = (y - y0) * width;
    if (ny > 1) {
      const v = Math.fround(y / bh) - 0.5;
      let yl = Math.trunc(v);
      let dy = v - yl;
      if (yl >= ny - 1) {
        yl = ny - 2;
        dy += 1;
      }
      const cdy = 1 - dy;
      const dy3 = dy * dy * dy - dy;
      const cdy3 = cdy * cdy * cdy - cdy;
      const lo = yl * nx;
      const hi = lo + nx;
      for (let x = 0; x < nx; x++)
        node[x] = cdy * values[lo + x] + dy * values[hi + x] + cdy3 * d2y[lo + x] + dy3 * d2y[hi + x];
      if (nx > 1) splineCoefficients(node, 0, 1, nx, dnode, c, r);
    } else {
      for (let x = 0; x < nx; x++) node[x] = values[x];
      dnode.fill(0);
    }
    if (nx < 2) {
      dst.fill(node[0], o, o + width);
      continue;
    }
    for (let k = 0; k < nx - 1; k++) {
      const a = node[k];
      const b = node[k + 1];
      const da = dnode[k];
      const db = dnode[k + 1];
      const pEnd = Math.min(start[k + 1], width);
      for (let p = start[k]; p < pEnd; p++) {
        const dx = (p + 0.5) * invbw - 0.5 - k;
        const cdx = 1 - dx;
        dst[o + p] = cdx * (a + (cdx * cdx - 1) * da) + dx * (b + (dx * dx - 1) * db);
      }
    }
  }
  return dst;
}
