/**
 * Rice coding as used by the FITS tiled-image convention (ZCMPTYPE = 'RICE_1').
 *
 * Stream layout (per tile): the first pixel verbatim as a big-endian integer of BYTEPIX bytes,
 * then for each block of BLOCKSIZE pixels (the last one may be shorter) an FS field of
 * FSBITS bits holding fs+1, followed by the block's differences (pixel minus previous pixel,
 * zig-zag mapped to unsigned: d >= 0 -> 2d, d < 0 -> -2d-1):
 *  - fs+1 == 0: low-entropy block, every difference is zero (nothing else stored);
 *  - fs == FSMAX: high-entropy block, each mapped difference stored verbatim in BBITS bits;
 *  - otherwise each mapped difference m is split as m >> fs (unary: that many 0 bits then a 1)
 *    and the low fs bits verbatim.
 * The first difference is always taken against the verbatim first pixel (so it is 0).
 * Pixel arithmetic wraps at the BYTEPIX width. Bits are packed MSB first.
 */

/** Per-BYTEPIX Rice parameters: bits of the FS field, largest "normal" fs, bits per raw value. */
interface RiceParams {
  fsBits: number;
  fsMax: number;
  bBits: number;
}

function riceParams(bytepix: number): RiceParams {
  switch (bytepix) {
    case 1:
      return { fsBits: 3, fsMax: 6, bBits: 8 };
    case 2:
      return { fsBits: 4, fsMax: 14, bBits: 16 };
    case 4:
      return { fsBits: 5, fsMax: 25, bBits: 32 };
    default:
      throw new RangeError(`Rice: unsupported BYTEPIX ${bytepix} (1, 2 or 4)`);
  }
}

/** Output of riceDecode: 32-bit for BYTEPIX 4, 16-bit (or wider) for 2, unsigned bytes (or wider) for 1. */
export type RiceOutput = Int32Array | Int16Array | Uint8Array;

/**
 * Decode a Rice stream of `npix` pixels into `out[0..npix)`.
 * BYTEPIX 4 gives signed 32-bit values, 2 gives signed 16-bit values, 1 gives unsigned bytes.
 * Throws RangeError on a truncated or inconsistent stream (never loops more than the stream allows).
 */
export function riceDecode(src: Uint8Array, npix: number, bytepix: number, blockSize: number, out: RiceOutput): void {
  const { fsBits, fsMax, bBits } = riceParams(bytepix);
  if (!(blockSize > 0)) throw new RangeError(`Rice: invalid block size ${blockSize}`);
  if (out.length < npix) throw new RangeError('Rice: output buffer too small');
  const len = src.length;
  if (npix === 0) return;
  if (len < bytepix) throw new RangeError('Rice: stream shorter than its first pixel');
  // Arithmetic wraps at the pixel width: shift left then arithmetic-shift back (or mask bytes).
  const shift = 32 - 8 * bytepix;
  const unsignedBytes = bytepix === 1;
  let last = 0;
  for (let k = 0; k < bytepix; k++) last = (last << 8) | src[k];
  last = unsignedBytes ? last & 0xff : (last << shift) >> shift;

  let pos = bytepix; // next unread byte
  let buf = 0; // the low `nb` bits are unread stream bits; bits above are zero
  let nb = 0;
  // Reads past the end yield zero bytes (src[len] is undefined -> 0 in bit operations); `pos` is
  // checked after each block and inside the unary loop, so a corrupt stream fails fast.
  for (let i = 0; i < npix; ) {
    while (nb < fsBits) {
      buf = (buf << 8) | src[pos++];
      nb += 8;
    }
    nb -= fsBits;
    const fs = (buf >>> nb) - 1;
    buf &= (1 << nb) - 1;
    const end = i + blockSize < npix ? i + blockSize : npix;
    if (fs < 0) {
      for (; i < end; i++) out[i] = last;
    } else if (fs < fsMax) {
      const scale = 2 ** fs;
      for (; i < end; i++) {
        // Unary part: count zero bits up to the next 1 bit.
        let nzero = 0;
        while (buf === 0) {
          if (pos >= len) throw new RangeError('Rice: stream truncated');
          nzero += nb;
          buf = src[pos++];
          nb = 8;
        }
        const top = 31 - Math.clz32(buf);
        nzero += nb - 1 - top;
        nb = top;
        buf ^= 1 << top;
        // Low fs bits (nb + 8 <= 31 while refilling since nb < fs <= 24).
        while (nb < fs) {
          buf = (buf << 8) | src[pos++];
          nb += 8;
        }
        nb -= fs;
        const low = buf >>> nb;
        buf &= (1 << nb) - 1;
        const m = (nzero * scale + low) >>> 0;
        const d = m & 1 ? ~(m >>> 1) : m >>> 1;
        last = unsignedBytes ? (last + d) & 0xff : ((last + d) << shift) >> shift;
        out[i] = last;
      }
    } else if (fs === fsMax) {
      for (; i < end; i++) {
        let m = 0;
        for (let k = bBits; k > 0; k -= 8) {
          // One byte at a time keeps `buf` below 2^16.
          buf = (buf << 8) | src[pos++];
          m = m * 256 + ((buf >>> nb) & 0xff);
          buf &= (1 << nb) - 1;
        }
        m >>>= 0;
        const d = m & 1 ? ~(m >>> 1) : m >>> 1;
        last = unsignedBytes ? (last + d) & 0xff : ((last + d) << shift) >> shift;
        out[i] = last;
      }
    } else {
      throw new RangeError(`Rice: invalid fs ${fs} in block at pixel ${i}`);
    }
    if (pos > len) throw new RangeError('Rice: stream truncated');
  }
}

