/**
 * Seeded fuzz test: 2,000 mutated copies of small real FITS files (byte flips, truncations, header
 * edits such as NAXIS1 = 999999999 or BITPIX = 7, removed END, non-ASCII bytes, gzip wrapping),
 * made in memory. Each must be read or rejected with FitsError within 1 s: never another exception
 * type, never a hang, never a large allocation. Synthetic files are used when ../shared is absent.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import {
  FitsError,
  FitsFile,
  fitsBytes,
  imageHdu,
  readImage,
  readImageRows,
  verifyChecksum,
  Header,
} from '../src/fits/index.js';
import { hasShared, sharedPath } from './helpers/shared.js';

const N_MUTANTS = 2000;
const SEED = 0x5eed1234;

/** mulberry32: small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function syntheticFiles(): Uint8Array[] {
  const img = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i / 7) * 100);
  const i16 = Int16Array.from({ length: 40 * 30 }, (_, i) => (i * 37) % 3000);
  const tab = new Header()
    .set('XTENSION', 'BINTABLE')
    .set('BITPIX', 8)
    .set('NAXIS', 2)
    .set('NAXIS1', 8)
    .set('NAXIS2', 4)
    .set('PCOUNT', 16)
    .set('GCOUNT', 1)
    .set('TFIELDS', 1)
    .set('TFORM1', '1PJ(2)');
  return [
    fitsBytes([imageHdu(img, { width: 64 })]),
    fitsBytes([
      imageHdu(new Float32Array(0), { axes: [] }),
      imageHdu(i16, { width: 40, bscale: 0.5, bzero: 100, blank: -32768, extname: 'SCI' }),
      { header: tab, data: new Uint8Array(48) },
      imageHdu(Uint16Array.from(i16), { width: 40, extname: 'DQ' }),
    ]),
  ];
}

function sources(): { name: string; bytes: Uint8Array }[] {
  const out = syntheticFiles().map((bytes, i) => ({ name: `synthetic-${i}`, bytes }));
  if (!hasShared) {
    console.warn('fuzz: ../shared/data absent, mutating synthetic files only');
    return out;
  }
  const rels = [
    'real/sep/image.fits',
    'real/decam/c4d_170316_062107_ood_z_ls9.N2.fits',
    'real/decam/c4d_170316_062107_ooi_z_ls9.N2.fits',
    'real/decam/c4d_171113_060340_ooi_r_ls9.N6.fits',
    'real/decam/chunk-03586.fits',
    'real/mosaic3/k4m_160319_075112_ood_zd_ls9.CCD3.fits',
  ];
  for (const rel of rels) {
    const p = sharedPath(rel);
    if (fs.existsSync(p)) out.push({ name: rel, bytes: new Uint8Array(fs.readFileSync(p)) });
  }
  return out;
}

const EDITS: [RegExp, string][] = [
  [/^NAXIS1  =/, 'NAXIS1  =            999999999'],
  [/^NAXIS2  =/, 'NAXIS2  =           2147483647'],
  [/^NAXIS1  =/, 'NAXIS1  =                   -5'],
  [/^BITPIX  =/, 'BITPIX  =                    7'],
  [/^BITPIX  =/, "BITPIX  = 'sixteen'"],
  [/^NAXIS   =/, 'NAXIS   =                 1000'],
  [/^NAXIS   =/, 'NAXIS   =                    3'],
  [/^NAXIS   =/, 'NAXIS   =                    0'],
  [/^PCOUNT  =/, 'PCOUNT  =  9000000000000000000'],
  [/^PCOUNT  =/, 'PCOUNT  =                   -1'],
  [/^GCOUNT  =/, 'GCOUNT  =                    0'],
  [/^GCOUNT  =/, 'GCOUNT  =              1000000'],
  [/^THEAP   =|^PCOUNT  =/, 'THEAP   =           4000000000'],
  [/^BSCALE  =|^BZERO   =|^EXTNAME =/, 'BSCALE  =                  0.0'],
  [/^BZERO   =|^EXTNAME =/, "BZERO   = 'abc'"],
  [/^BLANK   =|^EXTNAME =/, 'BLANK   =                  1.5'],
  [/^ZNAXIS1 =/, 'ZNAXIS1 =           1000000000'],
  [/^ZBITPIX =/, 'ZBITPIX =                   13'],
  [/^ZTILE2  =|^ZTILE1  =/, 'ZTILE1  =                    0'],
  [/^XTENSION=/, "XTENSION= 'FOOBAR  '"],
  [/^END {77}$/, ' '.repeat(80)],
  [/^SIMPLE  =/, 'SIMPLE  = F'],
  [/^[A-Z]/, "BADSTR  = 'unterminated"],
  [/^[A-Z]/, 'BADVAL  = 12abc'],
  [/^[A-Z]/, 'lower   =                    1'],
  [/^[A-Z]/, "CONTINUE  'dangling&'"],
  [/^[A-Z]/, 'HIERARCH A B C = 5 / hierarch'],
];

/** Apply one random mutation (or a few) to a copy of `src`. */
function mutate(src: Uint8Array, r: () => number): { bytes: Uint8Array; what: string } {
  const pick = (n: number) => Math.floor(r() * n);
  const kind = pick(6);
  let b = new Uint8Array(src);
  // Card starts of the first few header blocks (headers are where parsing decisions happen).
  const headerLimit = Math.min(b.length, 2880 * 12);
  const cardAt = (re: RegExp): number => {
    const starts: number[] = [];
    for (let o = 0; o + 80 <= headerLimit; o += 80) {
      if (re.test(String.fromCharCode(...b.subarray(o, o + 80)))) starts.push(o);
    }
    return starts.length ? starts[pick(starts.length)]! : -1;
  };
  switch (kind) {
    case 0: {
      const n = 1 + pick(16);
      for (let i = 0; i < n; i++) b[r() < 0.7 ? pick(headerLimit) : pick(b.length)] = pick(256);
      return { bytes: b, what: `flip ${n} bytes` };
    }
    case 1: {
      const len = pick(b.length);
      return { bytes: b.subarray(0, len), what: `truncate to ${len}` };
    }
    case 2:
    case 3: {
      const [re, text] = EDITS[pick(EDITS.length)]!;
      const at = cardAt(re);
      if (at >= 0) for (let i = 0; i < 80; i++) b[at + i] = i < text.length ? text.charCodeAt(i) : 0x20;
      return { bytes: b, what: `edit ${text.trim().slice(0, 30)} @${at}` };
    }
    case 4: {
      const at = pick(headerLimit);
      b[at] = 0x80 + pick(128);
      return { bytes: b, what: `non-ASCII @${at}` };
    }
    default: {
      // gzip-wrapped, possibly truncated or with a flipped byte
      const gz = zlib.gzipSync(b, { level: 1 });
      b = new Uint8Array(gz);
      const t = pick(3);
      if (t === 1) b = b.subarray(0, pick(b.length));
      if (t === 2) b[10 + pick(b.length - 10)] ^= 1 + pick(255);
      return { bytes: b, what: `gzip variant ${t}` };
    }
  }
}

