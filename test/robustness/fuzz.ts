/**
 * Seeded mutations of FITS files for the CLI fuzz tests: header card values set to hostile values, random
 * header and data bytes, truncation, a removed END card, appended or inserted bytes, duplicated blocks.
 * The layout (header and data ranges of each HDU) is parsed here independently of src/fits, leniently.
 */
import { readFileSync } from 'node:fs';
import { BLOCK, bintableHDU, card, concat, emptyPrimary, imageHDU, prng, starField } from './fitsbytes.js';
import { hasShared, sharedPath } from '../helpers/shared.js';

export interface Region {
  header: [number, number];
  data: [number, number];
}

/** Header/data byte ranges of each HDU, as far as the file can be parsed. */
export function layout(b: Uint8Array): Region[] {
  const out: Region[] = [];
  let off = 0;
  while (off + BLOCK <= b.length && out.length < 64) {
    const cards = new Map<string, string>();
    let end = -1;
    for (let o = off; o + 80 <= b.length; o += 80) {
      const c = Buffer.from(b.subarray(o, o + 80)).toString('latin1');
      const k = c.slice(0, 8).trim();
      if (k === 'END') {
        end = o + 80;
        break;
      }
      if (c[8] === '=') cards.set(k, c.slice(10).split('/')[0].trim());
    }
    if (end < 0) break;
    const hEnd = Math.ceil(end / BLOCK) * BLOCK;
    const num = (k: string, d: number) => (cards.has(k) ? Number(cards.get(k)) : d);
    const naxis = num('NAXIS', 0);
    let n = naxis > 0 ? 1 : 0;
    for (let i = 1; i <= naxis; i++) n *= num(`NAXIS${i}`, 0);
    const bytes = (Math.abs(num('BITPIX', 8)) / 8) * num('GCOUNT', 1) * (n + num('PCOUNT', 0));
    if (!Number.isFinite(bytes) || bytes < 0) break;
    const dEnd = Math.min(b.length, hEnd + Math.ceil(bytes / BLOCK) * BLOCK);
    out.push({ header: [off, hEnd], data: [hEnd, dEnd] });
    off = dEnd;
  }
  return out.length ? out : [{ header: [0, Math.min(b.length, BLOCK)], data: [Math.min(b.length, BLOCK), b.length] }];
}

const KEYS = ['SIMPLE', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'NAXIS3', 'EXTEND', 'XTENSION', 'PCOUNT', 'GCOUNT', 'BSCALE', 'BZERO', 'BLANK', 'ZIMAGE', 'ZBITPIX', 'ZNAXIS', 'ZNAXIS1', 'ZNAXIS2', 'ZTILE1', 'ZTILE2', 'ZCMPTYPE', 'ZNAME1', 'ZVAL1', 'ZVAL2', 'ZQUANTIZ', 'ZDITHER0', 'TFIELDS', 'TFORM1', 'TFORM2', 'TTYPE1', 'THEAP', 'CTYPE1', 'CTYPE2', 'CD1_1', 'CD2_2', 'CRPIX1', 'GAIN', 'SATURATE', 'VISIT', 'DETECTOR', 'CCDNUM', 'EXPNUM'];
const VALUES = ['0', '-1', '1', '2', '3', '7', '8', '16', '-32', '-64', '65536', '2147483647', '-2147483648', '1000000000000', '99999999999999999999', 'NaN', '1E999', '-0.0', '1.5', "'abc'", "'", 'T', 'F', '', "'RICE_1'", "'GZIP_1'", "'HCOMPRESS_1'", "'PLIO_1'", "'NOCOMPRESS'", "'1PB(99999999)'", "'RA---XYZ'", "'../../x'"];

export interface Mutant {
  bytes: Uint8Array;
  /** what was done, for failure messages */
  what: string[];
}

