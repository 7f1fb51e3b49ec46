/**
 * lsst-quick against source-extractor on the same images, same config and columns, catalogs written:
 *   - a 4096x4096 image (sextractor/galaxies.fits tiled 4x4, ~14,000-18,000 objects)
 *   - a 2048x4096 CCD (galaxies.fits tiled 2x4)
 *   - 4-HDU and 12-HDU MEFs of 2048x2048 CCDs (for --jobs)
 * Wall time and peak RSS from /usr/bin/time -v. Usage: npm run build && npx tsx bench/quick.ts [--reps N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'bench/out');
const GAL = path.resolve(ROOT, '../shared/data/real/sextractor/galaxies.fits');
const reps = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 3;
mkdirSync(OUT, { recursive: true });
if (!existsSync(GAL)) {
  console.error('bench/quick needs ../shared/data/real/sextractor/galaxies.fits');
  process.exit(2);
}

function make(name: string, tiles: [number, number], hdus = 1): string {
  const f = path.join(OUT, name);
  if (existsSync(f)) return f;
  const py = `
import sys, numpy as np
from astropy.io import fits
d = fits.getdata(sys.argv[1]).astype(np.int16)
t = np.tile(d, (${tiles[1]}, ${tiles[0]}))
if ${hdus} == 1:
    fits.PrimaryHDU(t).writeto(sys.argv[2], overwrite=True)
else:
    fits.HDUList([fits.PrimaryHDU()] + [fits.ImageHDU(np.roll(t, 37 * k, axis=1)) for k in range(${hdus})]).writeto(sys.argv[2], overwrite=True)
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, GAL, f], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return f;
}

const PARAMS = ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'XWIN_IMAGE', 'YWIN_IMAGE', 'A_IMAGE', 'B_IMAGE', 'THETA_IMAGE', 'FLUX_ISO', 'FLUXERR_ISO', 'FLUX_APER(3)', 'FLUXERR_APER(3)', 'FLUX_AUTO', 'FLUXERR_AUTO', 'KRON_RADIUS', 'FLUX_RADIUS', 'FWHM_IMAGE', 'FLAGS', 'MAG_AUTO', 'BACKGROUND'];
const paramFile = path.join(OUT, 'bench.param');
writeFileSync(paramFile, PARAMS.join('\n') + '\n');
const conv = path.join(OUT, 'default.conv');
writeFileSync(conv, 'CONV NORM\n1 2 1\n2 4 2\n1 2 1\n');

interface Timing {
  seconds: number;
  rssMB: number;
  ok: boolean;
}

function timed(cmd: string, args: string[]): Timing {
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8', cwd: OUT, maxBuffer: 1 << 26 });
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(r.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
  if (r.status !== 0) console.error(r.stderr.split('\n').slice(0, 5).join('\n'));
  return { seconds, rssMB: rss ? Number(rss[1]) / 1024 : NaN, ok: r.status === 0 };
}

function best(f: () => Timing): Timing {
  let b: Timing | undefined;
  for (let i = 0; i < reps; i++) {
    const t = f();
    if (!b || t.seconds < b.seconds) b = t;
  }
  return b!;
}

const sex = (img: string) => () =>
  timed('source-extractor', [img, '-CATALOG_NAME', path.join(OUT, 'sex.cat'), '-CATALOG_TYPE', 'FITS_1.0', '-PARAMETERS_NAME', paramFile, '-FILTER_NAME', conv, '-PHOT_APERTURES', '5,10,20', '-VERBOSE_TYPE', 'QUIET', '-NTHREADS', '1']);
const ours = (img: string, extra: string[] = []) => () =>
  timed(process.execPath, [path.join(ROOT, 'bin/lsst-quick.js'), img, '-o', path.join(OUT, 'ours.cat.fits'), '--params', paramFile, '--phot-apertures', '5,10,20', ...extra]);

const rows: string[] = [];
for (const [label, file, extra] of [
  ['4096x4096, galaxies tiled 4x4', make('gal4x4.fits', [4, 4]), []],
  ['2048x4096 CCD, galaxies tiled 2x4', make('gal2x4.fits', [2, 4]), []],
  ['MEF 4 x 2048x2048, --jobs 1', make('mef4.fits', [2, 2], 4), ['--jobs', '1']],
  ['MEF 4 x 2048x2048, --jobs 2', make('mef4.fits', [2, 2], 4), ['--jobs', '2']],
  ['MEF 12 x 2048x2048, --jobs 1', make('mef12.fits', [2, 2], 12), ['--jobs', '1']],
  ['MEF 12 x 2048x2048, --jobs 2', make('mef12.fits', [2, 2], 12), ['--jobs', '2']],
] as [string, string, string[]][]) {
  const s = best(sex(file));
  const o = best(ours(file, extra));
  const line = `| ${label} | ${s.seconds.toFixed(2)} s / ${s.rssMB.toFixed(0)} MB | ${o.seconds.toFixed(2)} s / ${o.rssMB.toFixed(0)} MB | ${(o.seconds / s.seconds).toFixed(2)} |`;
  rows.push(line);
  console.log(line);
}
console.log('\n| image | source-extractor (wall / peak RSS) | lsst-quick (wall / peak RSS) | time ratio ours/sex |\n|---|---|---|---|');
for (const r of rows) console.log(r);
