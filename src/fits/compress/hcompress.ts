/**
 * HCOMPRESS_1 decoding (R. White's H-transform coder, as used by the FITS tiled-image convention).
 *
 * Stream: magic 0xDD 0x99; nx, ny, scale as big-endian int32 (the tile is nx rows of ny pixels);
 * the sum of all coefficients (int64); three bytes giving the number of bit planes of the four
 * coefficient quadrants (low-pass quadrant, the two mixed quadrants, the high-pass quadrant);
 * then, MSB-first, each quadrant's bit planes (top plane first), each plane either written
 * directly (format nybble 0: one nybble per 2x2 block) or quadtree-coded (format nybble 0xF:
 * a 4-bit code per non-empty node, Huffman-coded, expanding level by level), an end nybble 0,
 * and finally, starting on a fresh byte, one sign bit per non-zero coefficient.
 * Decoding multiplies the coefficients by `scale` (when > 1) and inverts the H-transform,
 * optionally smoothing (SMOOTH != 0) the coefficients within the quantization limits.
 *
 * All coefficient arithmetic is done on float64 with explicit floor/bit helpers, which is exact for
 * magnitudes below 2^53 (16-bit and 32-bit images alike).
 */

/** MSB-first bit reader with bounds checks. */
class BitReader {
  private buf = 0;
  private nbits = 0;
  constructor(
    private readonly src: Uint8Array,
    public pos: number,
  ) {}
  /** Drop the partial byte: the next read starts on a byte boundary. */
  align(): void {
    this.nbits = 0;
  }
  bits(n: number): number {
    while (this.nbits < n) {
      if (this.pos >= this.src.length) throw new RangeError('HCOMPRESS: stream truncated');
      this.buf = ((this.buf & 0xffff) << 8) | this.src[this.pos++];
      this.nbits += 8;
    }
    this.nbits -= n;
    return (this.buf >>> this.nbits) & ((1 << n) - 1);
  }
  bit(): number {
    return this.bits(1);
  }
  /** The quadtree node code: a fixed prefix code over the 16 nybble values. */
  huffman(): number {
    let c = this.bits(3);
    if (c < 4) return 1 << c; // 000->1 001->2 010->4 011->8
    c = (c << 1) | this.bit();
    if (c < 13) return HUFF4[c - 8]; // 1000..1100
    c = (c << 1) | this.bit();
    if (c < 31) return HUFF5[c - 26]; // 11010..11110
    c = (c << 1) | this.bit();
    return c === 62 ? 0 : 14; // 111110 -> 0, 111111 -> 14
  }
}
const HUFF4 = [3, 5, 10, 12, 15];
const HUFF5 = [6, 7, 9, 11, 13];

/** ceil(log2(n)) for n >= 1 (0 for n <= 1). */
function ceilLog2(n: number): number {
  let k = 0;
  while (1 << k < n) k++;
  return k;
}

/**
 * Expand 4-bit codes `codes` (packed, ceil(nx/2) x ceil(ny/2)) into an nx x ny grid with row
 * stride `stride`: bit 3 -> (i, j), bit 2 -> (i, j+1), bit 1 -> (i+1, j), bit 0 -> (i+1, j+1).
 * With `plane` < 0 the bits are stored as 0/1 into `dst` (a code grid); otherwise the bit is
 * OR-ed as 2^plane into the coefficient array `dst` at offset `base`.
 */
function expandCodes(
  codes: Int32Array,
  nx: number,
  ny: number,
  dst: Float64Array | Int32Array,
  base: number,
  stride: number,
  plane: number,
): void {
  const nx2 = (nx + 1) >> 1;
  const ny2 = (ny + 1) >> 1;
  const v = plane < 0 ? 1 : 2 ** plane;
  // Walk backwards so that codes and dst may share storage (dst stride >= code stride).
  for (let bi = nx2 - 1; bi >= 0; bi--) {
    for (let bj = ny2 - 1; bj >= 0; bj--) {
      const c = codes[bi * ny2 + bj];
      const i = 2 * bi;
      const j = 2 * bj;
      const s00 = base + i * stride + j;
      const right = j + 1 < ny;
      const down = i + 1 < nx;
      if (plane < 0) {
        if (down && right) dst[s00 + stride + 1] = c & 1;
        if (down) dst[s00 + stride] = (c >> 1) & 1;
        if (right) dst[s00 + 1] = (c >> 2) & 1;
        dst[s00] = (c >> 3) & 1;
      } else {
        if (c & 8) dst[s00] += v;
        if (right && c & 4) dst[s00 + 1] += v;
        if (down && c & 2) dst[s00 + stride] += v;
        if (down && right && c & 1) dst[s00 + stride + 1] += v;
      }
    }
  }
}

