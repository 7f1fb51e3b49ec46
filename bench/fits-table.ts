/**
 * Benchmark: FITS binary tables and tile-compressed images.
 *   npx tsx bench/fits-table.ts [--rows 1000000]
 * 1. build + write a 1e6-row x 40-column table (10 E, 10 D, 10 J, 5 K, 5 I), then open and read it
 *    back, printing seconds and MB/s;
 * 2. decompress 4096x4096 images made by cfitsio's fpack (RICE_1 int16; RICE_1 dithered float32,
 *    -q 4) with our decoder and with funpack on the same file.
 * Outputs go to bench/out/ (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FitsFile } from '../src/fits/file.js';
import { Header } from '../src/fits/header.js';
import { readImage } from '../src/fits/image.js';
import { writeFits, writeImage } from '../src/fits/write.js';
import { buildTable, readTableHdu, type ColumnSpec } from '../src/fits/table.js';
import '../src/fits/compress/reader.js';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
fs.mkdirSync(OUT, { recursive: true });
const argRows = process.argv.indexOf('--rows');
const NROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;

let seed = 12345;
const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
const secs = (t0: number): number => (performance.now() - t0) / 1000;
const mbps = (bytes: number, s: number): string => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;

function tableBench(): void {
  const n = NROWS;
  const cols: ColumnSpec[] = [];
  for (let c = 0; c < 10; c++) cols.push({ name: `e${c}`, data: Float32Array.from({ length: n }, () => rnd() * 100) });
  for (let c = 0; c < 10; c++) cols.push({ name: `d${c}`, data: Float64Array.from({ length: n }, () => rnd() * 1e6) });
  for (let c = 0; c < 10; c++) cols.push({ name: `j${c}`, data: Int32Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 31)) });
  for (let c = 0; c < 5; c++) cols.push({ name: `k${c}`, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1000003n) });
  for (let c = 0; c < 5; c++) cols.push({ name: `i${c}`, data: Int16Array.from({ length: n }, () => Math.floor(rnd() * 65536) - 32768) });
  const file = path.join(OUT, 'table-bench.fits');
  let t0 = performance.now();
  const built = buildTable(cols);
  const tBuild = secs(t0);
  t0 = performance.now();
  writeFits(file, [{ header: new Header([{ key: 'BITPIX', value: 8 }, { key: 'NAXIS', value: 0 }]) }, built], { checksum: false });
  const tWrite = secs(t0);
  const bytes = built.data.length;
  t0 = performance.now();
  const f = FitsFile.open(file);
  const t = readTableHdu(f, 1);
  f.close();
  const tRead = secs(t0);
  // Spot check.
  const ok = (t.columns[0].data as Float32Array)[n - 1] === (cols[0].data as Float32Array)[n - 1] && (t.columns[34].data as BigInt64Array)[n - 1] === BigInt(n - 1) * 1000003n;
  console.log(`table ${n} rows x ${cols.length} columns (${(bytes / 1e6).toFixed(0)} MB of rows), round trip ${ok ? 'ok' : 'MISMATCH'}`);
  console.log(`  build (column arrays -> big-endian rows): ${tBuild.toFixed(2)} s  ${mbps(bytes, tBuild)}`);
  console.log(`  write file (writeFits, no checksum):      ${tWrite.toFixed(2)} s  ${mbps(bytes, tWrite)}`);
  console.log(`  build + write:                            ${(tBuild + tWrite).toFixed(2)} s  ${mbps(bytes, tBuild + tWrite)}`);
  console.log(`  open + read all columns:                  ${tRead.toFixed(2)} s  ${mbps(bytes, tRead)}`);
  fs.rmSync(file);
}

function skyImage(n: number, float: boolean): Int16Array | Float32Array {
  const out = float ? new Float32Array(n * n) : new Int16Array(n * n);
  // Sky + gradient + gaussian noise (Box-Muller) + a few hundred stars.
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(rnd(), 1e-12);
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
    out[i] = 1000 + ((i % n) + Math.floor(i / n)) * 0.01 + 12 * g;
  }
  for (let s = 0; s < 400; s++) {
    const cx = rnd() * n;
    const cy = rnd() * n;
    const amp = 100 + rnd() * 20000;
    for (let y = Math.max(0, Math.floor(cy - 8)); y < Math.min(n, cy + 8); y++)
      for (let x = Math.max(0, Math.floor(cx - 8)); x < Math.min(n, cx + 8); x++) {
        const v = out[y * n + x] + amp * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4.5);
        out[y * n + x] = float ? v : Math.min(32767, v);
      }
  }
  return out;
}

function compressedBench(): void {
  const fpack = spawnSync('sh', ['-c', 'command -v fpack && command -v funpack'], { encoding: 'utf8' });
  if (fpack.status !== 0) {
    console.log('compressed images: fpack/funpack not found, skipped');
    return;
  }
  const n = 4096;
  for (const [label, float, flags] of [
    ['RICE_1 int16', false, ['-r']],
    ['RICE_1 float32 -q 4 (SUBTRACTIVE_DITHER_1)', true, ['-r', '-q', '4']],
  ] as const) {
    const plain = path.join(OUT, `img-${float ? 'f32' : 'i16'}.fits`);
    const fz = `${plain}.fz`;
    const unpacked = path.join(OUT, 'funpacked.fits');
    writeImage(plain, skyImage(n, float), { width: n });
    fs.rmSync(fz, { force: true });
    const r = spawnSync('fpack', [...flags, '-O', fz, plain]);
    if (r.status !== 0) throw new Error(`fpack failed: ${r.stderr}`);
    const size = fs.statSync(fz).size;
    let best = Infinity;
    let img;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      const f = FitsFile.open(fz);
      img = readImage(f, 1, { as: 'native' });
      f.close();
      best = Math.min(best, secs(t0));
    }
    let bestF = Infinity;
    for (let k = 0; k < 3; k++) {
      fs.rmSync(unpacked, { force: true });
      const t0 = performance.now();
      const u = spawnSync('funpack', ['-O', unpacked, fz]);
      bestF = Math.min(bestF, secs(t0));
      if (u.status !== 0) throw new Error(`funpack failed: ${u.stderr}`);
    }
    // Check against funpack's output, read back with our (uncompressed) reader.
    const f = FitsFile.open(unpacked);
    const ref = readImage(f, 0, { as: 'native' }).data;
    f.close();
    let same = ref.length === img!.data.length;
    for (let i = 0; same && i < ref.length; i++) if (ref[i] !== img!.data[i] && !(Number.isNaN(ref[i]) && Number.isNaN(img!.data[i]))) same = false;
    const mpix = (n * n) / 1e6;
    console.log(`${label}: ${n}x${n}, ${(size / 1e6).toFixed(1)} MB compressed, pixels ${same ? 'identical to funpack' : 'DIFFER from funpack'}`);
    console.log(`  ours (open + decode):      ${best.toFixed(3)} s  ${(mpix / best).toFixed(0)} Mpix/s`);
    console.log(`  funpack (incl. file write): ${bestF.toFixed(3)} s  ${(mpix / bestF).toFixed(0)} Mpix/s`);
    for (const p of [plain, fz, unpacked]) fs.rmSync(p, { force: true });
  }
}

tableBench();
compressedBench();