/** Apply 1-3 seeded mutations to `src`. */
export function mutate(src: Uint8Array, seed: number): Mutant {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  let b: Uint8Array = new Uint8Array(src);
  const what: string[] = [];
  const nOps = 1 + int(3);
  for (let k = 0; k < nOps; k++) {
    const regs = layout(b);
    const reg = pick(regs);
    const op = pick(['card', 'card', 'card', 'header', 'data', 'data', 'truncate', 'noend', 'append', 'insert', 'dupe'] as const);
    switch (op) {
      case 'card': {
        const offs: number[] = [];
        for (let o = reg.header[0]; o < reg.header[1]; o += 80) if (KEYS.includes(Buffer.from(b.subarray(o, o + 8)).toString('latin1').trim())) offs.push(o);
        if (!offs.length) break;
        const o = pick(offs);
        const key = Buffer.from(b.subarray(o, o + 8)).toString('latin1').trim();
        const v = pick(VALUES);
        b.set(Buffer.from(`${key.padEnd(8)}= ${v.padStart(20)}`.padEnd(80).slice(0, 80), 'latin1'), o);
        what.push(`${key} = ${v}`);
        break;
      }
      case 'header':
      case 'data': {
        const [lo, hi] = op === 'header' ? reg.header : reg.data;
        if (hi <= lo) break;
        const n = 1 + int(op === 'header' ? 4 : 64);
        for (let i = 0; i < n; i++) b[lo + int(hi - lo)] = int(256);
        what.push(`${n} random ${op} bytes`);
        break;
      }
      case 'truncate': {
        const at = int(b.length);
        b = b.subarray(0, at);
        what.push(`truncated at ${at}`);
        break;
      }
      case 'noend': {
        for (let o = reg.header[0]; o < reg.header[1]; o += 80) {
          if (Buffer.from(b.subarray(o, o + 8)).toString('latin1') === 'END     ') {
            b.fill(0x20, o, o + 80);
            what.push('END removed');
            break;
          }
        }
        break;
      }
      case 'append': {
        const n = 1 + int(5000);
        b = concat([b, Uint8Array.from({ length: n }, () => int(256))]);
        what.push(`${n} bytes appended`);
        break;
      }
      case 'insert': {
        const at = reg.header[0] + 80 * int(Math.max(1, (reg.header[1] - reg.header[0]) / 80));
        const ins = Buffer.from(pick([card('NAXIS', 3), card('NAXIS3', 2), card('BITPIX', 16), card('XTENSION', 'IMAGE'), card('END'), 'CONTINUE  ' + "'&'".padEnd(70), ' '.repeat(80)]), 'latin1');
        b = concat([b.subarray(0, at), ins, b.subarray(at)]);
        what.push(`80 bytes inserted at ${at}`);
        break;
      }
      case 'dupe': {
        const nb = Math.floor(b.length / BLOCK);
        if (!nb) break;
        const i = int(nb);
        b = concat([b.subarray(0, (i + 1) * BLOCK), b.subarray(i * BLOCK, (i + 1) * BLOCK), b.subarray((i + 1) * BLOCK)]);
        what.push(`block ${i} duplicated`);
        break;
      }
    }
  }
  if (!what.length) {
    b = b.subarray(0, Math.floor(b.length / 2));
    what.push('truncated to half');
  }
  return { bytes: b, what };
}

export interface FuzzSource {
  name: string;
  bytes: Uint8Array;
}

const REAL = ['real/sep/image.fits', 'real/decam/c4d_171113_060340_ooi_r_ls9.N6.fits', 'real/mosaic3/k4m_160319_075112_ooi_zd_ls9.CCD3.fits', 'real/decam/c4d_170316_062107_ooi_z_ls9.N2.fits'];

/** Simulated files (always) and small real files from ../shared/data (when present). */
export function fuzzSources(): { sources: FuzzSource[]; real: boolean } {
  const field = starField(160, 128, { seed: 31, stars: 8 }).data;
  const i16 = Int16Array.from(field, (v) => Math.round((v - 1000) / 0.5));
  const sources: FuzzSource[] = [
    { name: 'sim-float32', bytes: imageHDU(field, 160, 128, { extra: [card('VISIT', 9), card('DETECTOR', 1), card('GAIN', 2.5), card('SATURATE', 60000)] }) },
    { name: 'sim-int16-bscale', bytes: imageHDU(i16, 160, 128, { bitpix: 16, extra: [card('BSCALE', 0.5), card('BZERO', 1000), card('BLANK', -32768), card('VISIT', 9), card('DETECTOR', 2)] }) },
    {
      name: 'sim-mef',
      bytes: concat([
        emptyPrimary([card('VISIT', 9)]),
        imageHDU(field, 160, 128, { extension: true, extra: [card('CCDNUM', 3)] }),
        bintableHDU({ RA: [1, 2, 3], DEC: [4, 5, 6] }),
        imageHDU(starField(160, 128, { seed: 32, stars: 5 }).data, 160, 128, { extension: true, extra: [card('CCDNUM', 4)] }),
      ]),
    },
  ];
  if (!hasShared) return { sources, real: false };
  for (const rel of REAL) sources.push({ name: rel, bytes: new Uint8Array(readFileSync(sharedPath(rel))) });
  return { sources, real: true };
}