/** Decode the bit planes of one quadrant (nqx x nqy at `base`, row stride `stride`) into `a`. */
function decodeQuadrant(
  r: BitReader,
  a: Float64Array,
  base: number,
  stride: number,
  nqx: number,
  nqy: number,
  nbitplanes: number,
  scratch: Int32Array,
): void {
  const log2n = ceilLog2(Math.max(nqx, nqy));
  const nqx2 = (nqx + 1) >> 1;
  const nqy2 = (nqy + 1) >> 1;
  // Level sizes: size[log2n] = nq, size[k-1] = ceil(size[k] / 2).
  const sx: number[] = new Array(log2n + 1);
  const sy: number[] = new Array(log2n + 1);
  sx[log2n] = nqx;
  sy[log2n] = nqy;
  for (let k = log2n; k > 0; k--) {
    sx[k - 1] = (sx[k] + 1) >> 1;
    sy[k - 1] = (sy[k] + 1) >> 1;
  }
  for (let bit = nbitplanes - 1; bit >= 0; bit--) {
    const format = r.bits(4);
    if (format === 0) {
      for (let i = 0; i < nqx2 * nqy2; i++) scratch[i] = r.bits(4);
    } else if (format === 0xf) {
      scratch[0] = r.huffman();
      for (let k = 1; k < log2n; k++) {
        // Expand level k-1 codes (sx[k-1] x sy[k-1]) to level k (sx[k] x sy[k]) nodes, then read
        // a new code for every non-empty node.
        const nx = sx[k];
        const ny = sy[k];
        expandCodes(scratch, nx, ny, scratch, 0, ny, -1);
        for (let i = nx * ny - 1; i >= 0; i--) if (scratch[i] !== 0) scratch[i] = r.huffman();
      }
    } else {
      throw new RangeError(`HCOMPRESS: bad bit-plane format code ${format}`);
    }
    expandCodes(scratch, nqx, nqy, a, base, stride, bit);
  }
}

/**
 * Decode an HCOMPRESS_1 tile into `out` (nx*ny values, row-major with ny pixels per row).
 * `smooth` applies the decoder-side smoothing (ZVAL of SMOOTH). Returns [nx, ny] from the stream.
 */
export function hcompressDecode(src: Uint8Array, npix: number, smooth: boolean, out: Float64Array): [number, number] {
  if (src.length < 25 || src[0] !== 0xdd || src[1] !== 0x99) throw new RangeError('HCOMPRESS: bad magic number');
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const nx = dv.getInt32(2, false);
  const ny = dv.getInt32(6, false);
  const scale = dv.getInt32(10, false);
  const sumall = Number(dv.getBigInt64(14, false));
  if (!(nx > 0 && ny > 0) || nx * ny !== npix) {
    throw new RangeError(`HCOMPRESS: stream is ${nx}x${ny}, tile has ${npix} pixels`);
  }
  if (out.length < npix) throw new RangeError('HCOMPRESS: output buffer too small');
  const planes = [src[22], src[23], src[24]];
  const a = out;
  a.fill(0, 0, npix);
  const r = new BitReader(src, 25);
  const nx2 = (nx + 1) >> 1;
  const ny2 = (ny + 1) >> 1;
  const scratch = new Int32Array(Math.max(1, nx2 * ny2));
  decodeQuadrant(r, a, 0, ny, nx2, ny2, planes[0], scratch);
  decodeQuadrant(r, a, ny2, ny, nx2, ny >> 1, planes[1], scratch);
  decodeQuadrant(r, a, ny * nx2, ny, nx >> 1, ny2, planes[1], scratch);
  decodeQuadrant(r, a, ny * nx2 + ny2, ny, nx >> 1, ny >> 1, planes[2], scratch);
  if (r.bits(4) !== 0) throw new RangeError('HCOMPRESS: missing end-of-data code');
  r.align();
  for (let i = 0; i < npix; i++) if (a[i] !== 0 && r.bit()) a[i] = -a[i];
  a[0] = sumall;
  if (scale > 1) for (let i = 0; i < npix; i++) a[i] *= scale;
  inverseHTransform(a, nx, ny, smooth, scale);
  return [nx, ny];
}

// ----- exact integer helpers on float64 (two's-complement semantics) -----
const floorDiv = (x: number, p: number): number => Math.floor(x / p);
/** x & -p for p a power of two: round down to a multiple of p. */
const maskDown = (x: number, p: number): number => Math.floor(x / p) * p;
/** x & p for p a power of two: p if that bit is set (two's complement), else 0. */
const bitOf = (x: number, p: number): number => (Math.floor(x / p) % 2 !== 0 ? p : 0);

