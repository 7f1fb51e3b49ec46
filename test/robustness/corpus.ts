/**
 * The bad-input corpus of the robustness harness, made at test time (no committed binaries):
 *   npx tsx test/robustness/corpus.ts OUTDIR      writes the files and prints the case list
 * Each case names the CLI arguments, the file an error must name, and the expected outcome:
 *   'error'  exit 2, one stderr line `lsst-quick: error: <file>: <problem>`, no output left behind;
 *   'empty'  exit 0, a valid catalog with 0 rows and every column, and a warning on stderr;
 *   'ok'     exit 0 with a catalog (legal input that the pipeline must simply handle).
 * The tile-compressed cases are made with cfitsio's fpack (skipped visibly when it is missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLOCK, bintableHDU, card, concat, emptyPrimary, headerBytes, imageHDU, padData, pixelBytes, prng, replaceCard, starField } from './fitsbytes.js';

export type Outcome = 'error' | 'empty' | 'ok';

export interface CorpusCase {
  name: string;
  /** CLI arguments (file names relative to the corpus directory); the harness adds -o */
  args: string[];
  outcome: Outcome;
  /** file an error message must name (default: the first argument) */
  blame?: string;
  /** the problem an error message (or the warning of an 'empty' case) must state */
  problem?: RegExp;
  /** why the case cannot run here (e.g. fpack missing): reported as a visible skip */
  skip?: string;
}

const W = 200;
const H = 160;

/** A small field with 12 bright stars (the base of most cases). */
export function baseField(seed = 7): Float32Array {
  return starField(W, H, { seed, stars: 12, sky: 1000, noise: 10 }).data;
}

export function fpackAvailable(): boolean {
  return spawnSync('fpack', ['-V'], { encoding: 'utf8' }).error === undefined;
}

/** Start of the heap of the first extension of a tile-compressed file made by fpack. */
function heapRange(bytes: Uint8Array): { start: number; end: number } {
  const text = Buffer.from(bytes).toString('latin1');
  let off = 0;
  // skip the primary header (NAXIS = 0)
  while (!/^END {77}/.test(text.slice(off, off + 80)) || off % 80) off += 80;
  const ext = Math.ceil((off + 80) / BLOCK) * BLOCK;
  const num = (k: string): number | undefined => {
    for (let o = ext; o < bytes.length; o += 80) {
      const c = text.slice(o, o + 80);
      if (c.startsWith('END ')) return undefined;
      if (c.startsWith(k.padEnd(8) + '=')) return Number(c.slice(10, 30).trim());
    }
    return undefined;
  };
  let end = ext;
  while (!text.slice(end, end + 80).startsWith('END ')) end += 80;
  const dataStart = Math.ceil((end + 80) / BLOCK) * BLOCK;
  const rowBytes = num('NAXIS1')! * num('NAXIS2')!;
  const heapStart = dataStart + (num('THEAP') ?? rowBytes);
  return { start: heapStart, end: dataStart + rowBytes + num('PCOUNT')! };
}

