/**
 * Detection filtering (SExtractor FILTER / FILTER_NAME): convolution kernels and their application.
 *
 * As in SExtractor's convolve(), the mask is applied as a correlation, out(x, y) = sum K[r][c] in(x + c - w/2,
 * y + r - h/2) (integer halves), pixels outside the image count as 0 and the result is NOT renormalised near
 * the edges. A CONV NORM mask is divided by the sum of the absolute values of its elements.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';

/** A convolution mask as applied (already normalised), row-major. */
export interface Kernel {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** SExtractor's default.conv: 3x3 "all-ground" mask with FWHM = 2 pixels, CONV NORM. */
export function defaultKernel(): Kernel {
  return parseConv('CONV NORM\n1 2 1\n2 4 2\n1 2 1\n', 'default.conv');
}

/**
 * Parse the text of a SExtractor .conv file: first line "CONV NORM" or "CONV NONORM" (a bare "CONV" means
 * NORM, as in SExtractor), then rows of numbers; lines starting with '#' are comments (and so is the rest of a
 * row after a '#' token). NORM divides by the sum of |K| (an all-zero mask is left as is).
 */
export function parseConv(text: string, source = 'convolution file'): Kernel {
  const lines = text.split(/\r?\n/);
  const head = lines[0] ?? '';
  if (!head.startsWith('CONV')) throw new UserError(`${source}: not a SExtractor convolution mask (no CONV header)`);
  const norm = !head.includes('NONORM');
  const values: number[] = [];
  let width = 0;
  for (const line of lines.slice(1)) {
    const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0);
    const row: number[] = [];
    for (const t of tokens) {
      if (t.startsWith('#')) break;
      const v = Number(t);
      if (!Number.isFinite(v)) throw new UserError(`${source}: bad mask value '${t}'`);
      row.push(v);
    }
    if (row.length === 0) continue;
    width = Math.max(width, row.length);
    values.push(...row);
  }
  if (width < 1 || values.length % width !== 0)
    throw new UserError(`${source}: the mask rows do not form a rectangle (${values.length} values, ${width} per row)`);
  const data = new Float32Array(values);
  if (norm) {
    let sum = 0;
    for (const v of values) sum += Math.abs(v);
    if (sum > 0) for (let i = 0; i < data.length; i++) data[i] = values[i] / sum;
  }
  return { width, height: values.length / width, data };
}

