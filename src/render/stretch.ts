/** Display stretches for previews: IRAF-style zscale limits and an asinh stretch, to 8-bit. */

/** A regular sample of finite pixel values (at most n), sorted. */
function sample(data: Float32Array, n: number): Float64Array {
  const step = Math.max(1, Math.floor(data.length / n));
  const out: number[] = [];
  for (let i = 0; i < data.length && out.length < n; i += step) if (Number.isFinite(data[i])) out.push(data[i]);
  return Float64Array.from(out).sort();
}

/**
 * zscale display limits (IRAF's algorithm, in outline): fit a line to the sorted sample with iterative
 * k-sigma rejection; the range is median +- (slope / contrast) over the sample, clipped to the data range.
 */
export function zscale(data: Float32Array, contrast = 0.25, nsamples = 1000): [number, number] {
  const s = sample(data, nsamples);
  const n = s.length;
  if (n === 0) return [0, 1];
  const med = n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  const keep = new Uint8Array(n).fill(1);
  let slope = 0;
  let intercept = med;
  for (let iter = 0; iter < 5; iter++) {
    let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (let i = 0; i < n; i++) {
      if (!keep[i]) continue;
      sw++;
      sx += i;
      sy += s[i];
      sxx += i * i;
      sxy += i * s[i];
    }
    if (sw < n / 2) break;
    const det = sw * sxx - sx * sx;
    if (det === 0) break;
    slope = (sw * sxy - sx * sy) / det;
    intercept = (sy - slope * sx) / sw;
    let ss = 0;
    for (let i = 0; i < n; i++) if (keep[i]) ss += (s[i] - (intercept + slope * i)) ** 2;
    const sigma = Math.sqrt(ss / sw);
    let changed = false;
    for (let i = 0; i < n; i++) {
      const ok = Math.abs(s[i] - (intercept + slope * i)) <= 2.5 * sigma ? 1 : 0;
      if (ok !== keep[i]) changed = true;
      keep[i] = ok;
    }
    if (!changed) break;
  }
  const z1 = Math.max(s[0], med - ((n / 2) * slope) / contrast);
  const z2 = Math.min(s[n - 1], med + ((n / 2) * slope) / contrast);
  return z1 < z2 ? [z1, z2] : [s[0], s[n - 1] > s[0] ? s[n - 1] : s[0] + 1];
}

export type Stretch = 'zscale' | 'asinh';

/** Map an image to 8-bit grey levels (row 0 of the output is the TOP row: FITS y increases upwards). */
export function toGrey(data: Float32Array, width: number, height: number, stretch: Stretch): Uint8Array {
  const out = new Uint8Array(width * height);
  const [lo, hi] = zscale(data);
  const span = hi - lo || 1;
  // asinh: linear near the sky, logarithmic for bright sources; the sky sits at zscale's low limit.
  const beta = span / 10;
  const norm = Math.asinh((10 * span) / beta);
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * width;
    const dst = y * width;
    for (let x = 0; x < width; x++) {
      const v = data[src + x];
      let t: number;
      if (!Number.isFinite(v)) t = 0;
      else if (stretch === 'zscale') t = (v - lo) / span;
      else t = Math.asinh(Math.max(0, v - lo) / beta) / norm;
      out[dst + x] = t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
    }
  }
  return out;
}
