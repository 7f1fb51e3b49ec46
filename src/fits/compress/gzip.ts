/**
 * GZIP_1 / GZIP_2 tile codecs of the FITS tiled-image convention.
 * GZIP_1: the tile's big-endian pixel bytes, gzip-compressed.
 * GZIP_2: the same bytes "shuffled" before compression: all most-significant bytes first, then
 * all second bytes, ..., which usually compresses better.
 */
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';

/**
 * Inflate a gzip (or zlib) stream, refusing to produce more than `maxBytes` bytes.
 * Throws RangeError on corrupt input or an oversize result.
 */
export function gunzipBounded(src: Uint8Array, maxBytes: number): Uint8Array {
  const limit = Math.max(1, maxBytes);
  try {
    const isGzip = src.length >= 2 && src[0] === 0x1f && src[1] === 0x8b;
    const out = isGzip ? gunzipSync(src, { maxOutputLength: limit }) : inflateSync(src, { maxOutputLength: limit });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new RangeError(`gzip: ${msg}`);
  }
}

/** Undo the GZIP_2 byte shuffle: `src` holds n values of `width` bytes grouped by byte significance. */
export function unshuffleBytes(src: Uint8Array, width: number): Uint8Array {
  if (width === 1) return src;
  const n = Math.floor(src.length / width);
  const out = new Uint8Array(n * width);
  for (let k = 0; k < width; k++) {
    const base = k * n;
    for (let i = 0, o = k; i < n; i++, o += width) out[o] = src[base + i];
  }
  return out;
}

/** Apply the GZIP_2 byte shuffle (inverse of unshuffleBytes). */
export function shuffleBytes(src: Uint8Array, width: number): Uint8Array {
  if (width === 1) return src;
  const n = Math.floor(src.length / width);
  const out = new Uint8Array(n * width);
  for (let k = 0; k < width; k++) {
    const base = k * n;
    for (let i = 0, o = k; i < n; i++, o += width) out[base + i] = src[o];
  }
  return out;
}

/** gzip-compress bytes (GZIP_1 tiles; shuffle first for GZIP_2). */
export function gzipBytes(src: Uint8Array, level = 6): Uint8Array {
  const out = gzipSync(src, { level });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
