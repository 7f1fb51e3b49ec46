/**
 * Focal-plane (visit-level) background against simulation truth: seams between CCDs, accuracy over whole CCDs,
 * robustness to an extended object spanning CCDs, merge associativity and speed, compared with per-CCD backgrounds.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimateBackground, interpolate, type BackgroundModel, type MeshStatistics } from '../src/background/index.js';
import { applyFocalBackground, evaluateFocalBackground, focalBackgroundGrid, mergeFocalBackground, solveFocalBackground, summarizeFocalBackground, type FocalBackground, type FocalBackgroundSummary } from '../src/background/focal.js';
import { cameraFromHdus } from '../src/camera/from-wcs.js';
import { pixelToFocal, focalToPixel } from '../src/camera/geometry.js';
import type { Camera, DetectorGeom } from '../src/camera/types.js';
import { backgroundOptions } from '../src/pipeline/ccd.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { loadCcd } from '../src/pipeline/load.js';
import { Rng } from '../src/sim/rng.js';
import { simulateVisit } from '../src/sim/visit.js';
import { loadVisitTruth, trueBackgroundAt } from '../src/sim/visit-truth.js';
import type { VisitModel } from '../src/sim/visit-model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(root, 'test/.cache/fp-bg');
const CONFIG = defaultConfig();

interface Ccd {
  sim: DetectorGeom;
  prod: DetectorGeom;
  raw: MeshStatistics;
  model: BackgroundModel;
  ms: number;
}
interface Visit {
  truth: VisitModel;
  camera: Camera;
  ccds: Ccd[];
}
interface Blob {
  fx: number;
  fy: number;
  sigma: number;
  peak: number;
  /** optionally also a constant added to one detector (a per-CCD level mismatch) */
  step?: { detector: number; value: number };
}

const memo = new Map<string, Promise<Visit>>();
/** Simulate (cached on disk by parameters) and estimate every CCD's own background, optionally with a blob added (sim focal mm). */
function prepare(cameraName: string, visit: number, scale: number, seed: number, blob?: Blob): Promise<Visit> {
  const key = JSON.stringify([cameraName, visit, scale, seed, blob]);
  let p = memo.get(key);
  if (!p) memo.set(key, (p = prepareVisit(cameraName, visit, scale, seed, blob)));
  return p;
}

async function prepareVisit(cameraName: string, visit: number, scale: number, seed: number, blob?: Blob): Promise<Visit> {
  const dir = path.join(CACHE, `${cameraName}-v${visit}-s${scale}-seed${seed}`);
  const truthFile = path.join(dir, `truth/${visit}/visit.json`);
  if (!fs.existsSync(truthFile)) {
    fs.rmSync(dir, { recursive: true, force: true });
    await simulateVisit({ camera: cameraName, visit, outDir: dir, scale, seed, jobs: 2 });
  }
  const truth = loadVisitTruth(truthFile);
  const rawDir = path.join(dir, `raw/${visit}`);
  const files = fs.readdirSync(rawDir).filter((f) => f.endsWith('.fits')).sort().map((f) => path.join(rawDir, f));
  const dets = [...truth.camera.detectors].sort((a, b) => a.id - b.id);
  expect(files.length).toBe(dets.length);
  const { camera } = cameraFromHdus(files.map((file, i) => ({ file, hdu: 0, id: dets[i].id })));
  const ccds = files.map((file, i) => {
    const ccd = loadCcd({ image: { file, hdu: 0 } }, CONFIG);
    const sim = dets[i];
    if (blob) addBlob(ccd.image.data, sim, blob);
    const t0 = performance.now();
    const bg = estimateBackground(ccd.image, backgroundOptions(CONFIG));
    const ms = performance.now() - t0;
    return { sim, prod: camera.detectors.find((d) => d.id === sim.id)!, raw: bg.raw, model: bg.model, ms };
  });
  return { truth, camera, ccds };
}

