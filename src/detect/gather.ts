/**
 * SExtractor's gatherup(): the pixels of a split object that lie outside every branch are shared among the
 * branches. Each branch is modelled by a Gaussian, amp exp(-r^2/2) with r^2 from its CXX/CYY/CXY ellipse (over
 * abcor) and amp = t0 exp(area / (2 pi abcor a b)) capped at 4 x its filtered peak; each shared pixel is drawn
 * at random with probabilities proportional to the branch models there (nearest ellipse if they all vanish).
 * Pixels are visited in SExtractor's list order and the arithmetic mirrors its float/double mix, so that with
 * the glibc draws the result matches a Linux SExtractor pixel for pixel (barring rare last-bit ties).
 */
import { FLAG } from './types.js';
import type { Child, DeblendContext, DeblendScratch, ObjectBox } from './deblend.js';
import { sextractorListOrder } from './lutzorder.js';
import { SEX_PI, objectMoments, type Moments } from './moments.js';
import { GlibcRand } from './rand.js';

const f32 = Math.fround;
const RAND_MAX_F = f32(GlibcRand.RAND_MAX);

/** 32-bit integer hash (lowbias32 mix) of a pixel index and seed -> uniform in [0, 1). */
export function hashUniform(i: number, seed: number): number {
  let x = (i ^ Math.imul(seed, 0x9e3779b9)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

/** TRUNCATED if any of pixels[from..to) lies on the image border. */
export function edgeFlag(pixels: Int32Array, from: number, to: number, width: number, height: number): number {
  for (let i = from; i < to; i++) {
    const p = pixels[i];
    const y = Math.floor(p / width);
    const x = p - y * width;
    if (x === 0 || y === 0 || x === width - 1 || y === height - 1) return FLAG.TRUNCATED;
  }
  return 0;
}

/**
 * Build the children of a split object from its branches (each given by one pixel `rep` of the branch, an index
 * into root, and the level it was found at). Children come in branch order. (Written as three functions, each
 * quick to compile: flood fill, sharing of the wings, assembly.)
 */
export function gatherUp(
  root: Int32Array,
  t0: number,
  branches: { rep: number; thresh: number }[],
  ctx: DeblendContext,
  s: DeblendScratch,
  box: ObjectBox,
  wantOrder: boolean,
): Child[] {
  const { width, height, filtered, image } = ctx;
  const n = root.length;
  s.owner.fill(-1, 0, n);
  const nb = branches.length;
  // flood-fill each branch: its part of the object above its own level
  const members: Int32Array[] = [];
  for (let b = 0; b < nb; b++) members.push(floodBranch(root, branches[b].rep, branches[b].thresh, b, width, filtered, s, box));
  // Gaussian model of each branch (moments above the branch's own level)
  const mom = members.map((px, b) => objectMoments(px, 0, px.length, width, filtered, image, branches[b].thresh, undefined, ctx.noAbcor));
  const amp = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    const m = mom[b];
    const d = f32(m.fdnpix / (2 * SEX_PI * m.abcor * m.a * m.b));
    amp[b] = d < 70 ? f32(t0 * f32(Math.exp(d))) : f32(4 * m.fdpeak);
    if (amp[b] > 4 * m.fdpeak) amp[b] = f32(4 * m.fdpeak);
  }
  const rootOrder = sextractorListOrder(root, width, s.lutz);
  const extra = shareWings(rootOrder, n, mom, amp, width, ctx.draws, s, box);
  const children: Child[] = [];
  for (let b = 0; b < nb; b++) {
    const core = members[b];
    const px = new Int32Array(core.length + extra[b]);
    px.set(core);
    let order: Int32Array | null = null;
    if (wantOrder) {
      order = new Int32Array(px.length);
      order.set(sextractorListOrder(core, width, s.lutz));
    }
    // shared pixels, in the root's list order (SExtractor appends them so)
    appendShared(px, order, core.length, rootOrder, n, nb + b, width, s, box);
    px.sort();
    children.push({
      pixels: px,
      flags: FLAG.BLENDED | edgeFlag(core, 0, core.length, width, height),
      centre: { x: mom[b].mx, y: mom[b].my },
      order,
    });
  }
  return children;
}

/** Pixels of branch b: its 8-connected part above `thresh` from pixel `rep` (marked b in s.owner), ascending. */
function floodBranch(
  root: Int32Array,
  rep: number,
  thresh: number,
  b: number,
  width: number,
  filtered: Float32Array,
  s: DeblendScratch,
  box: ObjectBox,
): Int32Array {
  const { xmin, ymin, bw, bh } = box;
  const owner = s.owner;
  const queue = s.queue;
  const map = s.map;
  let head = 0;
  let tail = 0;
  queue[tail++] = rep;
  owner[rep] = b;
  while (head < tail) {
    const i = queue[head++];
    const p = root[i];
    const y = Math.floor(p / width) - ymin;
    const x = (p % width) - xmin;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= bh) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= bw) continue;
        const j = map[yy * bw + xx];
        if (j < 0 || owner[j] !== -1 || !(filtered[root[j]] > thresh)) continue;
        owner[j] = b;
        queue[tail++] = j;
      }
    }
  }
  const px = new Int32Array(tail);
  for (let q = 0; q < tail; q++) px[q] = root[queue[q]];
  px.sort();
  return px;
}