/** Move interleaved order back: the first ceil(n/2) entries go to even slots, the rest to odd slots. */
function unshuffle(a: Float64Array, start: number, n: number, step: number, tmp: Float64Array): void {
  const half = (n + 1) >> 1;
  for (let i = half, t = 0; i < n; i++, t++) tmp[t] = a[start + i * step];
  for (let i = half - 1; i >= 0; i--) a[start + 2 * i * step] = a[start + i * step];
  for (let i = 1, t = 0; i < n; i += 2, t++) a[start + i * step] = tmp[t];
}

/** Invert the H-transform in place (a is nx rows of ny). */
function inverseHTransform(a: Float64Array, nx: number, ny: number, smooth: boolean, scale: number): void {
  const nmax = Math.max(nx, ny);
  const log2n = ceilLog2(nmax);
  if (log2n === 0) return;
  const tmp = new Float64Array((nmax + 1) >> 1);
  let bit0 = 2 ** (log2n - 1);
  let bit1 = 2 * bit0;
  const bit2 = 4 * bit0;
  // Rounding offsets for positive (prnd) and negative (nrnd) values at each mask level.
  let prnd0 = Math.floor(bit0 / 2);
  let prnd1 = bit1 / 2;
  const prnd2 = bit2 / 2;
  let nrnd0 = prnd0 - 1;
  let nrnd1 = prnd1 - 1;
  const nrnd2 = prnd2 - 1;
  a[0] = maskDown(a[0] + (a[0] < 0 ? nrnd2 : prnd2), bit2);
  // Size of the sub-image being expanded at pass k: ceil(n / 2^k).
  const levelsX: number[] = [nx];
  const levelsY: number[] = [ny];
  for (let k = 1; k < log2n; k++) {
    levelsX.push((levelsX[k - 1] + 1) >> 1);
    levelsY.push((levelsY[k - 1] + 1) >> 1);
  }
  let shiftDiv = 2;
  for (let k = log2n - 1; k >= 0; k--) {
    const nxtop = levelsX[k];
    const nytop = levelsY[k];
    if (k === 0) {
      nrnd0 = 0;
      shiftDiv = 4;
    }
    for (let i = 0; i < nxtop; i++) unshuffle(a, ny * i, nytop, 1, tmp);
    for (let j = 0; j < nytop; j++) unshuffle(a, j, nxtop, ny, tmp);
    if (smooth) smoothCoefficients(a, nxtop, nytop, ny, scale);
    const oddx = nxtop % 2;
    const oddy = nytop % 2;
    let i = 0;
    for (; i < nxtop - oddx; i += 2) {
      let s00 = ny * i;
      let s10 = s00 + ny;
      for (let j = 0; j < nytop - oddy; j += 2, s00 += 2, s10 += 2) {
        let h0 = a[s00];
        let hx = a[s10];
        let hy = a[s00 + 1];
        let hc = a[s10 + 1];
        hx = maskDown(hx + (hx < 0 ? nrnd1 : prnd1), bit1);
        hy = maskDown(hy + (hy < 0 ? nrnd1 : prnd1), bit1);
        hc = maskDown(hc + (hc < 0 ? nrnd0 : prnd0), bit0);
        const low0 = bitOf(hc, bit0);
        hx = hx >= 0 ? hx - low0 : hx + low0;
        hy = hy >= 0 ? hy - low0 : hy + low0;
        const parity = (bitOf(hc, bit1) ^ bitOf(hx, bit1) ^ bitOf(hy, bit1)) !== 0;
        const low1 = parity ? bit1 : 0;
        h0 = h0 >= 0 ? h0 + low0 - low1 : h0 + (low0 === 0 ? low1 : low0 - low1);
        a[s10 + 1] = floorDiv(h0 + hx + hy + hc, shiftDiv);
        a[s10] = floorDiv(h0 + hx - hy - hc, shiftDiv);
        a[s00 + 1] = floorDiv(h0 - hx + hy - hc, shiftDiv);
        a[s00] = floorDiv(h0 - hx - hy + hc, shiftDiv);
      }
      if (oddy) {
        let h0 = a[s00];
        let hx = a[s10];
        hx = maskDown(hx + (hx < 0 ? nrnd1 : prnd1), bit1);
        const low1 = bitOf(hx, bit1);
        h0 = h0 >= 0 ? h0 - low1 : h0 + low1;
        a[s10] = floorDiv(h0 + hx, shiftDiv);
        a[s00] = floorDiv(h0 - hx, shiftDiv);
      }
    }
    if (oddx) {
      let s00 = ny * i;
      for (let j = 0; j < nytop - oddy; j += 2, s00 += 2) {
        let h0 = a[s00];
        let hy = a[s00 + 1];
        hy = maskDown(hy + (hy < 0 ? nrnd1 : prnd1), bit1);
        const low1 = bitOf(hy, bit1);
        h0 = h0 >= 0 ? h0 - low1 : h0 + low1;
        a[s00 + 1] = floorDiv(h0 + hy, shiftDiv);
        a[s00] = floorDiv(h0 - hy, shiftDiv);
      }
      if (oddy) a[s00] = floorDiv(a[s00], shiftDiv);
    }
    bit1 = bit0;
    bit0 = Math.floor(bit0 / 2);
    prnd1 = prnd0;
    prnd0 = Math.floor(prnd0 / 2);
    nrnd1 = nrnd0;
    nrnd0 = prnd0 - 1;
  }
}