function addBlob(data: Float32Array, det: DetectorGeom, b: Blob): void {
  if (b.step?.detector === det.id) for (let i = 0; i < data.length; i++) data[i] += b.step.value;
  if (!b.peak) return;
  for (let y = 0; y < det.height; y++)
    for (let x = 0; x < det.width; x++) {
      const [fx, fy] = pixelToFocal(det, x, y);
      data[y * det.width + x] += b.peak * Math.exp(-((fx - b.fx) ** 2 + (fy - b.fy) ** 2) / (2 * b.sigma * b.sigma));
    }
}

/** The visit-level reducer path: summaries (in detector order) -> merge -> solve -> per-CCD models. */
function focalModels(v: Visit, useRaw = true): { fb: FocalBackground; models: BackgroundModel[]; parts: FocalBackgroundSummary[] } {
  const grid = focalBackgroundGrid(v.camera);
  const parts = v.ccds.map((c) => summarizeFocalBackground(useRaw ? c.raw : c.model, c.prod, grid));
  const fb = solveFocalBackground(mergeFocalBackground(parts), grid);
  return { fb, parts, models: v.ccds.map((c) => applyFocalBackground(c.model, c.prod, fb)) };
}

interface EdgePoint {
  a: number;
  b: number;
  pa: [number, number];
  pb: [number, number];
}

/**
 * Points along the facing edges of adjacent CCDs (production geometry): from a point `inset` pixels inside an edge of
 * CCD a, go straight out across the gap to the first CCD b hit within `maxGap` mm, then `inset` pixels into b.
 */
function edgePairs(cam: Camera, inset: number, maxGap: number, perEdge: number): EdgePoint[] {
  const out: EdgePoint[] = [];
  const dets = cam.detectors;
  for (const [ia, A] of dets.entries()) {
    const edges: [(t: number) => [number, number], [number, number]][] = [
      [(t) => [t, inset], [0, -1]],
      [(t) => [t, A.height - 1 - inset], [0, 1]],
      [(t) => [inset, t], [-1, 0]],
      [(t) => [A.width - 1 - inset, t], [1, 0]],
    ];
    for (const [e, [edge, dir]] of edges.entries()) {
      const len = e < 2 ? A.width : A.height;
      for (let k = 0; k < perEdge; k++) {
        const t = Math.round(inset + ((len - 1 - 2 * inset) * (k + 0.5)) / perEdge);
        const pa = edge(t);
        const fa = pixelToFocal(A, pa[0], pa[1]);
        const f1 = pixelToFocal(A, pa[0] + dir[0], pa[1] + dir[1]);
        const n = [(f1[0] - fa[0]) / A.pixelSize, (f1[1] - fa[1]) / A.pixelSize];
        let best = Infinity;
        let hit = -1;
        for (const [ib, B] of dets.entries()) {
          if (ib === ia) continue;
          // slab test of the ray fa + s n (s in mm) against B's pixel box
          const p0 = focalToPixel(B, fa[0], fa[1]);
          const p1 = focalToPixel(B, fa[0] + n[0], fa[1] + n[1]);
          let s0 = 0;
          let s1 = maxGap;
          for (const ax of [0, 1]) {
            const d = p1[ax] - p0[ax];
            const lo = -0.5;
            const hi = (ax ? B.height : B.width) - 0.5;
            if (Math.abs(d) < 1e-12) {
              if (p0[ax] < lo || p0[ax] > hi) s0 = Infinity;
              continue;
            }
            const ta = (lo - p0[ax]) / d;
            const tb = (hi - p0[ax]) / d;
            s0 = Math.max(s0, Math.min(ta, tb));
            s1 = Math.min(s1, Math.max(ta, tb));
          }
          if (s0 <= s1 && s0 < best) {
            best = s0;
            hit = ib;
          }
        }
        if (hit < 0) continue;
        const B = dets[hit];
        const s = best + inset * B.pixelSize + 0.5 * B.pixelSize;
        const pb = focalToPixel(B, fa[0] + s * n[0], fa[1] + s * n[1]);
        const pbr: [number, number] = [Math.round(pb[0]), Math.round(pb[1])];
        if (pbr[0] < 0 || pbr[1] < 0 || pbr[0] >= B.width || pbr[1] >= B.height) continue;
        if (A.id < B.id) out.push({ a: ia, b: hit, pa, pb: pbr });
        else out.push({ a: hit, b: ia, pa: pbr, pb: pa });
      }
    }
  }
  return out;
}

