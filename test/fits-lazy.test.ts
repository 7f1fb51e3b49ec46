/**
 * Lazy HDU access on a 3.2 GB file with 189 HDUs (a sparse file: only headers and HDU 100's pixels
 * occupy disk). A byte-counting source proves that reaching HDU 100 reads only the headers before it,
 * that reading its pixels reads only its data, and that a band of rows reads only those rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSource, FitsFile, Header, normalizeHeader, readImage, readImageRows, type ByteSource } from '../src/fits/index.js';

const N_HDUS = 189;
const W = 2048;
const H = 2048;
const TARGET = 100;
const DATA = W * H * 4; // float32 bytes (padded to whole blocks in the file)

/** Counts bytes and calls going through a ByteSource. */
class CountingSource implements ByteSource {
  bytes = 0;
  calls = 0;
  constructor(private readonly inner: ByteSource) {}
  get name(): string {
    return this.inner.name;
  }
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Uint8Array {
    this.bytes += length;
    this.calls++;
    return this.inner.read(offset, length);
  }
  readInto(offset: number, target: Uint8Array): void {
    this.bytes += target.length;
    this.calls++;
    this.inner.readInto(offset, target);
  }
  close(): void {
    this.inner.close();
  }
}

/** Value of pixel (x, y) in HDU TARGET. */
const pattern = (x: number, y: number) => x * 0.5 - y * 0.25 + TARGET;

let dir = '';
let file = '';
let sparse = false;
let headerBlock = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fits-lazy-'));
  file = path.join(dir, 'big.fits');
  const fd = fs.openSync(file, 'w');
  try {
    let pos = 0;
    const primary = normalizeHeader(new Header().set('BITPIX', 8).set('NAXIS', 0), true, true).toBytes();
    fs.writeSync(fd, primary, 0, primary.length, pos);
    pos += primary.length;
    const padded = Math.ceil(DATA / 2880) * 2880;
    for (let i = 1; i < N_HDUS; i++) {
      const h = new Header().set('XTENSION', 'IMAGE').set('BITPIX', -32).set('NAXIS', 2).set('NAXIS1', W).set('NAXIS2', H).set('EXTNAME', `CCD${i}`);
      const bytes = normalizeHeader(h, false, true).toBytes();
      headerBlock = bytes.length;
      fs.writeSync(fd, bytes, 0, bytes.length, pos);
      pos += bytes.length;
      if (i === TARGET) {
        const row = new Float32Array(W);
        const be = new Uint8Array(W * 4);
        const dv = new DataView(be.buffer);
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) row[x] = pattern(x, y);
          for (let x = 0; x < W; x++) dv.setFloat32(x * 4, row[x]!, false);
          fs.writeSync(fd, be, 0, be.length, pos + y * W * 4);
        }
      }
      pos += padded;
    }
    fs.ftruncateSync(fd, pos);
  } finally {
    fs.closeSync(fd);
  }
  const st = fs.statSync(file);
  sparse = st.blocks * 512 < 200 * 1024 * 1024;
  if (!sparse) console.warn(`SKIPPED lazy-access checks: ${dir} does not support sparse files`);
}, 120_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('lazy access to one HDU of a 3 GB, 189-HDU file', () => {
  it('file is large but sparse', () => {
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(3e9);
    if (!sparse) console.warn('disk usage equals file size: lazy checks below are skipped');
  });

  it('reaching HDU 100 reads only headers; its pixels read only its data', () => {
    if (!sparse) return;
    const src = new CountingSource(new FileSource(file));
    const t0 = performance.now();
    const f = new FitsFile(src);
    try {
      const h = f.hdu(TARGET);
      // First-block signature check plus one header block per HDU up to and including HDU 100.
      expect(src.bytes).toBe(10 + 2880 + TARGET * headerBlock);
      expect(h.name).toBe(`CCD${TARGET}`);
      expect([...h.shape]).toEqual([H, W]);
      const before = src.bytes;
      const img = readImage(f, TARGET);
      const elapsed = performance.now() - t0;
      expect(src.bytes - before).toBe(DATA);
      const d = img.data as Float32Array;
      expect(d).toBeInstanceOf(Float32Array);
      for (const [x, y] of [[0, 0], [W - 1, 0], [17, 1234], [W - 1, H - 1]] as const) expect(d[y * W + x]).toBe(pattern(x, y));
      expect(elapsed).toBeLessThan(3000);
      console.log(`HDU ${TARGET} of ${(src.size / 1e9).toFixed(2)} GB: ${src.calls} reads, ${(src.bytes / 1e6).toFixed(1)} MB, ${elapsed.toFixed(0)} ms`);
    } finally {
      f.close();
    }
  });

  it('a band of rows reads only those rows; counting all HDUs reads only headers', () => {
    if (!sparse) return;
    const src = new CountingSource(new FileSource(file));
    const f = new FitsFile(src);
    try {
      f.hdu(TARGET);
      const before = src.bytes;
      const band = readImageRows(f, TARGET, 1000, 16);
      expect(src.bytes - before).toBe(16 * W * 4);
      expect(band.y0).toBe(1000);
      expect((band.data as Float32Array)[5 * W + 7]).toBe(pattern(7, 1005));
      const b2 = src.bytes;
      expect(f.count).toBe(N_HDUS);
      expect(src.bytes - b2).toBe((N_HDUS - 1 - TARGET) * headerBlock);
      expect(f.hdu('ccd188').index).toBe(188);
    } finally {
      f.close();
    }
  });
});
