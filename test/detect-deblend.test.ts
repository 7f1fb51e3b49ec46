/**
 * Deblending and CLEAN on simulated images (truth known), each also checked against source-extractor run on the
 * same FITS file (BACK_TYPE MANUAL 0: the simulated background is exactly 0).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectSources, FLAG, type DetectionResult } from '../src/detect/index.js';
import { GlibcRand } from '../src/detect/rand.js';
import { CACHE, astropyImage, astropyWriteImage, hasAstropy, hasSextractor, runPython, runSextractor } from './helpers/oracle.js';

const canSex = hasAstropy && hasSextractor;
if (!canSex) console.warn('detect-deblend.test: astropy or source-extractor missing: SExtractor comparisons SKIPPED');
const DIR = path.join(CACHE, 'detect-sim');
mkdirSync(DIR, { recursive: true });

/** Deterministic uniform generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function noise(w: number, h: number, sigma: number, seed: number): Float32Array {
  const r = rng(seed);
  const d = new Float32Array(w * h);
  for (let i = 0; i < d.length; i += 2) {
    const m = Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12)));
    const v = 2 * Math.PI * r();
    d[i] = sigma * m * Math.cos(v);
    if (i + 1 < d.length) d[i + 1] = sigma * m * Math.sin(v);
  }
  return d;
}

function addGaussian(d: Float32Array, w: number, x0: number, y0: number, flux: number, sigma: number): void {
  const h = d.length / w;
  const a = flux / (2 * Math.PI * sigma * sigma);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] += a * Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma * sigma));
}

const SEX_PARAMS = ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'FLAGS', 'THRESHOLD', 'ISOAREAF_IMAGE'];

/** Run SExtractor on the simulated image; return its catalogue, segmentation and our detection at its threshold. */
function againstSextractor(name: string, d: Float32Array, w: number, config: Record<string, string>, opts: Parameters<typeof detectSources>[2] = {}) {
  const file = path.join(DIR, `${name}.fits`);
  if (!existsSync(file)) astropyWriteImage(file, { width: w, height: d.length / w, data: d });
  const sx = runSextractor(file, SEX_PARAMS, { BACK_TYPE: 'MANUAL', BACK_VALUE: '0', ...config }, ['SEGMENTATION']);
  const col = sx.columns as Record<string, number[]>;
  const res = detectSources({ width: w, height: d.length / w, data: d }, col.THRESHOLD[0] / 1.5, opts);
  const seg = astropyImage(sx.checkImages.SEGMENTATION).data;
  return { col, n: sx.nrows, seg, res };
}

function expectSameAsSextractor(s: ReturnType<typeof againstSextractor>): void {
  expect(s.res.objects.length).toBe(s.n);
  s.res.objects.forEach((o, i) => {
    expect(o.moments!.mx + 1).toBeCloseTo(s.col.X_IMAGE[i], 3);
    expect(o.moments!.my + 1).toBeCloseTo(s.col.Y_IMAGE[i], 3);
    expect(o.flags & (FLAG.BLENDED | FLAG.TRUNCATED)).toBe(s.col.FLAGS[i] & (FLAG.BLENDED | FLAG.TRUNCATED));
    expect(o.pixels.length + (o.cleaned?.length ?? 0)).toBe(s.col.ISOAREAF_IMAGE[i]);
  });
  let diff = 0;
  for (let p = 0; p < s.seg.length; p++) if (s.seg[p] !== s.res.segmentation[p]) diff++;
  expect(diff).toBe(0);
}

const W = 64;
const SIGMA = 1.5;
/** Pair of stars (fluxes 20000 and 10000, PSF sigma 1.5 px) separated by sep along x; 0-based truth. */
function pair(sep: number, seed = 7) {
  const truth = [
    { x: 31.3 - sep / 2, y: 32.2, f: 20000 },
    { x: 31.3 + sep / 2, y: 32.2, f: 10000 },
  ];
  const d = noise(W, W, 10, seed);
  for (const t of truth) addGaussian(d, W, t.x, t.y, t.f, SIGMA);
  return { d, truth };
}

function fluxOf(res: DetectionResult, k: number, d: Float32Array): number {
  let s = 0;
  for (const p of res.objects[k].pixels) s += d[p];
  return s;
}