interface Stats {
  /** rms of the background step across CCD edges against truth, in sigma_sky */
  step: number;
  /** rms error against truth over whole CCDs (every 4th pixel), in sigma_sky */
  whole: number;
  /** mean error over whole CCDs (sigma_sky) */
  bias: number;
  pairs: number;
  points: number;
}

/** Seam and whole-CCD statistics of a set of per-CCD models against truth (errors in units of each CCD's globalRms). */
function score(v: Visit, models: BackgroundModel[], points: EdgePoint[]): Stats {
  const err = v.ccds.map(() => new Map<number, number>());
  for (const p of points) {
    err[p.a].set(p.pa[1] * 1e6 + p.pa[0], NaN);
    err[p.b].set(p.pb[1] * 1e6 + p.pb[0], NaN);
  }
  let s2 = 0;
  let s1 = 0;
  let n = 0;
  v.ccds.forEach((c, i) => {
    const map = interpolate(models[i], 'background').data;
    const w = c.sim.width;
    for (const key of err[i].keys()) {
      const x = key % 1e6;
      const y = Math.floor(key / 1e6);
      err[i].set(key, map[y * w + x] - trueBackgroundAt(v.truth, c.sim, x + 1, y + 1));
    }
    const sig = c.model.globalRms;
    for (let y = 1; y < c.sim.height; y += 4)
      for (let x = 1; x < w; x += 4) {
        const e = (map[y * w + x] - trueBackgroundAt(v.truth, c.sim, x + 1, y + 1)) / sig;
        s2 += e * e;
        s1 += e;
        n++;
      }
  });
  let q = 0;
  const pairs = new Set<string>();
  for (const p of points) {
    const sig = (v.ccds[p.a].model.globalRms + v.ccds[p.b].model.globalRms) / 2;
    const d = (err[p.a].get(p.pa[1] * 1e6 + p.pa[0])! - err[p.b].get(p.pb[1] * 1e6 + p.pb[0])!) / sig;
    q += d * d;
    pairs.add(`${p.a}-${p.b}`);
  }
  return { step: Math.sqrt(q / points.length), whole: Math.sqrt(s2 / n), bias: s1 / n, pairs: pairs.size, points: points.length };
}

const fmt = (s: Stats) => `step rms ${s.step.toFixed(4)} sigma, whole-CCD rms ${s.whole.toFixed(4)} sigma (mean ${s.bias.toFixed(4)})`;

describe('focal-plane background vs per-CCD backgrounds (simulation truth)', () => {
  for (const [camera, visit, scale, maxGapCcd] of [
    ['lsstcam', 100, 0.125, 12],
    ['decam', 200, 0.125, 16],
    ['test', 300, 1, 0.2],
  ] as const) {
    it(`${camera} at scale ${scale}: seams and whole-CCD error`, async () => {
      const v = await prepare(camera, visit, scale, 1);
      const t0 = performance.now();
      const { fb, models } = focalModels(v);
      const tFocal = performance.now() - t0;
      const side = Math.min(v.ccds[0].prod.width, v.ccds[0].prod.height) * v.ccds[0].prod.pixelSize;
      const points = edgePairs(v.camera, 2, maxGapCcd * side, 16);
      const quick = score(v, v.ccds.map((c) => c.model), points);
      const focal = score(v, models, points);
      console.log(
        `${camera} s${scale}: ${v.ccds.length} CCDs, ${quick.pairs} adjacent pairs, ${quick.points} edge points; ` +
          `grid ${fb.grid.nx}x${fb.grid.ny} of ${fb.grid.step.toFixed(2)} mm, order ${fb.order}, ${fb.nSamples} samples (${fb.nRejected} rejected), scatter ${fb.scatter.toFixed(3)} ADU, ` +
          `solve path ${tFocal.toFixed(0)} ms\n  per-CCD: ${fmt(quick)}\n  focal:   ${fmt(focal)}`,
      );
      expect(quick.pairs).toBeGreaterThanOrEqual(camera === 'lsstcam' ? 300 : camera === 'decam' ? 60 : 12);
      expect(focal.step).toBeLessThanOrEqual(0.1);
      expect(focal.step).toBeLessThan(quick.step);
      expect(focal.whole).toBeLessThan(quick.whole);
      expect(Number.isFinite(evaluateFocalBackground(fb, 0, 0))).toBe(true);
    }, 120_000);
  }
});

