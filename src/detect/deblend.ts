/**
 * Multi-threshold deblending, as SExtractor 2.25 (refine.c: parcelout() + gatherup()):
 *  - DEBLEND_NTHRESH levels t_k = t0 (peak / t0)^(k / N), k = 1..N-1, between the detection threshold t0 and
 *    the filtered peak; at each level the 8-connected parts (of >= min(3, MINAREA) pixels) of the object above
 *    t_k form the nodes of a tree (a part's parent is the part of the level below that contains it);
 *  - top-down from the highest level, a node with more than one "significant" son (flux above the son's own
 *    level > DEBLEND_MINCONT x total flux) is split: its significant, not-already-split sons become branches;
 *  - the object's pixels outside all branches are shared among the branches with probabilities proportional to
 *    a Gaussian model of each branch (amplitude from its area, shape from its moments).
 * SExtractor draws that last assignment with rand(): by default we replay the same (glibc) sequence in the same
 * order, so that the result is deterministic and identical to a Linux SExtractor's; the 'hash' option instead
 * draws from a hash of the pixel's position, independent of processing order (see gather.ts).
 * Levels are found with one union-find pass adding the pixels level by level instead of a re-scan per level.
 */
import type { GlibcRand } from './rand.js';
import { LutzScratch, sextractorListOrder } from './lutzorder.js';
import { edgeFlag, gatherUp } from './gather.js';
import { find } from './label.js';

export interface DeblendContext {
  readonly width: number;
  readonly height: number;
  readonly filtered: Float32Array;
  readonly image: Float32Array;
  readonly nthresh: number;
  readonly mincont: number;
  /** minimum pixel count of a part at a sub-threshold: min(DETECT_MINAREA, 3) */
  readonly partMinArea: number;
  /** abcor = 1 in the branch models (SExtractor with a detection weight map) */
  readonly noAbcor?: boolean;
  /** source of the draws that share the wings: SExtractor's rand() sequence, or a hash of pixel positions */
  readonly draws: { readonly kind: 'glibc'; readonly rand: GlibcRand } | { readonly kind: 'hash'; readonly seed: number };
}

export interface Child {
  /** ascending linear pixel indices */
  readonly pixels: Int32Array;
  /** BLENDED for split objects, TRUNCATED if the (branch) pixels touch the image edge */
  readonly flags: number;
  /** barycentre of the branch (filtered-weighted, above its level), for split objects only */
  readonly centre: { readonly x: number; readonly y: number } | null;
  /** the same pixels in SExtractor's pixel-list order (when asked for), see lutzorder.ts */
  readonly order: Int32Array | null;
}

/** An object's bounding box: origin and size of the local map (DeblendScratch.map) of its pixels. */
export interface ObjectBox {
  readonly xmin: number;
  readonly ymin: number;
  readonly bw: number;
  readonly bh: number;
}

/** Growable scratch buffers shared across objects (no per-pixel allocation). */
export class DeblendScratch {
  map = new Int32Array(0);
  parent = new Int32Array(0);
  size = new Int32Array(0);
  maxI = new Int32Array(0);
  live = new Int32Array(0);
  livePos = new Int32Array(0);
  owner = new Int32Array(0);
  queue = new Int32Array(0);
  stamp = new Int32Array(0);
  node = new Int32Array(0);
  order = new Int32Array(0);
  lev = new Int32Array(0);
  flux = new Float64Array(0);
  vals = new Float32Array(0);
  /** per level: thresholds, and bucket counts then starts (xn + 1) */
  thr = new Float64Array(0);
  bucket = new Int32Array(0);
  readonly lutz = new LutzScratch();

  ensure(n: number, area: number): void {
    if (this.map.length < area) this.map = new Int32Array(Math.max(area, this.map.length * 2));
    if (this.parent.length < n) {
      const m = Math.max(n, this.parent.length * 2);
      this.parent = new Int32Array(m);
      this.size = new Int32Array(m);
      this.maxI = new Int32Array(m);
      this.live = new Int32Array(m);
      this.livePos = new Int32Array(m);
      this.owner = new Int32Array(m);
      this.queue = new Int32Array(m);
      this.stamp = new Int32Array(m);
      this.node = new Int32Array(m);
      this.order = new Int32Array(m);
      this.lev = new Int32Array(m);
      this.flux = new Float64Array(m);
      this.vals = new Float32Array(m);
    }
  }
}

/**
 * Deblend one detection (ascending pixel list `root`, detection threshold t0) into its children, in
 * SExtractor's output order. An object that is not split comes back alone, unflagged except TRUNCATED.
 * wantOrder: also return each child's pixels in SExtractor's list order (branch core, then shared pixels).
 */
