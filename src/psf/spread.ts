/**
 * The "fuzzier" model of SPREAD_MODEL (Desai et al. 2012; SExtractor's documentation): the PSF convolved with a
 * circular exponential of scale length FWHM / 16. Convolution is linear, so every polynomial term of the model is
 * convolved once (the result is a model of the same layout) and evaluated at each source like the PSF itself.
 *
 * The convolution is done exactly for the band-limited interpolant of the samples: the zero-padded term is
 * transformed by a separable DFT, multiplied by the exponential's transform (1 + (2 pi h q)^2)^(-3/2) (q in cycles
 * per sample, h in samples) and transformed back; the padding (10 h + 2 samples) keeps the circular wrap-around
 * below 1e-3 of the flux.
 */
import type { PsfModel } from './model.js';
import { nTerms } from './poly.js';

/** 1-D DFT of n complex values (re, im) with stride; sign -1 forward, +1 inverse (unscaled). */
function dft(re: Float64Array, im: Float64Array, off: number, stride: number, n: number, cos: Float64Array, sin: Float64Array, sign: number, tr: Float64Array, ti: Float64Array): void {
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    let idx = 0;
    for (let j = 0; j < n; j++) {
      const c = cos[idx];
      const s = sign * sin[idx];
      const xr = re[off + j * stride];
      const xi = im[off + j * stride];
      sr += xr * c - xi * s;
      si += xr * s + xi * c;
      idx += k;
      if (idx >= n) idx -= n;
    }
    tr[k] = sr;
    ti[k] = si;
  }
  for (let k = 0; k < n; k++) {
    re[off + k * stride] = tr[k];
    im[off + k * stride] = ti[k];
  }
}

/**
 * Convolve every term of a model with a circular exponential exp(-r / h) / (2 pi h^2), h = scale image pixels
 * (default the model FWHM / 16). Returns coefficients of the same layout as model.coeffs.
 */
export function exponentialConvolvedCoeffs(model: PsfModel, scale = model.fwhm / 16): Float64Array {
  const { size, step } = model;
  const npix = size * size;
  const nt = nTerms(model.degree);
  const out = new Float64Array(nt * npix);
  const h = scale / step;
  if (!(h > 0)) {
    out.set(model.coeffs);
    return out;
  }
  const pad = Math.ceil(10 * h) + 2;
  const n = size + 2 * pad;
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    cos[j] = Math.cos((2 * Math.PI * j) / n);
    sin[j] = Math.sin((2 * Math.PI * j) / n);
  }
  const kernel = new Float64Array(n * n);
  const k2 = (2 * Math.PI * h) ** 2;
  for (let ky = 0; ky < n; ky++) {
    const qy = (ky <= n / 2 ? ky : ky - n) / n;
    for (let kx = 0; kx < n; kx++) {
      const qx = (kx <= n / 2 ? kx : kx - n) / n;
      kernel[ky * n + kx] = Math.pow(1 + k2 * (qx * qx + qy * qy), -1.5);
    }
  }
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  const tr = new Float64Array(n);
  const ti = new Float64Array(n);
  for (let t = 0; t < nt; t++) {
    re.fill(0);
    im.fill(0);
    for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) re[(j + pad) * n + i + pad] = model.coeffs[t * npix + j * size + i];
    for (let r = 0; r < n; r++) dft(re, im, r * n, 1, n, cos, sin, -1, tr, ti);
    for (let col = 0; col < n; col++) dft(re, im, col, n, n, cos, sin, -1, tr, ti);
    for (let q = 0; q < n * n; q++) {
      re[q] *= kernel[q];
      im[q] *= kernel[q];
    }
    for (let col = 0; col < n; col++) dft(re, im, col, n, n, cos, sin, 1, tr, ti);
    for (let r = 0; r < n; r++) dft(re, im, r * n, 1, n, cos, sin, 1, tr, ti);
    const norm = 1 / (n * n);
    for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) out[t * npix + j * size + i] = re[(j + pad) * n + i + pad] * norm;
  }
  return out;
}