/** Read everything a user might read from the file. */
function exercise(bytes: Uint8Array, name: string): void {
  const f = FitsFile.fromBytes(bytes, { name, maxGunzipBytes: 64 * 1024 * 1024 });
  for (const h of f.hdus) {
    for (const c of h.header.cards) void c.value;
    h.header.getNumber('BSCALE');
    verifyChecksum(f, h);
    if ((h.type === 'image' && h.dataByteLength > 0) || h.type === 'compressed-image') {
      const img = readImage(f, h.index);
      readImage(f, h.index, { as: 'native' });
      if (img.height > 2) readImageRows(f, h.index, 1, img.height - 2);
    }
  }
}

describe('FITS fuzz', () => {
  it(`${N_MUTANTS} mutants: read or FitsError within 1 s each`, () => {
    const srcs = sources();
    expect(srcs.length).toBeGreaterThan(1);
    const r = rng(SEED);
    const counts = { read: 0, rejected: 0 };
    const problems = new Map<string, number>();
    let slowest = 0;
    let slowestWhat = '';
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    for (let i = 0; i < N_MUTANTS; i++) {
      const src = srcs[i % srcs.length]!;
      const { bytes, what } = mutate(src.bytes, r);
      const name = `mutant-${i}`;
      const t0 = performance.now();
      try {
        exercise(bytes, name);
        counts.read++;
      } catch (e) {
        if (!(e instanceof FitsError)) {
          throw new Error(`${src.name} ${what}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
        }
        expect(e.message.split('\n').length, e.message).toBe(1);
        expect(e.message.startsWith(name), e.message).toBe(true);
        counts.rejected++;
        const key = e.problem.replace(/-?\d[\d.e+]*/g, 'N').slice(0, 60);
        problems.set(key, (problems.get(key) ?? 0) + 1);
      }
      const dt = performance.now() - t0;
      if (dt > slowest) {
        slowest = dt;
        slowestWhat = `${src.name} ${what}`;
      }
      if ((i & 63) === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    const top = [...problems.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(
      `fuzz: ${counts.read} read, ${counts.rejected} rejected; slowest ${slowest.toFixed(1)} ms (${slowestWhat}); ` +
        `rss growth ${((rssMax - rss0) / 1e6).toFixed(0)} MB\n` +
        top.map(([k, n]) => `  ${n} x ${k}`).join('\n'),
    );
    expect(counts.read + counts.rejected).toBe(N_MUTANTS);
    expect(counts.rejected).toBeGreaterThan(N_MUTANTS / 10);
    expect(counts.read).toBeGreaterThan(N_MUTANTS / 10);
    expect(slowest).toBeLessThan(1000);
    expect(rssMax - rss0).toBeLessThan(1024 * 1024 * 1024);
  });
});
