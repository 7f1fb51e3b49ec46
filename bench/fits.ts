/**
 * FITS I/O benchmark: our reader/writer beside astropy (/usr/bin/python3, fits.getdata with
 * memmap=False, fits.writeto) and cfitsio's fitscopy, on the same files.
 *
 *   npx tsx bench/fits.ts [--reps 5] [--keep]
 *
 * Files (generated into bench/out/, git-ignored; about 0.5 GB, removed unless --keep):
 *   img4k.fits  4096 x 4096 float32 (64 MiB)
 *   mef40.fits  primary + 40 IMAGE extensions of 2048 x 2048 int16 (320 MiB); one HDU (#20) is read.
 * Timings are the best of N repetitions with the files in the page cache (warm); the external tools'
 * times include process start-up only where stated.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FitsFile, imageHdu, readImage, writeFits, type HduInput } from '../src/fits/index.js';

const args = process.argv.slice(2);
const REPS = Number(args[args.indexOf('--reps') + 1]) || 5;
const KEEP = args.includes('--keep');
const PY = '/usr/bin/python3';
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
fs.mkdirSync(outDir, { recursive: true });
const img4k = path.join(outDir, 'img4k.fits');
const mef40 = path.join(outDir, 'mef40.fits');
const MEF_HDU = 20;
const MB = 1024 * 1024;

function best(fn: () => void, reps = REPS): number {
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t / 1000;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

// --- data ------------------------------------------------------------------------------------
const f32 = new Float32Array(4096 * 4096);
for (let i = 0; i < f32.length; i++) f32[i] = ((i * 2654435761) % 100000) / 7 - 3000;
const i16s: Int16Array[] = [];
for (let k = 0; k < 40; k++) i16s.push(Int16Array.from({ length: 2048 * 2048 }, (_, i) => ((i * 31 + k * 977) % 60000) - 30000));

const rows: [string, number, string, string, string][] = [];
const rate = (bytes: number, s: number) => `${(bytes / MB / s).toFixed(0)} MB/s (${(s * 1000).toFixed(0)} ms)`;

// --- our writer --------------------------------------------------------------------------------
const wImg = best(() => writeFits(img4k, [imageHdu(f32, { width: 4096 })]), Math.min(REPS, 3));
const mefHdus = (): HduInput[] => [imageHdu(new Float32Array(0), { axes: [] }), ...i16s.map((a, k) => imageHdu(a, { width: 2048, extname: `CCD${k + 1}` }))];
const wMef = best(() => writeFits(mef40, mefHdus()), Math.min(REPS, 2));

// --- our reader --------------------------------------------------------------------------------
let check = 0;
const rImg = best(() => {
  const f = FitsFile.open(img4k);
  check += (readImage(f).data as Float32Array)[12345]!;
  f.close();
});
const rMef = best(() => {
  const f = FitsFile.open(mef40);
  check += (readImage(f, MEF_HDU).data as Float32Array)[12345]!;
  f.close();
});
const rMefNative = best(() => {
  const f = FitsFile.open(mef40);
  check += (readImage(f, MEF_HDU, { as: 'native' }).data as Int16Array)[12345]!;
  f.close();
});
if (!Number.isFinite(check)) throw new Error('bad read');

// --- astropy -----------------------------------------------------------------------------------
let astro: Record<string, number> | undefined;
if (fs.existsSync(PY) && spawnSync(PY, ['-c', 'import astropy']).status === 0) {
  const py = `
import sys, time, json, numpy as np
from astropy.io import fits
img, mef, k, reps, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def best(fn, n=reps):
    t = 1e9
    for _ in range(n):
        t0 = time.perf_counter(); fn(); t = min(t, time.perf_counter() - t0)
    return t
res = {}
res['read_img'] = best(lambda: fits.getdata(img, memmap=False))
res['read_mef'] = best(lambda: fits.getdata(mef, k, memmap=False))
d = fits.getdata(img, memmap=False)
res['write_img'] = best(lambda: fits.writeto(out, d, overwrite=True), min(reps, 3))
print(json.dumps(res))
`;
  const r = spawnSync(PY, ['-c', py, img4k, mef40, String(MEF_HDU), String(REPS), path.join(outDir, 'astropy-out.fits')], { encoding: 'utf8' });
  if (r.status === 0) astro = JSON.parse(r.stdout) as Record<string, number>;
  else console.warn(`astropy benchmark failed: ${r.stderr}`);
} else console.warn('astropy not available: column left empty');

// --- cfitsio (fitscopy: read + write of the selected HDU, process start-up included) ------------
let cfit: Record<string, number> | undefined;
if (have('fitscopy')) {
  const out = path.join(outDir, 'fitscopy-out.fits');
  const run = (src: string) => () => {
    fs.rmSync(out, { force: true });
    const r = spawnSync('fitscopy', [src, out]);
    if (r.status !== 0) throw new Error(`fitscopy failed: ${r.stderr}`);
  };
  cfit = { img: best(run(img4k)), mef: best(run(`${mef40}[${MEF_HDU}]`)) };
  fs.rmSync(out, { force: true });
} else console.warn('fitscopy not available: column left empty');

// --- decode strategies for big-endian float32 (64 MiB already in memory) ---------------------------
const be = new Uint8Array(f32.length * 4);
new DataView(be.buffer).setFloat32(0, 1.5, false);
const strategies: [string, number][] = [];
{
  const dst = new Float32Array(f32.length);
  strategies.push(['DataView.getFloat32 loop', best(() => {
    const dv = new DataView(be.buffer);
    for (let i = 0; i < dst.length; i++) dst[i] = dv.getFloat32(i * 4, false);
  })]);
  strategies.push(['Uint32 byte-swap loop into the output buffer', best(() => {
    const u = new Uint32Array(be.buffer);
    const o = new Uint32Array(dst.buffer);
    for (let i = 0; i < u.length; i++) {
      const x = u[i]!;
      o[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
    }
  })]);
  strategies.push(['copy + Buffer.swap32 in place (used)', best(() => {
    const o = new Uint8Array(dst.buffer);
    o.set(be);
    Buffer.from(o.buffer).swap32();
  })]);
}

const imgBytes = f32.length * 4;
const hduBytes = 2048 * 2048 * 2;
rows.push(['read 4096x4096 float32 (64 MiB)', rImg, rate(imgBytes, rImg), astro ? rate(imgBytes, astro.read_img!) : '-', cfit ? `${rate(imgBytes, cfit.img!)} *` : '-']);
rows.push([`read HDU ${MEF_HDU} of 41 (2048x2048 int16 -> float32)`, rMef, rate(hduBytes, rMef), astro ? `${rate(hduBytes, astro.read_mef!)} (int16)` : '-', cfit ? `${rate(hduBytes, cfit.mef!)} *` : '-']);
rows.push([`read HDU ${MEF_HDU} of 41 (native int16)`, rMefNative, rate(hduBytes, rMefNative), '', '']);
rows.push(['write 4096x4096 float32 (+CHECKSUM, fsync, rename)', wImg, rate(imgBytes, wImg), astro ? `${rate(imgBytes, astro.write_img!)} (no checksum)` : '-', '']);
rows.push(['write 41-HDU MEF, 320 MiB int16 (+CHECKSUM)', wMef, rate(40 * hduBytes, wMef), '', '']);

const header = ['operation', 'ours', 'astropy 5.2', 'cfitsio fitscopy'];
const table = [header, ...rows.map((r) => [r[0], r[2], r[3], r[4]])];
const widths = header.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
const line = (r: string[]) => `| ${r.map((s, c) => s.padEnd(widths[c]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of table.slice(1)) console.log(line(r));
console.log('* fitscopy: whole process (start-up, read, write of the copy).');
console.log('\nbig-endian float32 -> Float32Array, 64 MiB in memory:');
for (const [name, s] of strategies) console.log(`  ${name.padEnd(46)} ${rate(imgBytes, s)}`);
console.log(`node ${process.version}, ${REPS} reps, best time; files in page cache.`);

if (!KEEP) {
  for (const f of [img4k, mef40, path.join(outDir, 'astropy-out.fits')]) fs.rmSync(f, { force: true });
}