/** Mean background error (sigma_sky) over the pixels within r mm of a focal-plane point (sim geometry). */
function biasNear(v: Visit, models: BackgroundModel[], fx: number, fy: number, r: number): { mean: number; n: number } {
  let s = 0;
  let n = 0;
  v.ccds.forEach((c, i) => {
    const map = interpolate(models[i], 'background').data;
    for (let y = 0; y < c.sim.height; y += 2)
      for (let x = 0; x < c.sim.width; x += 2) {
        const [px, py] = pixelToFocal(c.sim, x, y);
        if ((px - fx) ** 2 + (py - fy) ** 2 > r * r) continue;
        s += (map[y * c.sim.width + x] - trueBackgroundAt(v.truth, c.sim, x + 1, y + 1)) / c.model.globalRms;
        n++;
      }
  });
  return { mean: s / n, n };
}

describe('extended object across a CCD boundary', () => {
  it('biases the focal-plane background much less than per-CCD backgrounds', async () => {
    const clean = await prepare('test', 300, 1, 1);
    const sky = clean.ccds.map((c) => c.model.globalRms).sort((a, b) => a - b)[4];
    const d4 = clean.truth.camera.detectors[4];
    const d5 = clean.truth.camera.detectors[5];
    // centred on the gap between CCDs 4 (rotated 90 deg) and 5 (rotated 180 deg); sigma a third of a CCD; peak 3 sigma_sky
    const blob = { fx: (d4.center[0] + d5.center[0]) / 2, fy: (d4.center[1] + d5.center[1]) / 2, sigma: (d4.width * d4.pixelSize) / 3, peak: 3 * sky };
    const v = await prepare('test', 300, 1, 1, blob);
    const { fb, models } = focalModels(v);
    const quick = biasNear(v, v.ccds.map((c) => c.model), blob.fx, blob.fy, blob.sigma);
    const focal = biasNear(v, models, blob.fx, blob.fy, blob.sigma);
    const quickAll = score(v, v.ccds.map((c) => c.model), []);
    const focalAll = score(v, models, []);
    console.log(
      `blob peak ${blob.peak.toFixed(1)} ADU (3 sigma_sky), sigma ${blob.sigma.toFixed(2)} mm; ${fb.nRejected}/${fb.nSamples} samples rejected\n` +
        `  mean background error within 1 blob sigma (${quick.n} px): per-CCD ${quick.mean.toFixed(3)} sigma, focal ${focal.mean.toFixed(3)} sigma ` +
        `(the blob itself averages ${(3 * (1 - Math.exp(-0.5)) / 0.5).toFixed(2)} sigma there)\n` +
        `  whole-CCD rms error: per-CCD ${quickAll.whole.toFixed(3)} sigma, focal ${focalAll.whole.toFixed(3)} sigma`,
    );
    expect(quick.mean).toBeGreaterThan(1);
    expect(focal.mean).toBeLessThan(0.25 * quick.mean);
    expect(Math.abs(focal.mean)).toBeLessThan(0.3);
  }, 120_000);
});

