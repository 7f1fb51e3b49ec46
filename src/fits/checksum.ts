/**
 * FITS checksum convention (FITS standard 4.0, appendix J): DATASUM is the 32-bit ones'-complement
 * sum of the data blocks (big-endian 32-bit words) as an unsigned decimal string; CHECKSUM is a
 * 16-character ASCII encoding of the complement of the header+data sum, chosen so that the whole
 * HDU then sums to -0 (0xFFFFFFFF).
 */
import type { FitsFile, Hdu } from './file.js';

const TWO32 = 4294967296;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Fold an arbitrary non-negative sum (< 2^53) to a 32-bit ones'-complement value. */
function fold32(s: number): number {
  while (s >= TWO32) s = (s % TWO32) + Math.floor(s / TWO32);
  return s;
}

/** Ones'-complement addition of two 32-bit sums. */
export function addSums(a: number, b: number): number {
  return fold32(a + b);
}

/**
 * Streaming ones'-complement sum over big-endian 32-bit words. Bytes may arrive in chunks of any
 * length; a trailing partial word is zero-padded by `value` (FITS units are whole blocks anyway).
 */
export class Checksum {
  // Sums of the high and low 16-bit halves of each word: exact in a double for up to ~2^37 words.
  private hi = 0;
  private lo = 0;
  private pending = new Uint8Array(4);
  private npending = 0;

  /** Add bytes to the sum. */
  add(bytes: Uint8Array): this {
    let i = 0;
    const n = bytes.length;
    while (this.npending > 0 && this.npending < 4 && i < n) this.pending[this.npending++] = bytes[i++]!;
    if (this.npending === 4) {
      this.addWord(this.pending[0]!, this.pending[1]!, this.pending[2]!, this.pending[3]!);
      this.npending = 0;
    }
    const start = i;
    const words = Math.floor((n - start) / 4);
    const abs = bytes.byteOffset + start;
    let hi = this.hi;
    let lo = this.lo;
    if (LITTLE_ENDIAN && abs % 4 === 0 && words > 0) {
      const u32 = new Uint32Array(bytes.buffer, abs, words);
      // Little-endian host view: bytes b0 b1 b2 b3 read as w = b0 | b1<<8 | b2<<16 | b3<<24.
      for (let k = 0; k < words; k++) {
        const w = u32[k]!;
        hi += ((w & 0xff) << 8) | ((w >>> 8) & 0xff);
        lo += ((w >>> 8) & 0xff00) | (w >>> 24);
      }
    } else {
      for (let k = 0, p = start; k < words; k++, p += 4) {
        hi += (bytes[p]! << 8) | bytes[p + 1]!;
        lo += (bytes[p + 2]! << 8) | bytes[p + 3]!;
      }
    }
    this.hi = hi;
    this.lo = lo;
    for (i = start + words * 4; i < n; i++) this.pending[this.npending++] = bytes[i]!;
    return this;
  }

  private addWord(b0: number, b1: number, b2: number, b3: number): void {
    this.hi += (b0 << 8) | b1;
    this.lo += (b2 << 8) | b3;
  }

  /** The 32-bit ones'-complement sum so far (unsigned). */
  get value(): number {
    let hi = this.hi;
    let lo = this.lo;
    if (this.npending > 0) {
      const p = this.pending;
      hi += (p[0]! << 8) | (this.npending > 1 ? p[1]! : 0);
      lo += ((this.npending > 2 ? p[2]! : 0) << 8);
    }
    // End-around carries: the carry out of lo goes into hi, and out of hi back into lo.
    for (;;) {
      const hc = Math.floor(hi / 65536);
      const lc = Math.floor(lo / 65536);
      if (hc === 0 && lc === 0) break;
      hi = (hi % 65536) + lc;
      lo = (lo % 65536) + hc;
    }
    return hi * 65536 + lo;
  }
}

/** 32-bit ones'-complement sum of bytes. */
export function onesComplementSum(bytes: Uint8Array): number {
  return new Checksum().add(bytes).value;
}

/** Characters the encoding avoids: ':' to '@' and '[' to '`'. */
function excluded(c: number): boolean {
  return (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60);
}

/**
 * Encode a 32-bit sum as the 16-character CHECKSUM string. With `complement` (the default, as written
 * in headers) the complement of the sum is encoded so that the HDU sums to -0.
 */
export function encodeChecksum(sum: number, complement = true): string {
  const value = complement ? (~sum >>> 0) : sum >>> 0;
  const asc = new Array<number>(16);
  for (let i = 0; i < 4; i++) {
    const byte = (value >>> (24 - 8 * i)) & 0xff;
    const q = Math.floor(byte / 4) + 0x30;
    const ch = [q + (byte % 4), q, q, q];
    // Move pairs of characters apart (keeping their sum) until none is punctuation.
    for (let changed = true; changed; ) {
      changed = false;
      for (let j = 0; j < 4; j += 2) {
        if (excluded(ch[j]!) || excluded(ch[j + 1]!)) {
          ch[j]!++;
          ch[j + 1]!--;
          changed = true;
        }
      }
    }
    for (let j = 0; j < 4; j++) asc[4 * j + i] = ch[j]!;
  }
  // Rotate right by one character so the encoded words line up with the card's 32-bit words.
  let out = '';
  for (let k = 0; k < 16; k++) out += String.fromCharCode(asc[(k + 15) % 16]!);
  return out;
}

/** DATASUM keyword value for a data sum. */
export function datasumString(sum: number): string {
  return String(sum >>> 0);
}

export type SumStatus = 'ok' | 'bad' | 'missing';
export interface ChecksumStatus {
  /** CHECKSUM: the whole HDU (header + data) sums to -0. */
  checksum: SumStatus;
  /** DATASUM: equals the data blocks' sum. */
  datasum: SumStatus;
}

/** Sum of an HDU's data blocks (padding included; a missing final padding counts as zeros), read in chunks. */
export function dataSum(file: FitsFile, h: Hdu): number {
  const sum = new Checksum();
  const end = Math.min(h.dataOffset + h.paddedDataByteLength, file.source.size);
  const CHUNK = 1 << 24;
  for (let pos = h.dataOffset; pos < end; pos += CHUNK) sum.add(file.readRange(h, pos, Math.min(CHUNK, end - pos)));
  return sum.value;
}

/** Verify an HDU's CHECKSUM and DATASUM keywords against its bytes. */
export function verifyChecksum(file: FitsFile, hdu: number | Hdu): ChecksumStatus {
  const h = typeof hdu === 'number' ? file.hdu(hdu) : hdu;
  const data = dataSum(file, h);
  const ds = h.header.get('DATASUM');
  let datasum: SumStatus = 'missing';
  if (ds !== undefined) datasum = typeof ds === 'string' && /^\s*\d+\s*$/.test(ds) && Number(ds) === data ? 'ok' : 'bad';
  let checksum: SumStatus = 'missing';
  if (h.header.has('CHECKSUM')) {
    const headerSum = onesComplementSum(file.readHeaderBytes(h));
    checksum = addSums(headerSum, data) === 0xffffffff ? 'ok' : 'bad';
  }
  return { checksum, datasum };
}