/**
 * Share the pixels outside every branch (in SExtractor's list order `rootOrder`): each is drawn among the branches
 * with probabilities proportional to their models there (nearest ellipse if they all vanish) and marked
 * nb + branch in s.owner. Returns the number of pixels each branch got.
 */
function shareWings(
  rootOrder: Int32Array,
  n: number,
  mom: readonly Moments[],
  amp: Float64Array,
  width: number,
  draws: DeblendContext['draws'],
  s: DeblendScratch,
  box: ObjectBox,
): Int32Array {
  const { xmin, ymin, bw } = box;
  const owner = s.owner;
  const nb = mom.length;
  const extra = new Int32Array(nb);
  const cum = new Float64Array(nb);
  for (let r = 0; r < n; r++) {
    const p = rootOrder[r];
    const y = Math.floor(p / width);
    const x = p - y * width;
    const i = s.map[(y - ymin) * bw + (x - xmin)];
    if (owner[i] !== -1) continue;
    let distmin = 1e31;
    let closest = 0;
    let acc = 0;
    for (let b = 0; b < nb; b++) {
      const m = mom[b];
      const dx = f32(x - m.mx);
      const dy = f32(y - m.my);
      const q = f32(f32(f32(f32(m.cxx * dx) * dx) + f32(f32(m.cyy * dy) * dy)) + f32(f32(m.cxy * dx) * dy));
      const dist = f32((0.5 * q) / m.abcor);
      acc = f32(acc + (dist < 70 ? f32(amp[b] * f32(Math.exp(-dist))) : 0));
      cum[b] = acc;
      if (dist < distmin) {
        distmin = dist;
        closest = b;
      }
    }
    let pick = closest;
    if (acc > 1e-31) {
      const draw =
        draws.kind === 'glibc' ? f32(f32(acc * f32(draws.rand.next())) / RAND_MAX_F) : acc * hashUniform(p, draws.seed);
      let b = 0;
      while (b < nb && cum[b] < draw) b++;
      if (b < nb) pick = b;
    }
    owner[i] = nb + pick;
    extra[pick]++;
  }
  return extra;
}

/** Append the shared pixels marked `mark` in s.owner to px (and order) from index `from`, in rootOrder's order. */
function appendShared(
  px: Int32Array,
  order: Int32Array | null,
  from: number,
  rootOrder: Int32Array,
  n: number,
  mark: number,
  width: number,
  s: DeblendScratch,
  box: ObjectBox,
): void {
  const { xmin, ymin, bw } = box;
  const owner = s.owner;
  let f = from;
  for (let r = 0; r < n; r++) {
    const p = rootOrder[r];
    const y = Math.floor(p / width);
    if (owner[s.map[(y - ymin) * bw + (p - y * width - xmin)]] !== mark) continue;
    px[f] = p;
    if (order) order[f] = p;
    f++;
  }
}