const clamp = (v: number, lo: number, hi: number): number => Math.max(Math.min(v, hi), lo);

/**
 * Decoder-side smoothing: adjust the x, y and cross differences of each 2x2 block towards the
 * slopes implied by the neighbouring blocks' means, subject to monotonicity and a maximum change
 * of scale/2 (the quantization error bound). Edge blocks are left unchanged.
 */
function smoothCoefficients(a: Float64Array, nxtop: number, nytop: number, ny: number, scale: number): void {
  const smax = Math.floor(scale / 2);
  if (smax <= 0) return;
  const ny2 = 2 * ny;
  /** Change of a coefficient c (times `mul`) towards `diff`, limited; divides rounding toward zero for negatives as the coder does. */
  const step = (diff: number, c: number, mul: number): number => {
    const s = diff - c * mul;
    const q = s >= 0 ? Math.floor(s / mul) : Math.floor((s + mul - 1) / mul);
    return clamp(q, -smax, smax);
  };
  // x differences
  for (let i = 2; i < nxtop - 2; i += 2) {
    for (let j = 0, s00 = ny * i, s10 = s00 + ny; j < nytop; j += 2, s00 += 2, s10 += 2) {
      const hm = a[s00 - ny2];
      const h0 = a[s00];
      const hp = a[s00 + ny2];
      const dmax = Math.max(Math.min(hp - h0, h0 - hm), 0) * 4;
      const dmin = Math.min(Math.max(hp - h0, h0 - hm), 0) * 4;
      if (dmin < dmax) a[s10] += step(clamp(hp - hm, dmin, dmax), a[s10], 8);
    }
  }
  // y differences
  for (let i = 0; i < nxtop; i += 2) {
    for (let j = 2, s00 = ny * i + 2; j < nytop - 2; j += 2, s00 += 2) {
      const hm = a[s00 - 2];
      const h0 = a[s00];
      const hp = a[s00 + 2];
      const dmax = Math.max(Math.min(hp - h0, h0 - hm), 0) * 4;
      const dmin = Math.min(Math.max(hp - h0, h0 - hm), 0) * 4;
      if (dmin < dmax) a[s00 + 1] += step(clamp(hp - hm, dmin, dmax), a[s00 + 1], 8);
    }
  }
  // cross differences
  for (let i = 2; i < nxtop - 2; i += 2) {
    for (let j = 2, s00 = ny * i + 2, s10 = s00 + ny; j < nytop - 2; j += 2, s00 += 2, s10 += 2) {
      const hmm = a[s00 - ny2 - 2];
      const hpm = a[s00 + ny2 - 2];
      const hmp = a[s00 - ny2 + 2];
      const hpp = a[s00 + ny2 + 2];
      const h0 = a[s00];
      const hx2 = a[s10] * 2;
      const hy2 = a[s00 + 1] * 2;
      const up1 = Math.min(Math.max(hpp - h0, 0) - hx2 - hy2, Math.max(h0 - hpm, 0) + hx2 - hy2);
      const up2 = Math.min(Math.max(h0 - hmp, 0) - hx2 + hy2, Math.max(hmm - h0, 0) + hx2 + hy2);
      const dmax = Math.min(up1, up2) * 16;
      const lo1 = Math.max(Math.min(hpp - h0, 0) - hx2 - hy2, Math.min(h0 - hpm, 0) + hx2 - hy2);
      const lo2 = Math.max(Math.min(h0 - hmp, 0) - hx2 + hy2, Math.min(hmm - h0, 0) + hx2 + hy2);
      const dmin = Math.max(lo1, lo2) * 16;
      if (dmin < dmax) a[s10 + 1] += step(clamp(hpp + hmm - hmp - hpm, dmin, dmax), a[s10 + 1], 64);
    }
  }
}
