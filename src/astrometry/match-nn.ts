/**
 * Nearest-neighbour matching of two point sets on a plane, one-to-one: a pair (i, j) is kept when j is the
 * nearest point of B to A[i] within the radius AND i is the nearest point of A to B[j]. Ties go to the lower
 * index, so the result is deterministic. A uniform cell grid (CSR layout, no per-point allocation) makes
 * each query O(1) on average.
 */
import type { PlanePoints } from './match-plane.js';

/** A cell grid over a point set for radius queries. */
export class PlaneGrid {
  private readonly x0: number;
  private readonly y0: number;
  private readonly inv: number;
  private readonly nx: number;
  private readonly ny: number;
  private readonly start: Int32Array;
  private readonly items: Int32Array;

  /** Index the finite points of `p` with cells of (at least) `cell` units; the grid is capped at ~4n cells. */
  constructor(readonly p: PlanePoints, cell: number) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < p.n; i++) {
      const x = p.xi[i];
      const y = p.eta[i];
      if (!(Number.isFinite(x) && Number.isFinite(y))) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (!(x1 >= x0)) x0 = y0 = x1 = y1 = 0;
    let size = Math.max(cell, 1e-9);
    const maxCells = Math.max(16, 4 * p.n);
    while (((x1 - x0) / size + 1) * ((y1 - y0) / size + 1) > maxCells) size *= 2;
    this.x0 = x0;
    this.y0 = y0;
    this.inv = 1 / size;
    this.nx = Math.floor((x1 - x0) * this.inv) + 1;
    this.ny = Math.floor((y1 - y0) * this.inv) + 1;
    const ncell = this.nx * this.ny;
    const cellOf = new Int32Array(p.n);
    const count = new Int32Array(ncell + 1);
    for (let i = 0; i < p.n; i++) {
      const x = p.xi[i];
      const y = p.eta[i];
      if (!(Number.isFinite(x) && Number.isFinite(y))) {
        cellOf[i] = -1;
        continue;
      }
      const c = Math.floor((y - y0) * this.inv) * this.nx + Math.floor((x - x0) * this.inv);
      cellOf[i] = c;
      count[c + 1]++;
    }
    for (let c = 0; c < ncell; c++) count[c + 1] += count[c];
    this.start = count.slice();
    const fill = count.slice(0, ncell);
    this.items = new Int32Array(count[ncell]);
    for (let i = 0; i < p.n; i++) if (cellOf[i] >= 0) this.items[fill[cellOf[i]]++] = i;
  }

  /** Index of the nearest point within `radius` of (x, y) (lowest index on ties), or -1. */
  nearest(x: number, y: number, radius: number): number {
    if (!(Number.isFinite(x) && Number.isFinite(y))) return -1;
    const { xi, eta } = this.p;
    const r2 = radius * radius;
    let best = -1;
    let bestD = Infinity;
    const cx0 = Math.max(0, Math.floor((x - radius - this.x0) * this.inv));
    const cx1 = Math.min(this.nx - 1, Math.floor((x + radius - this.x0) * this.inv));
    const cy0 = Math.max(0, Math.floor((y - radius - this.y0) * this.inv));
    const cy1 = Math.min(this.ny - 1, Math.floor((y + radius - this.y0) * this.inv));
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const c = cy * this.nx + cx;
        for (let k = this.start[c]; k < this.start[c + 1]; k++) {
          const j = this.items[k];
          const dx = xi[j] - x;
          const dy = eta[j] - y;
          const d = dx * dx + dy * dy;
          if (d <= r2 && (d < bestD || (d === bestD && j < best))) {
            bestD = d;
            best = j;
          }
        }
      }
    }
    return best;
  }

  /** Number of points within `radius` of (x, y) (the query point itself included when it is in the set). */
  countWithin(x: number, y: number, radius: number): number {
    if (!(Number.isFinite(x) && Number.isFinite(y))) return 0;
    const { xi, eta } = this.p;
    const r2 = radius * radius;
    let n = 0;
    const cx0 = Math.max(0, Math.floor((x - radius - this.x0) * this.inv));
    const cx1 = Math.min(this.nx - 1, Math.floor((x + radius - this.x0) * this.inv));
    const cy0 = Math.max(0, Math.floor((y - radius - this.y0) * this.inv));
    const cy1 = Math.min(this.ny - 1, Math.floor((y + radius - this.y0) * this.inv));
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        const c = cy * this.nx + cx;
        for (let k = this.start[c]; k < this.start[c + 1]; k++) {
          const j = this.items[k];
          const dx = xi[j] - x;
          const dy = eta[j] - y;
          if (dx * dx + dy * dy <= r2) n++;
        }
      }
    }
    return n;
  }
}

/** Matched index pairs with their separations. */
export interface NnMatch {
  n: number;
  ia: Int32Array;
  ib: Int32Array;
  dist: Float64Array;
}

/** Mutual nearest neighbours of A and B within `radius` (same units as the points), ordered by A index. */
export function matchNearest(a: PlanePoints, b: PlanePoints, radius: number, gridB?: PlaneGrid): NnMatch {
  const gb = gridB ?? new PlaneGrid(b, radius);
  const ga = new PlaneGrid(a, radius);
  const ia: number[] = [];
  const ib: number[] = [];
  const dist: number[] = [];
  for (let i = 0; i < a.n; i++) {
    const j = gb.nearest(a.xi[i], a.eta[i], radius);
    if (j < 0) continue;
    if (ga.nearest(b.xi[j], b.eta[j], radius) !== i) continue;
    ia.push(i);
    ib.push(j);
    dist.push(Math.hypot(a.xi[i] - b.xi[j], a.eta[i] - b.eta[j]));
  }
  return { n: ia.length, ia: Int32Array.from(ia), ib: Int32Array.from(ib), dist: Float64Array.from(dist) };
}
