/**
 * Helpers for the visit-simulator tests: reading truth tables and raw pixels, the astropy oracle, and a simple
 * iterative first-moment centroid (written here, independently of the pipeline's measurement code).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { FitsFile } from '../../src/fits/file.js';
import { readPlane } from '../../src/fits/image.js';
import { readTableHdu } from '../../src/fits/table.js';
import type { Plane } from '../../src/image/types.js';
import { PYTHON } from './astropy.js';
import { repoRoot } from './shared.js';

export interface TruthTable {
  id: Int32Array;
  type: string[];
  x: Float64Array;
  y: Float64Array;
  ra: Float64Array;
  dec: Float64Array;
  flux: Float64Array;
  mag: Float64Array;
  fwhm: Float32Array;
  e1: Float32Array;
  e2: Float32Array;
  in_refcat: boolean[];
  saturated: boolean[];
  peak: Float32Array;
  n: number;
}

/** Read a truth table written by the simulator. */
export function readTruth(file: string): TruthTable {
  const f = FitsFile.open(file);
  try {
    const t = readTableHdu(f, 1);
    const col = (n: string) => t.columns.find((c) => c.name === n)!.data;
    return {
      id: col('id') as Int32Array,
      type: (col('type') as string[]).map((s) => s.trim()),
      x: col('x') as Float64Array,
      y: col('y') as Float64Array,
      ra: col('ra') as Float64Array,
      dec: col('dec') as Float64Array,
      flux: col('flux') as Float64Array,
      mag: col('mag') as Float64Array,
      fwhm: col('fwhm') as Float32Array,
      e1: col('e1') as Float32Array,
      e2: col('e2') as Float32Array,
      in_refcat: col('in_refcat') as boolean[],
      saturated: col('saturated') as boolean[],
      peak: col('peak') as Float32Array,
      n: t.nrows,
    };
  } finally {
    f.close();
  }
}

/** Raw pixels as ADU (float32). */
export function readRaw(file: string): Plane {
  return readPlane(file);
}

export interface OracleRaw {
  header: Record<string, string | number | null>;
  bitpix: number;
  bzero: number | null;
  shape: number[];
  min: number;
  max: number;
  checksum_ok: boolean;
  sky: [number, number][];
}

export interface OracleResult {
  raws: OracleRaw[];
  refcat?: { columns: string[]; n: number; source_id: number[]; ra: number[]; dec: number[]; phot_g_mean_mag: number[] };
}

/** Run test/helpers/sim_visit_oracle.py (astropy) on raw files (with 1-based points for the header WCS) and a refcat. */
export function simOracle(raws: { file: string; points?: [number, number][] }[], refcat?: string): OracleResult {
  const script = path.join(repoRoot, 'test/helpers/sim_visit_oracle.py');
  const r = spawnSync(PYTHON, [script], { input: JSON.stringify({ raws, refcat }), encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as OracleResult;
}

/**
 * Gaussian-windowed centroid (the XWIN iteration: x += 2 sum(w I (x_i - x)) / sum(w I), w = exp(-r^2 / 2 s^2)) of
 * (pixel - background) around a 1-based starting position, s = fwhm / 2.355; returns the 1-based centroid.
 * Unbiased for any symmetric profile; its noise is ~ FWHM / (2.35 SNR).
 */
export function centroid(img: Plane, x1: number, y1: number, fwhm: number, background: (x1: number, y1: number) => number): [number, number] {
  const s2 = 2 * (fwhm / 2.355) ** 2;
  const r = 4 * fwhm;
  let cx = x1;
  let cy = y1;
  for (let it = 0; it < 50; it++) {
    let s = 0;
    let sx = 0;
    let sy = 0;
    const x0 = Math.max(0, Math.floor(cx - 1 - r));
    const xe = Math.min(img.width - 1, Math.ceil(cx - 1 + r));
    const y0 = Math.max(0, Math.floor(cy - 1 - r));
    const ye = Math.min(img.height - 1, Math.ceil(cy - 1 + r));
    for (let y = y0; y <= ye; y++) {
      for (let x = x0; x <= xe; x++) {
        const dx = x + 1 - cx;
        const dy = y + 1 - cy;
        const w = Math.exp(-(dx * dx + dy * dy) / s2);
        const v = w * (img.data[y * img.width + x] - background(x + 1, y + 1));
        s += v;
        sx += v * dx;
        sy += v * dy;
      }
    }
    const mx = (2 * sx) / s;
    const my = (2 * sy) / s;
    cx += mx;
    cy += my;
    if (Math.hypot(mx, my) < 1e-7) break;
  }
  return [cx, cy];
}

/** Sigma-clipped mean of values (3 sigma, 5 iterations). */
export function clippedMean(v: number[]): number {
  let a = [...v];
  for (let it = 0; it < 5; it++) {
    const m = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length);
    const b = a.filter((x) => Math.abs(x - m) <= 3 * sd);
    if (b.length === a.length) return m;
    a = b;
  }
  return a.reduce((s, x) => s + x, 0) / a.length;
}

/** True if any pixel within radius r (pixels) of a 1-based position has one of the mask bits set. */
export function maskedNear(mask: Plane, x1: number, y1: number, r: number, bits: number): boolean {
  for (let y = Math.max(0, Math.floor(y1 - 1 - r)); y <= Math.min(mask.height - 1, Math.ceil(y1 - 1 + r)); y++) {
    for (let x = Math.max(0, Math.floor(x1 - 1 - r)); x <= Math.min(mask.width - 1, Math.ceil(x1 - 1 + r)); x++) {
      if (mask.data[y * mask.width + x] & bits && Math.hypot(x + 1 - x1, y + 1 - y1) <= r) return true;
    }
  }
  return false;
}