function sameSummary(a: FocalBackgroundSummary, b: FocalBackgroundSummary): boolean {
  const keys = ['detector', 'cell', 'n', 'level', 'sigma', 'fx', 'fy'] as const;
  return keys.every((k) => a[k].length === b[k].length && a[k].every((x, i) => Object.is(x, b[k][i])));
}

describe('per-CCD level mismatch', () => {
  it('is absorbed by the CCD offset, not smeared over the neighbours', async () => {
    const clean = await prepare('test', 300, 1, 1);
    const sky = clean.ccds.map((c) => c.model.globalRms).sort((a, b) => a - b)[4];
    const value = 0.5 * sky;
    const v = await prepare('test', 300, 1, 1, { fx: 0, fy: 0, sigma: 1, peak: 0, step: { detector: 8, value } });
    const { fb, models } = focalModels(v);
    const off = Array.from(fb.offsets);
    const k = Array.from(fb.detectors).indexOf(8);
    const others = off.filter((_, i) => i !== k);
    const relative = off[k] - others.reduce((a, b) => a + b, 0) / others.length;
    // error of CCD 8 against truth + the added constant, and of the others against truth
    const errs = v.ccds.map((c, i) => {
      const one: Visit = { ...v, ccds: [c] };
      const e = score(one, [models[i]], []);
      return c.sim.id === 8 ? e.bias - value / c.model.globalRms : e.bias;
    });
    console.log(
      `CCD 8 raised by ${value.toFixed(2)} ADU (0.5 sigma_sky): fitted offset ${relative.toFixed(2)} ADU relative to the others; ` +
        `mean errors per CCD (sigma, CCD 8 against truth + step): ${errs.map((e) => e.toFixed(3)).join(' ')}`,
    );
    // the offsets share the step with the smooth surface a little (9 CCDs, cubic surface): the maps are what count
    expect(Math.abs(relative - value)).toBeLessThan(0.25 * value);
    for (const e of errs) expect(Math.abs(e)).toBeLessThan(0.08);
    // without the offsets, CCD 8 would be off by a good part of the step
    const grid = focalBackgroundGrid(v.camera);
    const fb0 = solveFocalBackground(mergeFocalBackground(v.ccds.map((c) => summarizeFocalBackground(c.raw, c.prod, grid))), grid, { ccdOffsets: false, residualGrid: false });
    const c8 = v.ccds.findIndex((c) => c.sim.id === 8);
    const e8 = score({ ...v, ccds: [v.ccds[c8]] }, [applyFocalBackground(v.ccds[c8].model, v.ccds[c8].prod, fb0)], []).bias - value / v.ccds[c8].model.globalRms;
    console.log(`  without offsets or residual grid: CCD 8 mean error ${e8.toFixed(3)} sigma`);
    expect(e8).toBeLessThan(-0.1);
  }, 120_000);
});