export function deblend(root: Int32Array, t0: number, ctx: DeblendContext, s: DeblendScratch, wantOrder = false): Child[] {
  const { width, height, filtered } = ctx;
  const n = root.length;
  let fdflux = 0;
  let fdpeak = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = filtered[root[i]];
    fdflux += v;
    if (v > fdpeak) fdpeak = v;
  }
  // an object that stays whole keeps `root` itself (a view of the labelling's pixel list: no copy per object)
  const whole = (): Child[] => [
    { pixels: root, flags: edgeFlag(root, 0, n, width, height), centre: null, order: wantOrder ? sextractorListOrder(root, width, s.lutz) : null },
  ];
  const xn = ctx.nthresh;
  if (xn < 2 || n < 2 * ctx.partMinArea || !(t0 > 0) || !(fdpeak > t0)) return whole();
  // local map of the bounding box -> index in root
  let xmin = width;
  let xmax = -1;
  for (let i = 0; i < n; i++) {
    const x = root[i] % width;
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
  }
  const ymin = Math.floor(root[0] / width);
  const ymax = Math.floor(root[n - 1] / width);
  const bw = xmax - xmin + 1;
  const bh = ymax - ymin + 1;
  s.ensure(n, bw * bh);
  const map = s.map;
  map.fill(-1, 0, bw * bh);
  for (let i = 0; i < n; i++) {
    const p = root[i];
    const y = Math.floor(p / width);
    map[(y - ymin) * bw + (p - y * width - xmin)] = i;
  }
  // Two parts at some level need two pixels that are >= all their neighbours in the object (the maximum of
  // each part is one): with a single such pixel, no level can split.
  if (countLocalMaxima(root, filtered, map, width, xmin, ymin, bw, bh, 2) < 2) return whole();
  const value0 = Math.fround(fdflux) * ctx.mincont;
  if (s.thr.length < xn + 1) {
    s.thr = new Float64Array(xn + 1);
    s.bucket = new Int32Array(xn + 1);
  }
  const thr = s.thr;
  for (let k = 0; k < xn; k++) thr[k] = Math.fround(t0 * Math.pow(fdpeak / t0, k / xn));
  // bucket the pixels by the highest level they exceed (order inside a level does not matter)
  const vals = s.vals;
  const lev = s.lev;
  const bucket = s.bucket;
  bucket.fill(0, 0, xn + 1);
  for (let i = 0; i < n; i++) {
    const v = filtered[root[i]];
    vals[i] = v;
    let lo = 0;
    let hi = xn - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (v > thr[mid]) lo = mid;
      else hi = mid - 1;
    }
    lev[i] = lo;
    bucket[lo]++;
  }
  // bucket[k] becomes the start of level k in `order`, highest level first
  let acc = 0;
  for (let k = xn - 1; k >= 0; k--) {
    const c = bucket[k];
    bucket[k] = acc;
    acc += c;
  }
  const order = s.order;
  for (let i = 0; i < n; i++) order[bucket[lev[i]]++] = i;

  const tree = levelTree(root, vals, order, bucket, n, fdflux, xn, ctx, s, xmin, ymin, bw, bh);
  // a split needs a level with two parts or more
  if (tree === null) return whole();
  const branches = cutTree(tree, xn, thr, value0);
  if (branches === null) return whole();
  const reps = branches.map((b) => ({ rep: tree.rep[b], thresh: thr[tree.level[b]] }));
  return gatherUp(root, t0, reps, ctx, s, { xmin, ymin, bw, bh }, wantOrder);
}

/** Nodes of the level tree (node 0 = the whole object at level 0): level, pixel count, flux, last pixel, a member, parent. */
interface LevelTree {
  level: number[];
  size: number[];
  flux: number[];
  max: number[];
  rep: number[];
  parent: number[];
}

/**
 * The parts of the object above each level, from one union-find pass over the pixels added level by level from
 * the top ("live" lists the current roots); null when no level has two parts (nothing can split). Kept apart from
 * deblend() so that each compiles quickly.
 */
