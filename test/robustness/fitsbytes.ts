/**
 * A tiny, independent FITS byte builder for the robustness corpus (deliberately NOT src/fits: the corpus
 * must be able to express files our own writer refuses to make). Cards are formatted by hand per the FITS
 * standard (80-char cards, 2880-byte blocks, big-endian data), and a seeded PRNG makes simulated fields.
 */

export const BLOCK = 2880;

export type CardValue = number | string | boolean;

/** One 80-character header card. Strings are quoted, numbers right-justified in columns 11-30. */
export function card(key: string, value?: CardValue, comment?: string): string {
  if (value === undefined) return key.padEnd(80).slice(0, 80);
  let v: string;
  if (typeof value === 'boolean') v = (value ? 'T' : 'F').padStart(20);
  else if (typeof value === 'number') v = (Number.isInteger(value) ? String(value) : value.toExponential(10).toUpperCase()).padStart(20);
  else v = `'${value.replace(/'/g, "''").padEnd(8)}'`.padEnd(20);
  const text = `${key.padEnd(8)}= ${v}${comment ? ` / ${comment}` : ''}`;
  return text.padEnd(80).slice(0, 80);
}

/** Header bytes: the cards, an END card (unless `end` is false), padded with spaces to a block. */
export function headerBytes(cards: string[], end = true): Uint8Array {
  const text = [...cards, ...(end ? ['END'.padEnd(80)] : [])].join('');
  const n = Math.max(1, Math.ceil(text.length / BLOCK)) * BLOCK;
  return new Uint8Array(Buffer.from(text.padEnd(n, ' '), 'latin1'));
}

/** Pad data bytes with zeros to a whole number of blocks. */
export function padData(b: Uint8Array): Uint8Array {
  const n = Math.ceil(b.length / BLOCK) * BLOCK;
  if (n === b.length) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Big-endian pixel bytes for BITPIX -32 (float32), 16 (int16) or 8 (uint8). */
export function pixelBytes(values: ArrayLike<number>, bitpix: -32 | 16 | 8): Uint8Array {
  const size = Math.abs(bitpix) / 8;
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (bitpix === -32) dv.setFloat32(i * 4, values[i], false);
    else if (bitpix === 16) dv.setInt16(i * 2, values[i], false);
    else dv.setUint8(i, values[i]);
  }
  return out;
}

export interface ImageOptions {
  bitpix?: -32 | 16 | 8;
  /** extra cards after the mandatory ones */
  extra?: string[];
  /** an IMAGE extension instead of a primary HDU */
  extension?: boolean;
}

/** A complete image HDU (header + padded data) of width x height pixels. */
export function imageHDU(values: ArrayLike<number>, width: number, height: number, o: ImageOptions = {}): Uint8Array {
  const bitpix = o.bitpix ?? -32;
  const cards = [
    o.extension ? card('XTENSION', 'IMAGE') : card('SIMPLE', true),
    card('BITPIX', bitpix),
    card('NAXIS', 2),
    card('NAXIS1', width),
    card('NAXIS2', height),
    ...(o.extension ? [card('PCOUNT', 0), card('GCOUNT', 1)] : [card('EXTEND', true)]),
    ...(o.extra ?? []),
  ];
  return concat([headerBytes(cards), padData(pixelBytes(values, bitpix))]);
}

/** A data-less primary HDU (NAXIS = 0) announcing extensions. */
export function emptyPrimary(extra: string[] = []): Uint8Array {
  return headerBytes([card('SIMPLE', true), card('BITPIX', 8), card('NAXIS', 0), card('EXTEND', true), ...extra]);
}

/** A binary-table extension with float64 columns (one value per row each). */
export function bintableHDU(columns: Record<string, ArrayLike<number>>, extname = 'TABLE'): Uint8Array {
  const names = Object.keys(columns);
  const nrows = names.length ? columns[names[0]].length : 0;
  const cards = [
    card('XTENSION', 'BINTABLE'),
    card('BITPIX', 8),
    card('NAXIS', 2),
    card('NAXIS1', 8 * names.length),
    card('NAXIS2', nrows),
    card('PCOUNT', 0),
    card('GCOUNT', 1),
    card('TFIELDS', names.length),
    ...names.flatMap((n, i) => [card(`TTYPE${i + 1}`, n), card(`TFORM${i + 1}`, 'D')]),
    card('EXTNAME', extname),
  ];
  const data = new Uint8Array(8 * names.length * nrows);
  const dv = new DataView(data.buffer);
  for (let r = 0; r < nrows; r++) names.forEach((n, c) => dv.setFloat64((r * names.length + c) * 8, columns[n][r], false));
  return concat([headerBytes(cards), padData(data)]);
}

/** mulberry32: a small deterministic PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded standard-normal deviates (Box-Muller). */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

export interface Star {
  x: number;
  y: number;
  flux: number;
}

/**
 * A simulated field: sky + Gaussian noise + circular Gaussian stars (sigma in pixels), 0-based centres.
 * Returns the pixels (row-major) and the list of stars (the truth).
 */
export function starField(width: number, height: number, o: { seed: number; sky?: number; noise?: number; stars?: number; sigma?: number }): { data: Float32Array; stars: Star[] } {
  const rand = prng(o.seed);
  const g = gaussian(rand);
  const sky = o.sky ?? 1000;
  const noise = o.noise ?? 10;
  const sigma = o.sigma ?? 1.5;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = sky + noise * g();
  const stars: Star[] = [];
  const margin = Math.ceil(5 * sigma);
  for (let k = 0; k < (o.stars ?? 0); k++) {
    stars.push({ x: margin + rand() * (width - 2 * margin), y: margin + rand() * (height - 2 * margin), flux: 2000 + rand() * 50000 });
  }
  const r = Math.ceil(5 * sigma);
  for (const s of stars) {
    const amp = s.flux / (2 * Math.PI * sigma * sigma);
    for (let y = Math.max(0, Math.floor(s.y) - r); y <= Math.min(height - 1, Math.floor(s.y) + r); y++) {
      for (let x = Math.max(0, Math.floor(s.x) - r); x <= Math.min(width - 1, Math.floor(s.x) + r); x++) {
        data[y * width + x] += amp * Math.exp(-((x - s.x) ** 2 + (y - s.y) ** 2) / (2 * sigma * sigma));
      }
    }
  }
  return { data, stars };
}

/** Byte offset of the first card whose keyword is `key` in the header starting at `start` (or -1). */
export function findCard(bytes: Uint8Array, key: string, start = 0): number {
  const want = key.padEnd(8);
  for (let o = start; o + 80 <= bytes.length; o += 80) {
    const k = Buffer.from(bytes.subarray(o, o + 8)).toString('latin1');
    if (k === want) return o;
    if (k === 'END     ') return -1;
  }
  return -1;
}

/** Copy of `bytes` with the card `key` (in the header at `start`) replaced by `replacement` (80 chars). */
export function replaceCard(bytes: Uint8Array, key: string, replacement: string, start = 0): Uint8Array {
  const o = findCard(bytes, key, start);
  if (o < 0) throw new Error(`card ${key} not found`);
  const out = new Uint8Array(bytes);
  out.set(Buffer.from(replacement.padEnd(80).slice(0, 80), 'latin1'), o);
  return out;
}
