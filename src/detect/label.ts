/**
 * Thresholding and 8-connected labelling of the filtered image (SExtractor's scanimage() + Lutz's algorithm),
 * done here with run-length union-find: memory linear in the image size, no object or pixel stack limits.
 */

/**
 * Detection threshold: a constant (SExtractor without weight map) or one value per pixel (with a weight map:
 * see detect.ts). A per-pixel value that is NaN or Infinity never lets the pixel detect.
 */
export type Threshold = { readonly kind: 'constant'; readonly value: number } | { readonly kind: 'map'; readonly values: Float32Array };

/** Threshold at pixel p. */
export function thresholdAt(t: Threshold, p: number): number {
  return t.kind === 'constant' ? t.value : t.values[p];
}

/** Connected components in compressed form: pixels of component c are pixels[offsets[c] .. offsets[c+1]). */
export interface Components {
  readonly count: number;
  readonly offsets: Int32Array;
  /** Linear pixel indices, ascending within each component. */
  readonly pixels: Int32Array;
}

class IntStack {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
}

/** Union-find root of i, with path compression. */
export function find(parent: Int32Array, i: number): number {
  let r = i;
  while (parent[r] !== r) r = parent[r];
  while (parent[i] !== r) {
    const n = parent[i];
    parent[i] = r;
    i = n;
  }
  return r;
}

/** The runs of on-pixels (start, end, row) and their union-find parents: 8-connected runs of adjacent rows joined. */
interface Runs {
  x0s: IntStack;
  x1s: IntStack;
  rows: IntStack;
  parent: Int32Array;
}

/** labelComponents' threshold scan (kept apart from the assembly below so that each compiles and is optimised alone). */
function scanRuns(filtered: Float32Array, width: number, height: number, threshold: Threshold, bad: Uint8Array | null, on?: Uint8Array): Runs {
  // small initial capacities: the stacks grow (doubling) in the first rows, while this loop still runs
  // unoptimised, so that the optimised code has seen the growth paths (an unseen path deoptimises it mid-image)
  const x0s = new IntStack(16);
  const x1s = new IntStack(16);
  const rows = new IntStack(16);
  let parent = new Int32Array(16);
  let prevStart = 0;
  let prevEnd = 0;
  const constT = threshold.kind === 'constant' ? threshold.value : 0;
  const tmap = threshold.kind === 'map' ? threshold.values : null;
  // a constant threshold and no bad pixel (the usual case) take a scan with a single comparison per pixel
  const plain = tmap === null && bad === null;
  for (let y = 0; y < height; y++) {
    const rowStart = x0s.length;
    const o = y * width;
    let x = 0;
    while (x < width) {
      // find the start of a run, then its end
      if (plain) while (x < width && !(filtered[o + x] > constT)) x++;
      else
        for (; x < width; x++) {
          const p = o + x;
          if (isOn(filtered[p], p)) break;
        }
      if (x >= width) break;
      const a = x;
      if (plain) for (x++; x < width && filtered[o + x] > constT; x++);
      else
        for (x++; x < width; x++) {
          const p = o + x;
          if (!isOn(filtered[p], p)) break;
        }
      if (on) for (let q = o + a; q < o + x; q++) on[q] = 1;
      const id = x0s.length;
      x0s.push(a);
      x1s.push(x);
      rows.push(y);
      if (id >= parent.length) {
        const np = new Int32Array(parent.length * 2);
        np.set(parent);
        parent = np;
      }
      parent[id] = id;
    }
    // union with overlapping (8-connected) runs of the previous row
    let j = prevStart;
    const rowEnd = x0s.length;
    for (let i = rowStart; i < rowEnd; i++) {
      const a = x0s.data[i];
      const b = x1s.data[i];
      while (j < prevEnd && x1s.data[j] < a) j++;
      for (let k = j; k < prevEnd && x0s.data[k] <= b; k++) {
        const ri = find(parent, i);
        const rk = find(parent, k);
        if (ri !== rk) {
          if (ri < rk) parent[rk] = ri;
          else parent[ri] = rk;
        }
      }
    }
    prevStart = rowStart;
    prevEnd = rowEnd;
  }

  function isOn(v: number, p: number): boolean {
    if (bad !== null && bad[p] !== 0) return false;
    return tmap === null ? v > constT : v > tmap[p];
  }
  return { x0s, x1s, rows, parent };
}

/**
 * Label pixels with filtered > threshold (strictly, as SExtractor) that are not bad, 8-connected, keeping
 * components of at least minArea pixels. Components come out in SExtractor's completion order: by their last
 * pixel in raster order (an object is complete when the scan passes the end of its last row).
 * `on`, when given (zeroed, one byte per pixel), gets 1 at every such pixel whatever its component's size
 * (the map aboveThreshold makes, without another pass over the image).
 */
export function labelComponents(
  filtered: Float32Array,
  width: number,
  height: number,
  threshold: Threshold,
  bad: Uint8Array | null,
  minArea: number,
  on?: Uint8Array,
): Components {
  const { x0s, x1s, rows, parent } = scanRuns(filtered, width, height, threshold, bad, on);
  const nruns = x0s.length;
  const size = new Int32Array(nruns);
  const lastRun = new Int32Array(nruns);
  for (let i = 0; i < nruns; i++) {
    const r = find(parent, i);
    parent[i] = r;
    size[r] += x1s.data[i] - x0s.data[i];
    lastRun[r] = i;
  }
  // component ids in completion order (order of their last run)
  const compOf = new Int32Array(nruns).fill(-1);
  let count = 0;
  for (let i = 0; i < nruns; i++) {
    const r = parent[i];
    if (lastRun[r] === i && size[r] >= minArea) compOf[r] = count++;
  }
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < nruns; i++) {
    const r = parent[i];
    if (lastRun[r] === i && compOf[r] >= 0) offsets[compOf[r] + 1] = size[r];
  }
  for (let c = 0; c < count; c++) offsets[c + 1] += offsets[c];
  const fill = offsets.slice(0, count);
  const pixels = new Int32Array(offsets[count]);
  for (let i = 0; i < nruns; i++) {
    const c = compOf[parent[i]];
    if (c < 0) continue;
    const base = rows.data[i] * width;
    let f = fill[c];
    for (let x = x0s.data[i]; x < x1s.data[i]; x++) pixels[f++] = base + x;
    fill[c] = f;
  }
  return { count, offsets, pixels };
}

/**
 * Map (1 = yes) of the pixels labelComponents sees as "on": filtered > threshold and not bad, whatever the size
 * of the component they belong to. These are the pixels SExtractor blanks from the image during its scan.
 */
export function aboveThreshold(filtered: Float32Array, threshold: Threshold, bad: Uint8Array | null): Uint8Array {
  const n = filtered.length;
  const out = new Uint8Array(n);
  if (threshold.kind === 'constant') {
    const t = threshold.value;
    for (let p = 0; p < n; p++) out[p] = filtered[p] > t ? 1 : 0;
  } else {
    const t = threshold.values;
    for (let p = 0; p < n; p++) out[p] = filtered[p] > t[p] ? 1 : 0;
  }
  if (bad !== null) for (let p = 0; p < n; p++) if (bad[p] !== 0) out[p] = 0;
  return out;
}