function levelTree(
  root: Int32Array,
  vals: Float32Array,
  order: Int32Array,
  bucket: Int32Array,
  n: number,
  fdflux: number,
  xn: number,
  ctx: DeblendContext,
  s: DeblendScratch,
  xmin: number,
  ymin: number,
  bw: number,
  bh: number,
): LevelTree | null {
  const width = ctx.width;
  const map = s.map;
  const { parent, size, maxI, live, livePos, flux, stamp, node } = s;
  let nlive = 0;
  for (let i = 0; i < n; i++) {
    parent[i] = -1;
    stamp[i] = -1;
  }
  const t: LevelTree = { level: [0], size: [n], flux: [fdflux], max: [n - 1], rep: [0], parent: [-1] };
  let prevFirst = 1;
  let prevEnd = 1;
  let ptr = 0;
  let forks = false;
  for (let k = xn - 1; k >= 1; k--) {
    for (; ptr < bucket[k]; ptr++) {
      const i = order[ptr];
      parent[i] = i;
      size[i] = 1;
      flux[i] = vals[i];
      maxI[i] = i;
      livePos[i] = nlive;
      live[nlive++] = i;
      const p = root[i];
      const y = Math.floor(p / width) - ymin;
      const x = p % width - xmin;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= bh) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= bw || (dx === 0 && dy === 0)) continue;
          const j = map[yy * bw + xx];
          if (j < 0 || parent[j] < 0) continue;
          let ra = find(parent, i);
          let rb = find(parent, j);
          if (ra === rb) continue;
          if (size[ra] < size[rb] || (size[ra] === size[rb] && ra > rb)) {
            const tmp = ra;
            ra = rb;
            rb = tmp;
          }
          parent[rb] = ra;
          size[ra] += size[rb];
          flux[ra] += flux[rb];
          if (maxI[rb] > maxI[ra]) maxI[ra] = maxI[rb];
          const pos = livePos[rb];
          const last = live[--nlive];
          live[pos] = last;
          livePos[last] = pos;
        }
      }
    }
    // snapshot of level k
    const first = t.level.length;
    for (let q = 0; q < nlive; q++) {
      const r = live[q];
      if (size[r] < ctx.partMinArea) continue;
      stamp[r] = k;
      node[r] = t.level.length;
      t.level.push(k);
      t.size.push(size[r]);
      t.flux.push(flux[r]);
      t.max.push(maxI[r]);
      t.rep.push(r);
      t.parent.push(0);
    }
    for (let c = prevFirst; c < prevEnd; c++) {
      const r = find(parent, t.rep[c]);
      t.parent[c] = stamp[r] === k ? node[r] : 0;
    }
    prevFirst = first;
    prevEnd = t.level.length;
    if (prevEnd - prevFirst > 1) forks = true;
  }
  for (let c = prevFirst; c < prevEnd; c++) t.parent[c] = 0;
  return forks ? t : null;
}

/**
 * SExtractor's top-down cut of the level tree: sons in its order (completion order = last pixel); a node with more
 * than one significant son (flux above the son's own level > mincont x total) is split into its significant sons
 * not already split. The branches, or null when the object stays whole.
 */
function cutTree(t: LevelTree, xn: number, thr: Float64Array, value0: number): number[] | null {
  const nn = t.level.length;
  const sons: number[][] = Array.from({ length: nn }, () => []);
  for (let c = 1; c < nn; c++) sons[t.parent[c]].push(c);
  for (const l of sons) if (l.length > 1) l.sort((a, b) => t.max[a] - t.max[b]);
  const levels: number[][] = [[0]];
  for (let k = 1; k < xn; k++) {
    const row: number[] = [];
    for (const i of levels[k - 1]) for (const j of sons[i]) row.push(j);
    levels.push(row);
  }
  const ok = new Uint8Array(nn).fill(1);
  // flux above the son's own level (float arithmetic as SExtractor)
  const significant = (j: number): boolean => Math.fround(Math.fround(t.flux[j]) - Math.fround(thr[t.level[j]] * t.size[j])) > value0;
  const branches: number[] = [];
  for (let k = xn - 2; k >= 0; k--) {
    for (const i of levels[k]) {
      let m = 0;
      for (const j of sons[i]) {
        if (significant(j)) m++;
        ok[i] &= ok[j];
      }
      if (m > 1) {
        for (const j of sons[i]) if (ok[j] && significant(j)) branches.push(j);
        ok[i] = 0;
      }
    }
  }
  return ok[0] ? null : branches;
}

/** Count (up to `stop`) the pixels whose filtered value is >= that of each of their 8 neighbours in the object. */
function countLocalMaxima(
  root: Int32Array,
  filtered: Float32Array,
  map: Int32Array,
  width: number,
  xmin: number,
  ymin: number,
  bw: number,
  bh: number,
  stop: number,
): number {
  let count = 0;
  for (let i = 0; i < root.length; i++) {
    const p = root[i];
    const v = filtered[p];
    const y = Math.floor(p / width) - ymin;
    const x = (p % width) - xmin;
    let isMax = true;
    for (let dy = -1; dy <= 1 && isMax; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= bh) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= bw || (dx === 0 && dy === 0)) continue;
        const j = map[yy * bw + xx];
        if (j >= 0 && filtered[root[j]] > v) {
          isMax = false;
          break;
        }
      }
    }
    if (isMax && ++count >= stop) return count;
  }
  return count;
}