describe('merge, single CCD, speed', () => {
  it('merging in any grouping and order gives bitwise identical models', async () => {
    const v = await prepare('lsstcam', 100, 0.125, 1);
    const { fb, parts } = focalModels(v);
    const rng = Rng.stream(7);
    const shuffled = parts.map((p) => ({ p, k: rng.uniform() })).sort((a, b) => a.k - b.k).map((x) => x.p);
    // random groups of 1..20 summaries, merged, then the groups merged in reverse order, pairwise
    let groups: FocalBackgroundSummary[] = [];
    for (let i = 0; i < shuffled.length; ) {
      const n = 1 + Math.floor(rng.uniform() * 20);
      groups.push(mergeFocalBackground(shuffled.slice(i, i + n)));
      i += n;
    }
    groups.reverse();
    while (groups.length > 1) {
      const next: FocalBackgroundSummary[] = [];
      for (let i = 0; i < groups.length; i += 2) next.push(i + 1 < groups.length ? mergeFocalBackground([groups[i], groups[i + 1]]) : groups[i]);
      groups = next;
    }
    const direct = mergeFocalBackground(parts);
    expect(groups.length).toBe(1);
    expect(sameSummary(groups[0], direct)).toBe(true);
    const fb2 = solveFocalBackground(groups[0], fb.grid);
    expect(Array.from(fb2.coeffs)).toEqual(Array.from(fb.coeffs));
    expect(Array.from(fb2.offsets)).toEqual(Array.from(fb.offsets));
    expect(Array.from(fb2.residualCells)).toEqual(Array.from(fb.residualCells));
    expect(fb2.residualValues.every((x, i) => Object.is(x, fb.residualValues[i]))).toBe(true);
    // a summary merged twice is refused
    expect(() => mergeFocalBackground([parts[0], parts[0]])).toThrow(RangeError);
    console.log(`merge: ${parts.length} summaries, ${direct.level.length} samples (${(direct.level.length / parts.length).toFixed(1)} per CCD), identical bitwise`);
  }, 120_000);

  it('works for a single CCD (rotated/flipped test-camera CCDs too) and from the filtered model', async () => {
    const v = await prepare('test', 300, 1, 1);
    for (const c of v.ccds) {
      const one: Visit = { ...v, camera: { ...v.camera, detectors: [c.prod] }, ccds: [c] };
      const { fb, models } = focalModels(one);
      const s = score(one, models, []);
      const q = score(one, [c.model], []);
      expect(fb.order).toBeLessThanOrEqual(1);
      expect(s.whole).toBeLessThan(Math.max(0.08, 1.5 * q.whole));
    }
    // summaries from the filtered BackgroundModel instead of the raw mesh statistics: about as good
    const { models } = focalModels(v, false);
    const fromModel = score(v, models, edgePairs(v.camera, 2, 1, 16));
    console.log(`test camera, summaries from the filtered model: ${fmt(fromModel)}`);
    expect(fromModel.step).toBeLessThanOrEqual(0.1);
  }, 120_000);

  it('summarize + apply cost little against the per-CCD background of a 4k x 4k CCD', () => {
    const w = 4096;
    const rng = Rng.stream(3);
    const data = new Float32Array(w * w);
    for (let i = 0; i < data.length; i++) data[i] = 1000 + 0.01 * (i % w) + 30 * rng.gaussian();
    const image = { width: w, height: w, data };
    const det: DetectorGeom = { id: 3, name: 'big', width: w, height: w, pixelSize: 0.01, center: [20, -20], rotation: 0 };
    const t0 = performance.now();
    const bg = estimateBackground(image, backgroundOptions(CONFIG));
    const tBg = performance.now() - t0;
    const cam: Camera = { name: 'one', plateScale: 20, detectors: [det], distortion: { rRef: 1, k1: 0, k2: 0 } };
    const grid = focalBackgroundGrid(cam);
    // median of 9 runs (the first ones include compilation; single runs are noisy on a shared machine)
    const tSum: number[] = [];
    const tApply: number[] = [];
    let out: BackgroundModel | undefined;
    for (let r = 0; r < 9; r++) {
      const t1 = performance.now();
      const part = summarizeFocalBackground(bg.raw, det, grid);
      const t2 = performance.now();
      const fb = solveFocalBackground(mergeFocalBackground([part]), grid);
      const t3 = performance.now();
      out = applyFocalBackground(bg.model, det, fb);
      tSum.push(t2 - t1);
      tApply.push(performance.now() - t3);
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
    console.log(`4096x4096 CCD: per-CCD background ${tBg.toFixed(0)} ms; summarize ${med(tSum).toFixed(2)} ms + apply ${med(tApply).toFixed(2)} ms (medians of 9)`);
    expect(med(tSum) + med(tApply)).toBeLessThan(0.1 * tBg);
    // the applied model follows the input gradient (0.01 ADU/px): centre level near 1000 + 20.48
    const map = interpolate(out!, 'background').data;
    expect(Math.abs(map[2048 * w + 2048] - 1020.48)).toBeLessThan(1);
  }, 120_000);
});
