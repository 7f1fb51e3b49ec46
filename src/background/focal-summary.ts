/**
 * Focal-plane background, per-CCD side (accumulate) and merge: a CCD's mesh levels binned into the superpixels of
 * the focal grid, one sample per (CCD, superpixel) it touches: median level, mesh count, median sigma and mean
 * focal-plane position of its meshes. Meshes whose noise is inflated (sigma above 1.5x the CCD's median: bright
 * objects, defects) are dropped; the median per superpixel resists objects covering part of it, and the solver
 * (focal-solve.ts) rejects whole samples that stand out from the smooth focal-plane fit (extended objects).
 */
import { pixelToFocal } from '../camera/geometry.js';
import type { DetectorGeom } from '../camera/types.js';
import type { BackgroundModel } from './index.js';
import type { MeshStatistics } from './meshstats.js';
import { cellOf, medianOf, type FocalGrid } from './focal-grid.js';

/** Mergeable focal-plane background samples, sorted by (detector, cell). Plain typed arrays: serialisable. */
export interface FocalBackgroundSummary {
  readonly detector: Int32Array;
  readonly cell: Int32Array;
  /** meshes in the sample */
  readonly n: Int32Array;
  /** median mesh level, ADU */
  readonly level: Float64Array;
  /** median mesh sigma, ADU */
  readonly sigma: Float64Array;
  /** mean focal-plane position (mm) of the meshes */
  readonly fx: Float64Array;
  readonly fy: Float64Array;
}

export interface SummarizeOptions {
  /** drop meshes whose sigma exceeds this factor times the CCD's median mesh sigma (default 1.5) */
  readonly sigmaClip?: number;
}

/** Mesh grid fields common to BackgroundModel and MeshStatistics. */
type MeshSource = Pick<MeshStatistics, 'width' | 'height' | 'bw' | 'bh' | 'nx' | 'ny' | 'level' | 'sigma'>;

/**
 * A CCD's contribution to the focal-plane background: its mesh statistics (a BackgroundModel's filtered meshes, or
 * better the raw MeshStatistics, whose bad meshes are NaN and skipped) binned into the superpixels of `grid`.
 * The CCD's geometry `det` must be the one of the camera the grid was made from (det.id names the samples).
 */
export function summarizeFocalBackground(model: BackgroundModel | MeshStatistics, det: DetectorGeom, grid: FocalGrid, opts: SummarizeOptions = {}): FocalBackgroundSummary {
  const m: MeshSource = model;
  if (m.width !== det.width || m.height !== det.height) throw new RangeError(`background is ${m.width}x${m.height}, detector ${det.id} is ${det.width}x${det.height}`);
  if ('type' in model && model.type === 'manual') return emptySummary();
  const { nx, ny, bw, bh, width, height, level, sigma } = m;
  const nb = nx * ny;
  const scratch = new Float64Array(nb);
  let ns = 0;
  for (let k = 0; k < nb; k++) if (level[k] === level[k] && sigma[k] === sigma[k]) scratch[ns++] = sigma[k];
  const sMed = medianOf(scratch, ns);
  const sMax = sMed > 0 ? (opts.sigmaClip ?? 1.5) * sMed : Infinity;
  // cell of every usable mesh (actual pixel centre of the mesh, the last row/column may be narrower)
  const cell = new Int32Array(nb).fill(-1);
  const mfx = new Float64Array(nb);
  const mfy = new Float64Array(nb);
  for (let my = 0; my < ny; my++) {
    const yc = my * bh + (Math.min(bh, height - my * bh) - 1) / 2;
    for (let mx = 0; mx < nx; mx++) {
      const k = my * nx + mx;
      if (!(level[k] === level[k] && sigma[k] <= sMax)) continue;
      const xc = mx * bw + (Math.min(bw, width - mx * bw) - 1) / 2;
      const [fx, fy] = pixelToFocal(det, xc, yc);
      mfx[k] = fx;
      mfy[k] = fy;
      cell[k] = cellOf(grid, fx, fy);
    }
  }
  // meshes ordered by cell, then mesh index (numeric keys cell * nb + k: one typed-array sort)
  let nUse = 0;
  for (let k = 0; k < nb; k++) if (cell[k] >= 0) nUse++;
  const keys = new Float64Array(nUse);
  for (let k = 0, u = 0; k < nb; k++) if (cell[k] >= 0) keys[u++] = cell[k] * nb + k;
  keys.sort();
  const rows: { cell: number; n: number; level: number; sigma: number; fx: number; fy: number }[] = [];
  const lv = new Float64Array(nb);
  const sg = new Float64Array(nb);
  for (let s = 0; s < nUse; ) {
    const c = Math.floor(keys[s] / nb);
    let e = s;
    let sx = 0;
    let sy = 0;
    while (e < nUse && Math.floor(keys[e] / nb) === c) {
      const k = keys[e] - c * nb;
      lv[e - s] = level[k];
      sg[e - s] = sigma[k];
      sx += mfx[k];
      sy += mfy[k];
      e++;
    }
    const n = e - s;
    rows.push({ cell: c, n, level: medianOf(lv, n), sigma: medianOf(sg, n), fx: sx / n, fy: sy / n });
    s = e;
  }
  return {
    detector: Int32Array.from(rows, () => det.id),
    cell: Int32Array.from(rows, (r) => r.cell),
    n: Int32Array.from(rows, (r) => r.n),
    level: Float64Array.from(rows, (r) => r.level),
    sigma: Float64Array.from(rows, (r) => r.sigma),
    fx: Float64Array.from(rows, (r) => r.fx),
    fy: Float64Array.from(rows, (r) => r.fy),
  };
}

function emptySummary(): FocalBackgroundSummary {
  return {
    detector: new Int32Array(0),
    cell: new Int32Array(0),
    n: new Int32Array(0),
    level: new Float64Array(0),
    sigma: new Float64Array(0),
    fx: new Float64Array(0),
    fy: new Float64Array(0),
  };
}

/**
 * Merge summaries (of CCDs or of already merged groups): the union of their samples sorted by (detector, cell), so
 * any grouping and order of merging gives the same arrays. The same (detector, cell) twice is a RangeError.
 */
export function mergeFocalBackground(parts: readonly FocalBackgroundSummary[]): FocalBackgroundSummary {
  const refs: [number, number][] = [];
  parts.forEach((p, i) => {
    for (let r = 0; r < p.detector.length; r++) refs.push([i, r]);
  });
  const key = ([i, r]: [number, number]) => [parts[i].detector[r], parts[i].cell[r]];
  refs.sort((a, b) => {
    const [da, ca] = key(a);
    const [db, cb] = key(b);
    return da - db || ca - cb;
  });
  for (let k = 1; k < refs.length; k++) {
    const [da, ca] = key(refs[k - 1]);
    const [db, cb] = key(refs[k]);
    if (da === db && ca === cb) throw new RangeError(`detector ${da} contributes superpixel ${ca} twice (merged twice?)`);
  }
  const n = refs.length;
  const out = {
    detector: new Int32Array(n),
    cell: new Int32Array(n),
    n: new Int32Array(n),
    level: new Float64Array(n),
    sigma: new Float64Array(n),
    fx: new Float64Array(n),
    fy: new Float64Array(n),
  };
  refs.forEach(([i, r], k) => {
    const p = parts[i];
    out.detector[k] = p.detector[r];
    out.cell[k] = p.cell[r];
    out.n[k] = p.n[r];
    out.level[k] = p.level[r];
    out.sigma[k] = p.sigma[r];
    out.fx[k] = p.fx[r];
    out.fy[k] = p.fy[r];
  });
  return out;
}
