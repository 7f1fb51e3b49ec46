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
 * Row-by-row evaluator of a grid's full-resolution map. The x weights of every column (they do not depend on
 * the row) are computed once; each row then costs the y interpolation of the nodes, one small spline solve and
 * a multiply-add per pixel, with exactly splineRows' arithmetic.
 */
export class SplineRowEvaluator {
  private readonly node: Float64Array;
  private readonly dnode: Float64Array;
  private readonly c: Float64Array;
  private readonly r: Float64Array;
  /** first pixel of each x interval k (node k to k + 1); the last interval runs to the edge */
  private readonly start: Int32Array;
  /** per column p, at 4p .. 4p + 3: 1 - dx, (1 - dx)^2 - 1, dx, dx^2 - 1 (dx: position in its interval) */
  private readonly wts: Float64Array;

  constructor(private readonly g: SplineGrid) {
    const { width, bw, nx } = g;
    this.node = new Float64Array(nx);
    this.dnode = new Float64Array(nx);
    this.c = new Float64Array(nx);
    this.r = new Float64Array(nx);
    const start = new Int32Array(Math.max(nx, 2));
    for (let k = 1; k < nx - 1; k++) start[k] = k * bw + (bw >> 1);
    start[Math.max(nx - 1, 1)] = width;
    this.start = start;
    const wts = (this.wts = new Float64Array(4 * width));
    const invbw = 1 / bw;
    for (let k = 0; k < nx - 1; k++) {
      const pEnd = Math.min(start[k + 1], width);
      for (let p = start[k]; p < pEnd; p++) {
        const dx = (p + 0.5) * invbw - 0.5 - k;
        const cdx = 1 - dx;
        wts[4 * p] = cdx;
        wts[4 * p + 1] = cdx * cdx - 1;
        wts[4 * p + 2] = dx;
        wts[4 * p + 3] = dx * dx - 1;
      }
    }
  }

  /** Nodes of row y interpolated along y, and their spline coefficients along x. */
  private nodes(y: number): void {
    const { nx, ny, bh, values, d2y } = this.g;
    const { node, dnode } = this;
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
      if (nx > 1) splineCoefficients(node, 0, 1, nx, dnode, this.c, this.r);
    } else {
      for (let x = 0; x < nx; x++) node[x] = values[x];
      dnode.fill(0);
    }
  }

  /** Row y of the map into dst[off .. off + width). */
  row(y: number, dst: Float32Array, off: number): void {
    const { width, nx } = this.g;
    this.nodes(y);
    const { node, dnode, start, wts } = this;
    if (nx < 2) {
      dst.fill(node[0], off, off + width);
      return;
    }
    for (let k = 0; k < nx - 1; k++) {
      const a = node[k];
      const b = node[k + 1];
      const da = dnode[k];
      const db = dnode[k + 1];
      const pEnd = Math.min(start[k + 1], width);
      for (let p = start[k]; p < pEnd; p++) {
        const q = 4 * p;
        dst[off + p] = wts[q] * (a + wts[q + 1] * da) + wts[q + 2] * (b + wts[q + 3] * db);
      }
    }
  }

  /**
   * Row y of src minus the (float32) map into dst[off .. off + width): exactly src - the map row() makes.
   * src and dst may be the same array (background subtraction in place).
   */
  subtractRow(y: number, src: Float32Array, dst: Float32Array, off: number): void {
    const { width, nx } = this.g;
    this.nodes(y);
    const { node, dnode, start, wts } = this;
    if (nx < 2) {
      const b = Math.fround(node[0]);
      for (let p = 0; p < width; p++) dst[off + p] = src[off + p] - b;
      return;
    }
    for (let k = 0; k < nx - 1; k++) {
      const a = node[k];
      const b = node[k + 1];
      const da = dnode[k];
      const db = dnode[k + 1];
      const pEnd = Math.min(start[k + 1], width);
      for (let p = start[k]; p < pEnd; p++) {
        const q = 4 * p;
        dst[off + p] = src[off + p] - Math.fround(wts[q] * (a + wts[q + 1] * da) + wts[q + 2] * (b + wts[q + 3] * db));
      }
    }
  }
}

/**
 * Interpolate rows y0 (inclusive) to y1 (exclusive) of the full-resolution map into `out`
 * (row-major, (y1 - y0) * width values; allocated when not given). For streaming use.
 */
export function splineRows(g: SplineGrid, y0: number, y1: number, out?: Float32Array): Float32Array {
  const { width, height } = g;
  if (!(Number.isInteger(y0) && Number.isInteger(y1) && 0 <= y0 && y0 <= y1 && y1 <= height))
    throw new RangeError(`row band ${y0}..${y1} outside 0..${height}`);
  const dst = out ?? new Float32Array((y1 - y0) * width);
  if (dst.length < (y1 - y0) * width) throw new RangeError('output buffer too small for the row band');
  const ev = new SplineRowEvaluator(g);
  for (let y = y0; y < y1; y++) ev.row(y, dst, (y - y0) * width);
  return dst;
}