/** Read and parse a SExtractor .conv file. */
export function loadConv(file: string): Kernel {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read convolution file ${file}: ${(e as Error).message}`);
  }
  return parseConv(text, file);
}

/**
 * Normalised Gaussian mask of the given FWHM (pixels), as in SExtractor's gauss_<FWHM>_<N>x<N>.conv files:
 * pixel-integrated Gaussian, size N = 2 round(FWHM) - 1 (at least 3), sum 1.
 */
export function gaussianKernel(fwhm: number): Kernel {
  if (!(fwhm > 0 && Number.isFinite(fwhm))) throw new UserError(`gaussian filter: invalid FWHM ${fwhm}`);
  const n = Math.max(3, 2 * Math.floor(fwhm + 0.5) - 1);
  const c = (n - 1) / 2;
  const s = (fwhm / Math.sqrt(8 * Math.LN2)) * Math.SQRT2;
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) g[i] = 0.5 * (erf((i - c + 0.5) / s) - erf((i - c - 0.5) / s));
  const data = new Float32Array(n * n);
  let sum = 0;
  for (let r = 0; r < n; r++) for (let q = 0; q < n; q++) sum += g[r] * g[q];
  for (let r = 0; r < n; r++) for (let q = 0; q < n; q++) data[r * n + q] = (g[r] * g[q]) / sum;
  return { width: n, height: n, data };
}

/** Resolve a filter specification to a kernel (null = no filtering). */
export function resolveFilter(spec: string | Kernel): Kernel | null {
  if (typeof spec !== 'string') return spec;
  if (spec === 'default') return defaultKernel();
  if (spec === 'none') return null;
  const m = /^gauss(?:ian)?:(.+)$/.exec(spec);
  if (m) return gaussianKernel(Number(m[1]));
  return loadConv(spec);
}

/** Error function, from the classic Chebyshev fit of erfc (fractional error < 1.2e-7 everywhere). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

/** If the kernel is an outer product col * row (to 1e-6 of its largest element), return both factors. */
export function separate(k: Kernel): { col: Float32Array; row: Float32Array } | null {
  let p = 0;
  for (let i = 1; i < k.data.length; i++) if (Math.abs(k.data[i]) > Math.abs(k.data[p])) p = i;
  const pv = k.data[p];
  if (pv === 0) return null;
  const r0 = Math.floor(p / k.width);
  const c0 = p % k.width;
  const col = new Float32Array(k.height);
  const row = new Float32Array(k.width);
  for (let r = 0; r < k.height; r++) col[r] = k.data[r * k.width + c0];
  for (let c = 0; c < k.width; c++) row[c] = k.data[r0 * k.width + c] / pv;
  const tol = 1e-6 * Math.abs(pv);
  for (let r = 0; r < k.height; r++)
    for (let c = 0; c < k.width; c++) if (Math.abs(k.data[r * k.width + c] - col[r] * row[c]) > tol) return null;
  return { col, row };
}

/**
 * Convolve a row-major image with a kernel (SExtractor conventions, see the module comment).
 * Separable kernels take two 1-D passes through a ring buffer of kernel-height rows; each output pixel is
 * accumulated in double and stored once.
 */
export function convolve(data: Float32Array, width: number, height: number, k: Kernel): Float32Array {
  const out = new Float32Array(width * height);
  const sep = separate(k);
  const h2 = Math.floor(k.height / 2);
  const w2 = Math.floor(k.width / 2);
  const taps: Float32Array[] = [];
  const rows: Float32Array[] = [];
  if (sep) {
    const ring = new Float32Array(k.height * width);
    let next = 0;
    for (let y = 0; y < height; y++) {
      const lo = y - h2;
      const hi = Math.min(lo + k.height - 1, height - 1);
      for (; next <= hi; next++) {
        const slot = (next % k.height) * width;
        correlateRow(ring.subarray(slot, slot + width), [data.subarray(next * width, (next + 1) * width)], [sep.row], w2);
      }
      taps.length = 0;
      rows.length = 0;
      for (let r = 0; r < k.height; r++) {
        const yy = lo + r;
        if (yy < 0 || yy >= height || sep.col[r] === 0) continue;
        taps.push(sep.col.subarray(r, r + 1));
        rows.push(ring.subarray((yy % k.height) * width, (yy % k.height + 1) * width));
      }
      correlateRow(out.subarray(y * width, (y + 1) * width), rows, taps, 0);
    }
    return out;
  }
  for (let y = 0; y < height; y++) {
    taps.length = 0;
    rows.length = 0;
    for (let r = 0; r < k.height; r++) {
      const yy = y - h2 + r;
      if (yy < 0 || yy >= height) continue;
      taps.push(k.data.subarray(r * k.width, (r + 1) * k.width));
      rows.push(data.subarray(yy * width, (yy + 1) * width));
    }
    correlateRow(out.subarray(y * width, (y + 1) * width), rows, taps, w2);
  }
  return out;
}

/**
 * dst[x] = sum_j sum_c taps[j][c] * rows[j][x + c - w2], zero outside the row. All rows have dst's length.
 * The common cases (one or three rows of one or three taps) are unrolled.
 */
function correlateRow(dst: Float32Array, rows: Float32Array[], taps: Float32Array[], w2: number): void {
  const w = dst.length;
  const nt = taps.length > 0 ? taps[0].length : 0;
  if (rows.length === 0) {
    dst.fill(0);
    return;
  }
  if (nt === 3 && w2 === 1 && rows.length === 1 && w >= 2) {
    const s = rows[0];
    const t0 = taps[0][0];
    const t1 = taps[0][1];
    const t2 = taps[0][2];
    dst[0] = t1 * s[0] + t2 * s[1];
    for (let x = 1; x < w - 1; x++) dst[x] = t0 * s[x - 1] + t1 * s[x] + t2 * s[x + 1];
    dst[w - 1] = t0 * s[w - 2] + t1 * s[w - 1];
    return;
  }
  if (nt === 1 && w2 === 0 && rows.length === 3) {
    const [a, b, c] = rows;
    const ta = taps[0][0];
    const tb = taps[1][0];
    const tc = taps[2][0];
    for (let x = 0; x < w; x++) dst[x] = ta * a[x] + tb * b[x] + tc * c[x];
    return;
  }
  if (nt === 1 && w2 === 0 && rows.length === 2) {
    const [a, b] = rows;
    const ta = taps[0][0];
    const tb = taps[1][0];
    for (let x = 0; x < w; x++) dst[x] = ta * a[x] + tb * b[x];
    return;
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let j = 0; j < rows.length; j++) {
      const s = rows[j];
      const t = taps[j];
      const c0 = Math.max(0, w2 - x);
      const c1 = Math.min(nt, w - x + w2);
      const o = x - w2;
      for (let c = c0; c < c1; c++) sum += t[c] * s[o + c];
    }
    dst[x] = sum;
  }
}