/**
 * Rice-encode `npix` integers (already in the BYTEPIX range: signed for 2/4, unsigned for 1).
 * Returns the compressed bytes. Used for writing RICE_1 tiles and for codec round-trip tests.
 */
export function riceEncode(values: Int32Array, npix: number, bytepix: number, blockSize: number): Uint8Array {
  const { fsBits, fsMax, bBits } = riceParams(bytepix);
  // Worst case: every block high-entropy plus its FS field, plus the first value.
  const cap = bytepix + Math.ceil(npix / blockSize) * Math.ceil(fsBits / 8 + 1) + npix * (bytepix + 1) + 8;
  const dst = new Uint8Array(cap);
  let pos = 0;
  let acc = 0; // pending bits in the low `nacc` bits (nacc < 8 between writes)
  let nacc = 0;
  const put = (v: number, k: number): void => {
    // k <= 24 per call keeps acc within 32 bits.
    acc = ((acc << k) | (v & ((1 << k) - 1))) >>> 0;
    nacc += k;
    while (nacc >= 8) {
      nacc -= 8;
      dst[pos++] = (acc >>> nacc) & 0xff;
    }
    acc &= (1 << nacc) - 1;
  };
  const putBits = (v: number, k: number): void => {
    if (k > 16) {
      put(Math.floor(v / 65536), k - 16);
      put(v & 0xffff, 16);
    } else put(v, k);
  };
  const shift = bytepix === 4 ? 0 : bytepix === 2 ? 16 : 24;
  const mask = bytepix === 4 ? 0xffffffff : bytepix === 2 ? 0xffff : 0xff;
  if (npix === 0) return dst.subarray(0, 0);
  let last = values[0];
  for (let k = bytepix - 1; k >= 0; k--) dst[pos++] = ((last & mask) >>> (8 * k)) & 0xff;
  const mapped = new Uint32Array(blockSize);
  for (let i = 0; i < npix; i += blockSize) {
    const n = Math.min(blockSize, npix - i);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const v = values[i + j];
      // Difference wrapped to the pixel width, then zig-zag mapped.
      let d = v - last;
      d = bytepix === 4 ? d | 0 : bytepix === 2 ? (d << shift) >> shift : (d << 24) >> 24;
      last = v;
      const m = d < 0 ? (-2 * d - 1) >>> 0 : (2 * d) >>> 0;
      mapped[j] = m;
      sum += m;
    }
    if (sum === 0) {
      put(0, fsBits);
      continue;
    }
    // Choose fs so that 2^fs is about the mean mapped difference.
    const mean = sum / n;
    let fs = 0;
    while (fs < fsMax && 2 ** (fs + 1) <= mean) fs++;
    if (fs >= fsMax) {
      put(fsMax + 1, fsBits);
      for (let j = 0; j < n; j++) putBits(mapped[j], bBits);
      continue;
    }
    put(fs + 1, fsBits);
    for (let j = 0; j < n; j++) {
      const m = mapped[j];
      let top = Math.floor(m / 2 ** fs);
      while (top >= 16) {
        put(0, 16);
        top -= 16;
      }
      put(1, top + 1);
      if (fs > 0) putBits(m % 2 ** fs, fs);
    }
  }
  if (nacc > 0) {
    dst[pos++] = (acc << (8 - nacc)) & 0xff;
    acc = 0;
    nacc = 0;
  }
  return dst.slice(0, pos);
}
