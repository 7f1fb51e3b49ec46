/**
 * Indexes that make the CLEAN list fast without changing its results: a grid of discs to find the listed
 * objects close enough to a newcomer (instead of scanning the whole list), and integer-keyed buckets to find the
 * listed object with the smallest key (instead of a scan when the list is full).
 * Entries are "live" while their `index` (position in the list) is >= 0; dead entries are dropped lazily.
 */

export interface Listed {
  /** position in the CLEAN list, -1 once out of it */
  index: number;
  /** last query stamp that collected this entry (dedup across grid cells) */
  seen: number;
}

/** Grid of cells; an entry is registered in every cell its disc overlaps. */
export class DiscGrid<T extends Listed> {
  private readonly cells: (T[] | undefined)[];
  private readonly nx: number;
  private readonly ny: number;
  private stamp = 0;

  constructor(
    width: number,
    height: number,
    private readonly size = 32,
  ) {
    this.nx = Math.max(1, Math.ceil(width / size));
    this.ny = Math.max(1, Math.ceil(height / size));
    this.cells = new Array<T[] | undefined>(this.nx * this.ny);
  }

  private range(x: number, y: number, r: number): [number, number, number, number] {
    const s = this.size;
    const clampX = (v: number) => Math.min(this.nx - 1, Math.max(0, Math.floor(v / s)));
    const clampY = (v: number) => Math.min(this.ny - 1, Math.max(0, Math.floor(v / s)));
    return [clampX(x - r), clampX(x + r), clampY(y - r), clampY(y + r)];
  }

  /** Register o with a disc of radius r about (x, y) (cells are clamped to the grid: intersections survive). */
  insert(o: T, x: number, y: number, r: number): void {
    const [x0, x1, y0, y1] = this.range(x, y, r);
    for (let cy = y0; cy <= y1; cy++)
      for (let cx = x0; cx <= x1; cx++) {
        const k = cy * this.nx + cx;
        const cell = this.cells[k];
        if (cell) cell.push(o);
        else this.cells[k] = [o];
      }
  }

  /** Collect (once each) the live entries whose disc may intersect the disc (x, y, r), sorted by list index. */
  query(x: number, y: number, r: number, out: T[]): T[] {
    out.length = 0;
    const stamp = ++this.stamp;
    const [x0, x1, y0, y1] = this.range(x, y, r);
    for (let cy = y0; cy <= y1; cy++)
      for (let cx = x0; cx <= x1; cx++) {
        const cell = this.cells[cy * this.nx + cx];
        if (!cell) continue;
        let w = 0;
        for (let i = 0; i < cell.length; i++) {
          const o = cell[i];
          if (o.index < 0) continue;
          cell[w++] = o;
          if (o.seen !== stamp) {
            o.seen = stamp;
            out.push(o);
          }
        }
        cell.length = w;
      }
    return out.sort((a, b) => a.index - b.index);
  }
}

/** Buckets of entries by an integer key, with a min-heap of the keys in use. */
export class KeyBuckets<T extends Listed> {
  private readonly buckets = new Map<number, T[]>();
  private readonly heap: number[] = [];

  add(key: number, o: T): void {
    const b = this.buckets.get(key);
    if (b) {
      b.push(o);
      return;
    }
    this.buckets.set(key, [o]);
    const h = this.heap;
    h.push(key);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p] <= h[i]) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  /** The live entry with the smallest key, the smallest list index among equal keys. */
  min(): T | undefined {
    const h = this.heap;
    while (h.length > 0) {
      const key = h[0];
      const b = this.buckets.get(key) as T[];
      let w = 0;
      for (const o of b) if (o.index >= 0) b[w++] = o;
      b.length = w;
      if (w > 0) {
        let best = b[0];
        for (const o of b) if (o.index < best.index) best = o;
        return best;
      }
      this.buckets.delete(key);
      const last = h.pop() as number;
      if (h.length === 0) break;
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l] < h[m]) m = l;
        if (r < h.length && h[r] < h[m]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return undefined;
  }
}