describe('deblending of a simulated pair of Gaussian stars', () => {
  it('well separated: two isolated detections at the true positions', () => {
    const { d, truth } = pair(20);
    const res = detectSources({ width: W, height: W, data: d }, 10);
    expect(res.objects.length).toBe(2);
    const byX = [...res.objects].sort((a, b) => a.moments!.mx - b.moments!.mx);
    byX.forEach((o, k) => {
      expect(o.flags & FLAG.BLENDED).toBe(0);
      expect(Math.abs(o.moments!.mx - truth[k].x)).toBeLessThan(0.05);
      expect(Math.abs(o.moments!.my - truth[k].y)).toBeLessThan(0.05);
    });
  });

  it('merged isophotes, two peaks: split into two BLENDED children near the truth, flux shared ~2:1', () => {
    const { d, truth } = pair(6);
    const res = detectSources({ width: W, height: W, data: d }, 10);
    expect(res.objects.length).toBe(2);
    const order = [0, 1].sort((a, b) => res.objects[a].moments!.mx - res.objects[b].moments!.mx);
    order.forEach((k, t) => {
      const o = res.objects[k];
      expect(o.flags & FLAG.BLENDED).toBe(FLAG.BLENDED);
      expect(Math.abs(o.moments!.mx - truth[t].x)).toBeLessThan(0.3);
      expect(Math.abs(o.moments!.my - truth[t].y)).toBeLessThan(0.3);
    });
    const f0 = fluxOf(res, order[0], d);
    const f1 = fluxOf(res, order[1], d);
    expect(f0 / (f0 + f1)).toBeGreaterThan(0.6);
    expect(f0 / (f0 + f1)).toBeLessThan(0.73);
    // the children partition the single detection: no pixel in both, none lost
    const all = new Set<number>();
    for (const o of res.objects) for (const p of o.pixels) all.add(p);
    expect(all.size).toBe(res.objects[0].pixels.length + res.objects[1].pixels.length);
    // a contrast threshold above the companion's share keeps them together
    const high = detectSources({ width: W, height: W, data: d }, 10, { deblendMincont: 0.5 });
    expect(high.objects.length).toBe(1);
    expect(high.objects[0].flags & FLAG.BLENDED).toBe(0);
    // no sub-thresholds at all: no deblending
    expect(detectSources({ width: W, height: W, data: d }, 10, { deblendNthresh: 1 }).objects.length).toBe(1);
  });

  it('too close to resolve: one object at the flux-weighted centre', () => {
    const { d, truth } = pair(2);
    const res = detectSources({ width: W, height: W, data: d }, 10);
    expect(res.objects.length).toBe(1);
    expect(res.objects[0].flags & FLAG.BLENDED).toBe(0);
    const xc = (truth[0].x * truth[0].f + truth[1].x * truth[1].f) / (truth[0].f + truth[1].f);
    expect(Math.abs(res.objects[0].moments!.mx - xc)).toBeLessThan(0.1);
  });

  it('the hash draws are deterministic and share the same objects (only wing pixels move)', () => {
    const { d } = pair(6);
    const a = detectSources({ width: W, height: W, data: d }, 10, { deblendDraws: 'hash', seed: 5 });
    const b = detectSources({ width: W, height: W, data: d }, 10, { deblendDraws: 'hash', seed: 5 });
    const g = detectSources({ width: W, height: W, data: d }, 10);
    expect(Buffer.compare(Buffer.from(a.segmentation.buffer), Buffer.from(b.segmentation.buffer))).toBe(0);
    expect(a.objects.length).toBe(g.objects.length);
    a.objects.forEach((o, k) => expect(o.moments!.mx).toBeCloseTo(g.objects[k].moments!.mx, 6));
  });

  it.skipIf(!canSex)('matches source-extractor exactly for separations 2, 6, 10 and 20 px', () => {
    for (const sep of [2, 6, 10, 20]) expectSameAsSextractor(againstSextractor(`pair-${sep}`, pair(sep).d, W, {}));
  });
});

describe('CLEAN: a bright star with a noisy wing', () => {
  // Moffat star (beta 1.5) 2e5 counts at peak on sigma = 10 noise, plus one real faint star far away
  const N = 256;
  const star = { x: 127.4, y: 128.7 };
  const d = noise(N, N, 10, 3);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) d[y * N + x] += 2e5 * Math.pow(1 + ((x - star.x) ** 2 + (y - star.y) ** 2) / 4, -1.5);
  addGaussian(d, N, 30.2, 220.6, 3000, 1.5);
  const dist = (o: { moments?: { mx: number; my: number } }) => Math.hypot(o.moments!.mx - star.x, o.moments!.my - star.y);

  it('without CLEAN the wing breaks into spurious detections; CLEAN merges them into the star', () => {
    const sig = 10;
    const raw = detectSources({ width: N, height: N, data: d }, sig, { clean: false });
    const cleaned = detectSources({ width: N, height: N, data: d }, sig);
    const spurious = raw.objects.filter((o) => dist(o) > 20 && dist(o) < 100);
    expect(spurious.length).toBeGreaterThan(5);
    expect(cleaned.objects.filter((o) => dist(o) > 20 && dist(o) < 100).length).toBe(0);
    // the real faint star survives, and the star holds the merged pixels (counted, labelled, not in its moments)
    expect(cleaned.objects.some((o) => Math.hypot(o.moments!.mx - 30.2, o.moments!.my - 220.6) < 0.2)).toBe(true);
    const main = cleaned.objects.find((o) => dist(o) < 1)!;
    expect(main.cleaned?.length ?? 0).toBeGreaterThan(5 * spurious.length - 1);
    const k = cleaned.objects.indexOf(main) + 1;
    for (const p of main.cleaned ?? []) expect(cleaned.segmentation[p]).toBe(k);
    expect(main.moments!.fdnpix).toBe(main.pixels.length + (main.cleaned?.length ?? 0));
  });

  it.skipIf(!canSex)('matches source-extractor with CLEAN Y and CLEAN N', () => {
    const on = againstSextractor('clean-star', d, N, { CLEAN: 'Y' });
    expectSameAsSextractor(on);
    expect(on.n).toBe(2);
    const off = againstSextractor('clean-star', d, N, { CLEAN: 'N' }, { clean: false });
    expectSameAsSextractor(off);
    expect(off.n).toBeGreaterThan(10);
  });
});

describe('random draws', () => {
  it.skipIf(!hasAstropy)("GlibcRand reproduces the C library's rand() (seed 1 and srand(12345))", () => {
    const ref = JSON.parse(
      runPython(`import ctypes, json
libc = ctypes.CDLL('libc.so.6')
a = [libc.rand() for _ in range(1000)]
libc.srand(12345)
b = [libc.rand() for _ in range(10)]
print(json.dumps([a, b]))`),
    ) as number[][];
    const g = new GlibcRand();
    expect(ref[0].map(() => g.next())).toEqual(ref[0]);
    const h = new GlibcRand(12345);
    expect(ref[1].map(() => h.next())).toEqual(ref[1]);
  });
});