/** fpack `src` with `flags` into `dst`, then overwrite 48 heap bytes in the middle of the heap. */
export function corruptTile(dir: string, src: string, dst: string, flags: string[], seed: number): void {
  const tmp = path.join(dir, `${dst}.tmp.fz`);
  const r = spawnSync('fpack', [...flags, '-O', tmp, path.join(dir, src)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fpack failed: ${r.stderr}`);
  const bytes = new Uint8Array(readFileSync(tmp));
  const { start, end } = heapRange(bytes);
  const rand = prng(seed);
  const mid = start + Math.floor((end - start) / 2);
  for (let i = 0; i < 48; i++) bytes[mid + i] = Math.floor(rand() * 256);
  writeFileSync(path.join(dir, dst), bytes);
  spawnSync('rm', ['-f', tmp]);
}

/** Write every corpus file into `dir` and return the cases. */
export function makeCorpus(dir: string): CorpusCase[] {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, bytes: Uint8Array | string): string => {
    writeFileSync(path.join(dir, name), bytes);
    return name;
  };
  const cases: CorpusCase[] = [];
  const base = baseField();
  const good = imageHDU(base, W, H);
  put('good.fits', good);
  const int16 = Int16Array.from(base, (v) => Math.min(32767, Math.round(v)));
  put('good16.fits', imageHDU(int16, W, H, { bitpix: 16 }));

  // --- files that are not (valid) FITS: exit 2 naming the file
  cases.push({ name: 'empty file', args: [put('empty.fits', new Uint8Array(0))], outcome: 'error', problem: /empty/i });
  cases.push({ name: 'non-FITS file', args: [put('notfits.fits', 'This is a plain text file, not FITS.\n'.repeat(100))], outcome: 'error', problem: /not a FITS|SIMPLE/i });
  cases.push({ name: 'PNG bytes named .fits', args: [put('png.fits', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(3000).fill(0)]))], outcome: 'error', problem: /not a FITS|SIMPLE/i });
  cases.push({ name: 'truncated header', args: [put('trunc-header.fits', good.subarray(0, 1000))], outcome: 'error', problem: /truncat|END|header/i });
  cases.push({ name: 'truncated data', args: [put('trunc-data.fits', good.subarray(0, BLOCK + (W * H * 4) / 2))], outcome: 'error', problem: /truncat|short|data/i });
  cases.push({ name: 'missing END', args: [put('no-end.fits', concat([headerBytes([card('SIMPLE', true), card('BITPIX', -32), card('NAXIS', 2), card('NAXIS1', W), card('NAXIS2', H)], false), padData(pixelBytes(base, -32))]))], outcome: 'error', problem: /END/ });
  const huge = replaceCard(replaceCard(good, 'NAXIS1', card('NAXIS1', 1_000_000)), 'NAXIS2', card('NAXIS2', 1_000_000));
  cases.push({ name: 'NAXIS claiming 10^12 pixels', args: [put('huge-naxis.fits', huge)], outcome: 'error', problem: /truncat|large|size|bytes/i });
  cases.push({ name: 'BITPIX 7', args: [put('bitpix7.fits', replaceCard(good, 'BITPIX', card('BITPIX', 7)))], outcome: 'error', problem: /BITPIX/ });
  cases.push({ name: 'negative NAXIS1', args: [put('neg-naxis.fits', replaceCard(good, 'NAXIS1', card('NAXIS1', -5)))], outcome: 'error', problem: /NAXIS/ });
  cases.push({ name: 'directory instead of a file', args: [(mkdirSync(path.join(dir, 'adir.fits'), { recursive: true }), 'adir.fits')], outcome: 'error', problem: /directory/i });
  cases.push({ name: 'missing file', args: ['does-not-exist.fits'], outcome: 'error', problem: /no such file|not found|cannot/i });

  // --- legal images with nothing to find: exit 0, empty catalog, a warning
  cases.push({ name: 'NaN-only image', args: [put('nan.fits', imageHDU(new Float32Array(W * H).fill(NaN), W, H))], outcome: 'empty', problem: /no finite pixels/ });
  cases.push({ name: 'Inf-only image', args: [put('inf.fits', imageHDU(new Float32Array(W * H).fill(Infinity), W, H))], outcome: 'empty', problem: /no finite pixels/ });
  cases.push({ name: 'constant image', args: [put('constant.fits', imageHDU(new Float32Array(W * H).fill(1234.5), W, H))], outcome: 'empty', problem: /constant image/ });
  cases.push({ name: 'image with no sources (pure noise)', args: [put('noise.fits', imageHDU(starField(W, H, { seed: 11, stars: 0 }).data, W, H))], outcome: 'empty', problem: /no sources above the detection threshold/ });
  cases.push({ name: 'all-saturated image', args: [put('saturated.fits', imageHDU(new Int16Array(W * H).fill(32000), W, H, { bitpix: 16, extra: [card('SATURATE', 30000)] }))], outcome: 'empty', problem: /every pixel is saturated/ });
  cases.push({ name: '1x1 image', args: [put('one-pixel.fits', imageHDU(new Float32Array([42]), 1, 1))], outcome: 'empty', problem: /only 1 pixel/ });

  // --- bad pixels inside a normal field: 80 NaN (must be ignored) or 80 +Inf (hot pixels written as Inf)
  const holes = (v: number) => {
    const d = Float32Array.from(base);
    for (let y = 10; y < 12; y++) d.fill(v, y * W + 10, y * W + 50);
    return d;
  };
  cases.push({ name: 'field with 80 NaN pixels', args: [put('some-nan.fits', imageHDU(holes(NaN), W, H))], outcome: 'ok' });
  cases.push({ name: 'field with 80 +Inf pixels', args: [put('some-inf.fits', imageHDU(holes(Infinity), W, H))], outcome: 'ok' });

  // --- legal odd shapes: must simply work
  const thin = starField(3, 100_000, { seed: 3, stars: 0 }).data;
  cases.push({ name: '3x100000 image', args: [put('thin.fits', imageHDU(thin, 3, 100_000))], outcome: 'ok' });
  cases.push({ name: 'MEF: empty primary, image, table', args: [put('mef-image-table.fits', concat([emptyPrimary(), imageHDU(base, W, H, { extension: true }), bintableHDU({ RA: [1, 2, 3], DEC: [4, 5, 6] })]))], outcome: 'ok' });

  // --- structure problems
  cases.push({ name: 'MEF: empty primary and a table extension only', args: [put('mef-table.fits', concat([emptyPrimary(), bintableHDU({ RA: [1, 2], DEC: [3, 4] })]))], outcome: 'error', problem: /no image/i });
  put('weight-small.fits', imageHDU(new Float32Array(100 * 80).fill(1), 100, 80));
  cases.push({ name: 'weight map of the wrong shape', args: ['good.fits', '--weight', 'weight-small.fits'], blame: 'weight-small.fits', outcome: 'error', problem: /100x80|shape|size/i });
  put('weight-2hdu.fits', concat([emptyPrimary(), imageHDU(new Float32Array(W * H).fill(1), W, H, { extension: true }), imageHDU(new Float32Array(W * H).fill(1), W, H, { extension: true })]));
  cases.push({ name: 'weight map with a different HDU count', args: ['good.fits', '--weight', 'weight-2hdu.fits'], blame: 'weight-2hdu.fits', outcome: 'error', problem: /HDU/ });
  put('weight-zero.fits', imageHDU(new Float32Array(W * H), W, H));
  cases.push({ name: 'weight map of zeros (every pixel bad)', args: ['good.fits', '--weight', 'weight-zero.fits'], outcome: 'empty', problem: /the weight map weight-zero\.fits \(HDU 0\) has no usable pixel/ });
  cases.push({ name: '--weight-type without a weight map', args: ['good.fits', '--weight-type', 'map_rms'], blame: 'WEIGHT_TYPE', outcome: 'error', problem: /needs a weight map/ });
  put('mask-small.fits', imageHDU(new Float32Array(10 * 10), 10, 10));
  cases.push({ name: 'mask of the wrong shape', args: ['good.fits', '--mask', 'mask-small.fits'], blame: 'mask-small.fits', outcome: 'error', problem: /10x10|shape|size/i });
  cases.push({ name: 'weight map that is not FITS', args: ['good.fits', '--weight', 'notfits.fits'], blame: 'notfits.fits', outcome: 'error', problem: /not a FITS|SIMPLE/i });
  put('mef-bad2.fits', concat([emptyPrimary(), imageHDU(base, W, H, { extension: true }), imageHDU(base, W, H, { extension: true }).subarray(0, BLOCK + 4000)]));
  cases.push({ name: 'MEF whose 2nd image is truncated (--jobs 2)', args: ['mef-bad2.fits', '--jobs', '2'], outcome: 'error', problem: /truncat|data/i });

  // --- invalid WCS: singular CD matrix, unknown projection
  const wcs = (ctype: string, cd: number[]) => [card('CTYPE1', `RA---${ctype}`), card('CTYPE2', `DEC--${ctype}`), card('CRPIX1', 100), card('CRPIX2', 80), card('CRVAL1', 150), card('CRVAL2', 2), card('CD1_1', cd[0]), card('CD1_2', cd[1]), card('CD2_1', cd[2]), card('CD2_2', cd[3])];
  cases.push({ name: 'WCS with a singular CD matrix', args: [put('wcs-singular.fits', imageHDU(base, W, H, { extra: wcs('TAN', [1e-4, 2e-4, 2e-4, 4e-4]) }))], outcome: 'error', problem: /invalid WCS: singular CD matrix/ });
  cases.push({ name: 'WCS with an unknown projection', args: [put('wcs-xyz.fits', imageHDU(base, W, H, { extra: wcs('XYZ', [-1e-4, 0, 0, 1e-4]) }))], outcome: 'error', problem: /invalid WCS: unsupported projection 'XYZ'/ });

  // --- tile-compressed with a corrupt tile (valid file made by fpack, then heap bytes overwritten)
  const noFpack = fpackAvailable() ? undefined : 'fpack (cfitsio) not installed';
  if (!noFpack) {
    corruptTile(dir, 'good16.fits', 'tile-rice-corrupt.fits.fz', ['-r', '-t', `${W},16`], 21);
    corruptTile(dir, 'good16.fits', 'tile-gzip-corrupt.fits.fz', ['-g', '-t', `${W},16`], 22);
  }
  cases.push({ name: 'RICE tile-compressed file with a corrupt tile', args: ['tile-rice-corrupt.fits.fz'], outcome: 'error', problem: /tile|compress|corrupt|decod/i, skip: noFpack });
  cases.push({ name: 'GZIP tile-compressed file with a corrupt tile', args: ['tile-gzip-corrupt.fits.fz'], outcome: 'error', problem: /tile|compress|corrupt|gzip|inflate|decod/i, skip: noFpack });

  // --- configuration and parameter files
  put('cfg-unknown.json', JSON.stringify({ DETECT_THRESH: 3, NO_SUCH_KEY: 1 }));
  cases.push({ name: 'JSON config with an unknown key', args: ['good.fits', '--config', 'cfg-unknown.json'], blame: 'cfg-unknown.json', outcome: 'error', problem: /NO_SUCH_KEY/ });
  put('cfg-type.json', JSON.stringify({ DETECT_THRESH: 'high' }));
  cases.push({ name: 'JSON config with a wrong type', args: ['good.fits', '--config', 'cfg-type.json'], blame: 'cfg-type.json', outcome: 'error', problem: /DETECT_THRESH/ });
  put('cfg-list.json', JSON.stringify({ PHOT_APERTURES: [3, 'x'] }));
  cases.push({ name: 'JSON config with a wrong list element', args: ['good.fits', '--config', 'cfg-list.json'], blame: 'cfg-list.json', outcome: 'error', problem: /PHOT_APERTURES/ });
  put('cfg-broken.json', '{"DETECT_THRESH": 3,');
  cases.push({ name: 'JSON config that does not parse', args: ['good.fits', '--config', 'cfg-broken.json'], blame: 'cfg-broken.json', outcome: 'error', problem: /JSON/ });
  put('cfg-array.json', '[1, 2, 3]');
  cases.push({ name: 'JSON config that is not an object', args: ['good.fits', '--config', 'cfg-array.json'], blame: 'cfg-array.json', outcome: 'error', problem: /object/ });
  put('cfg-unknown.sex', 'DETECT_THRESH 3\nNO_SUCH_KEYWORD 5\n');
  cases.push({ name: '.sex config with an unknown keyword', args: ['good.fits', '--config', 'cfg-unknown.sex'], blame: 'cfg-unknown.sex', outcome: 'error', problem: /NO_SUCH_KEYWORD/ });
  put('cfg-type.sex', '# wrong type\nDETECT_MINAREA  five\n');
  cases.push({ name: '.sex config with a wrong type', args: ['good.fits', '--config', 'cfg-type.sex'], blame: 'cfg-type.sex', outcome: 'error', problem: /DETECT_MINAREA/ });
  put('cfg-binary.sex', new Uint8Array([0, 1, 2, 0xff, 0xfe, 10, 0x41]));
  cases.push({ name: '.sex config that is binary garbage', args: ['good.fits', '--config', 'cfg-binary.sex'], blame: 'cfg-binary.sex', outcome: 'error', problem: /parse|unknown/i });
  cases.push({ name: 'missing config file', args: ['good.fits', '--config', 'no-such.json'], blame: 'no-such.json', outcome: 'error', problem: /cannot read|no such/i });
  put('bad.param', 'NUMBER\nX_IMAGE\nNO_SUCH_COLUMN\n');
  cases.push({ name: '--params with an unknown column', args: ['good.fits', '--params', 'bad.param'], blame: 'bad.param', outcome: 'error', problem: /NO_SUCH_COLUMN/ });
  put('bad-vector.param', 'NUMBER\nFLUX_APER(x)\n');
  cases.push({ name: '--params with a malformed vector size', args: ['good.fits', '--params', 'bad-vector.param'], blame: 'bad-vector.param', outcome: 'error', problem: /FLUX_APER/ });
  cases.push({ name: 'bad command-line value', args: ['good.fits', '--detect-thresh', 'abc'], blame: '--detect-thresh', outcome: 'error', problem: /DETECT_THRESH/ });
  return cases;
}

/** Reference catalogs for `lsst-prod ingest --refcat`: one usable, two missing the needed columns. */
export function makeRefcats(dir: string): { good: string; noMag: string; noCoords: string; csvNoDec: string } {
  mkdirSync(dir, { recursive: true });
  const rand = prng(5);
  const n = 20;
  const ra = Array.from({ length: n }, () => 150 + rand() * 0.1);
  const dec = Array.from({ length: n }, () => 2 + rand() * 0.1);
  const mag = Array.from({ length: n }, () => 15 + rand() * 5);
  const w = (name: string, b: Uint8Array | string) => {
    writeFileSync(path.join(dir, name), b);
    return path.join(dir, name);
  };
  return {
    good: w('ref-good.fits', concat([emptyPrimary(), bintableHDU({ ra, dec, phot_g_mean_mag: mag }, 'REFCAT')])),
    noMag: w('ref-nomag.fits', concat([emptyPrimary(), bintableHDU({ ra, dec }, 'REFCAT')])),
    noCoords: w('ref-nocoords.fits', concat([emptyPrimary(), bintableHDU({ x: ra, y: dec, mag }, 'REFCAT')])),
    csvNoDec: w('ref-nodec.csv', `ra,mag\n${ra.map((r, i) => `${r},${mag[i]}`).join('\n')}\n`),
  };
}

// Run as a script: write the corpus to the directory given on the command line.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: npx tsx test/robustness/corpus.ts OUTDIR\n');
    process.exit(2);
  }
  const cases = makeCorpus(out);
  makeRefcats(path.join(out, 'refcat'));
  for (const c of cases) process.stdout.write(`${c.outcome.padEnd(6)} ${c.name}: ${c.args.join(' ')}${c.skip ? ` (SKIP: ${c.skip})` : ''}\n`);
  if (!existsSync(out)) process.exit(1);
}
