/**
 * Background maps against source-extractor 2.25 run with identical settings (its BACKGROUND,
 * BACKGROUND_RMS, MINIBACKGROUND and MINIBACK_RMS check images and its "Background: X RMS: Y" line),
 * and against sep's back.fits / rms.fits. Acceptance: background within 0.5%, RMS within 1%.
 * Prints a per-image table of worst and median differences.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateBackground, type BackgroundInputs, type BackgroundOptions, type BackgroundResult } from '../src/background/index.js';
import type { Plane } from '../src/image/types.js';
import { CACHE, astropyImage, astropyWriteImage, hasAstropy, hasSextractor, runSextractor } from './helpers/oracle.js';
import { hasShared, realData, warnNoShared } from './helpers/shared.js';
import { select } from './helpers/stats.js';

warnNoShared('background comparisons with SExtractor on real images');
if (!hasSextractor) console.warn('SKIPPED background comparisons: source-extractor not installed');
if (!hasAstropy) console.warn('SKIPPED background comparisons: /usr/bin/python3 with astropy not available');
const enabled = hasShared && hasSextractor && hasAstropy;

const real = (rel: string) => path.join(realData, rel);
const DERIVED = path.join(CACHE, 'background');
/** bump when the derived images change (source-extractor results are cached by file path) */
const DERIVED_VERSION = 'v2';
const derived = (name: string) => path.join(DERIVED, `${DERIVED_VERSION}-${name}.fits`);

interface Case {
  name: string;
  image: string;
  config: Record<string, string>;
  options: Partial<BackgroundOptions>;
  inputs?: () => BackgroundInputs;
}

/** SExtractor's "Background: X RMS: Y" line for an image and config (cached). */
function sexGlobals(image: string, config: Record<string, string>): { background: number; rms: number } {
  mkdirSync(DERIVED, { recursive: true });
  const key = createHash('sha256').update(JSON.stringify([image, config])).digest('hex').slice(0, 16);
  const file = path.join(DERIVED, `globals-${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const param = path.join(DERIVED, 'number.param');
  writeFileSync(param, 'NUMBER\n');
  const conv = path.join(DERIVED, 'default.conv');
  writeFileSync(conv, 'CONV NORM\n1 2 1\n2 4 2\n1 2 1\n');
  const cfg = { CATALOG_TYPE: 'NONE', PARAMETERS_NAME: param, FILTER_NAME: conv, VERBOSE_TYPE: 'NORMAL', ...config };
  const r = spawnSync('source-extractor', [image, ...Object.entries(cfg).flatMap(([k, v]) => [`-${k}`, v])], { encoding: 'utf8', cwd: DERIVED });
  const m = [...`${r.stdout}${r.stderr}`.matchAll(/Background:\s*(\S+)\s+RMS:\s*(\S+)/g)].pop();
  if (r.status !== 0 || !m) throw new Error(`source-extractor failed: ${r.stderr}`);
  const g = { background: Number(m[1]), rms: Number(m[2]) };
  writeFileSync(file, JSON.stringify(g));
  return g;
}


/** Worst and median of |ours - ref| / |ref| and of |ours - ref| / rms. */
function diffStats(ours: Float32Array, ref: Float32Array, rms: Float32Array) {
  const n = ref.length;
  const rel = new Float64Array(n);
  const sig = new Float64Array(n);
  let maxRel = 0;
  let maxSig = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    rel[i] = d / Math.abs(ref[i]);
    sig[i] = d / rms[i];
    if (!(rel[i] <= maxRel)) maxRel = rel[i]; // NaN propagates
    if (!(sig[i] <= maxSig)) maxSig = sig[i];
  }
  return { maxRel, medRel: select(rel, n >> 1), maxSig, medSig: select(sig, n >> 1) };
}

const fmt = (v: number) => (v === 0 ? '0' : v.toExponential(1));
const table: string[] = [
  '| image | settings | meshes | bkg max rel | bkg med rel | bkg max /rms | rms max rel | rms med rel | Background ours / sex | RMS ours / sex |',
  '|---|---|---|---|---|---|---|---|---|---|',
];

/** Bad pixels of the derived weight map: a 200x200 block, and every 3rd pixel of a 300x350 area. */
function isZeroWeight(x: number, y: number): boolean {
  return (x >= 100 && x < 300 && y >= 600 && y < 800) || (x >= 700 && y >= 650 && (x + y) % 3 === 0);
}
/** Low-weight (4x variance) area of the derived weight map. */
const isLowWeight = (x: number, y: number) => x >= 512 && y < 400;

let derivedWeight: Plane;
let derivedMask: Plane;

/** Write the derived test images (galaxies.fits with garbage under zero weight, weight/var/rms maps, NaNs, crops, tiles). */
function makeDerived(): void {
  mkdirSync(DERIVED, { recursive: true });
  const gal = astropyImage(real('sextractor/galaxies.fits'));
  const { width: w, height: h } = gal;
  const img = Float32Array.from(gal.data);
  const nan = Float32Array.from(gal.data);
  const wt = new Float32Array(w * h);
  const vr = new Float32Array(w * h);
  const rm = new Float32Array(w * h);
  const mask = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const zero = isZeroWeight(x, y);
      wt[i] = zero ? 0 : isLowWeight(x, y) ? 0.25 : 1;
      vr[i] = zero ? 1e31 : 1 / wt[i];
      rm[i] = zero ? 1e16 : 63 * Math.sqrt(1 / wt[i]); // realistic noise level: normal detections
      mask[i] = zero ? 1 : 0;
      if (zero) {
        img[i] = (x + y) % 2 ? 60000 : 0; // garbage that would wreck the statistics if used
        nan[i] = NaN;
      }
    }
  derivedWeight = { width: w, height: h, data: wt };
  derivedMask = { width: w, height: h, data: mask };
  const write = (name: string, data: Float32Array, ww = w, hh = h) => {
    if (!existsSync(derived(name))) astropyWriteImage(derived(name), { width: ww, height: hh, data });
  };
  write('garbage', img);
  write('weight', wt);
  write('var', vr);
  write('rms', rm);
  write('nan', nan);
  const crop = (x0: number, y0: number, cw: number, ch: number) => {
    const out = new Float32Array(cw * ch);
    for (let y = 0; y < ch; y++) out.set(gal.data.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + cw), y * cw);
    return out;
  };
  write('crop50x40', crop(300, 500, 50, 40), 50, 40);
  write('crop300x40', crop(200, 100, 300, 40), 300, 40);
  write('crop1000x700', crop(10, 300, 1000, 700), 1000, 700);
  // 3 x 2 tiles of mirrored copies: 3072 x 2048, so that BACK_SIZE 512 exceeds SExtractor's line buffer
  const tw = 3 * w;
  const tiles = new Float32Array(tw * 2 * h);
  for (let ty = 0; ty < 2; ty++)
    for (let tx = 0; tx < 3; tx++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const sx = tx % 2 ? w - 1 - x : x;
          const sy = ty % 2 ? h - 1 - y : y;
          tiles[(ty * h + y) * tw + tx * w + x] = gal.data[sy * w + sx];
        }
  write('tiles', tiles, tw, 2 * h);
}

const S32 = { config: { BACK_SIZE: '32', BACK_FILTERSIZE: '5' }, options: { backSize: 32, filterSize: 5 } };
const GAL_W = real('sextractor/galaxies.weight.fits');
const cases: Case[] = [
  { name: 'sep/image.fits', image: real('sep/image.fits'), config: {}, options: {} },
  { name: 'sep/image.fits', image: real('sep/image.fits'), ...S32 },
  { name: 'sextractor/galaxies.fits', image: real('sextractor/galaxies.fits'), config: {}, options: {} },
  {
    name: 'sextractor/galaxies.fits + weight',
    image: real('sextractor/galaxies.fits'),
    config: { WEIGHT_TYPE: 'MAP_WEIGHT', WEIGHT_IMAGE: GAL_W },
    options: {},
    inputs: () => ({ weight: astropyImage(GAL_W), weightType: 'weight' }),
  },
  { name: 'sextractor/galaxies.fits', image: real('sextractor/galaxies.fits'), ...S32 },
  { name: 'sextractor/galaxies.fits', image: real('sextractor/galaxies.fits'), config: { BACK_FILTTHRESH: '5' }, options: { filterThresh: 5 } },
  { name: 'photutils/M6707HH.fits', image: real('photutils/M6707HH.fits'), config: {}, options: {} },
  { name: 'photutils/M6707HH.fits', image: real('photutils/M6707HH.fits'), ...S32 },
  { name: 'astropy/M13_blue_0001.fits', image: real('astropy/M13_blue_0001.fits'), config: {}, options: {} },
  { name: 'astropy/M13_blue_0001.fits', image: real('astropy/M13_blue_0001.fits'), ...S32 },
  {
    name: 'astropy/M13_blue_0001.fits MANUAL',
    image: real('astropy/M13_blue_0001.fits'),
    config: { BACK_TYPE: 'MANUAL', BACK_VALUE: '500' },
    options: { type: 'manual', value: 500 },
  },
  // Derived from galaxies.fits: zero-weight pixels hold garbage; weight given three ways, or as a mask, or as NaN.
  ...(['weight', 'var', 'rms'] as const).map((t) => ({
    name: `galaxies garbage + MAP_${t === 'weight' ? 'WEIGHT' : t.toUpperCase()}`,
    image: derived('garbage'),
    config: { WEIGHT_TYPE: `MAP_${t === 'weight' ? 'WEIGHT' : t.toUpperCase()}`, WEIGHT_IMAGE: derived(t) },
    options: {},
    inputs: (): BackgroundInputs => ({ weight: astropyImage(derived(t)), weightType: t === 'weight' ? 'weight' : t === 'var' ? 'variance' : 'rms' }),
  })),
  {
    name: 'galaxies garbage, our mask = zero weight',
    image: derived('garbage'),
    config: { WEIGHT_TYPE: 'MAP_WEIGHT', WEIGHT_IMAGE: derived('weight') },
    options: {},
    inputs: () => ({ mask: derivedMask }),
  },
  { name: 'galaxies with NaN pixels', image: derived('nan'), config: {}, options: {} },
  { name: 'crop 50x40 (one mesh)', image: derived('crop50x40'), config: {}, options: {} },
  { name: 'crop 300x40 (one mesh row)', image: derived('crop300x40'), config: {}, options: {} },
  { name: 'crop 1000x700', image: derived('crop1000x700'), config: { BACK_SIZE: '45,37', BACK_FILTERSIZE: '3,5' }, options: { backSize: [45, 37], filterSize: [3, 5] } },
  { name: 'tiles 3072x2048 (subsampled stats)', image: derived('tiles'), config: { BACK_SIZE: '512' }, options: { backSize: 512 } },
];

describe.skipIf(!enabled)('background vs source-extractor check images', () => {
  beforeAll(makeDerived);
  afterAll(() => console.log(`\nBackground vs source-extractor 2.25 check images\n${table.join('\n')}\n`));

  it.each(cases.map((c) => [`${c.name} ${JSON.stringify(c.config)}`, c] as const))('%s', (_label, c) => {
    const checks = ['BACKGROUND', 'BACKGROUND_RMS', 'MINIBACKGROUND', 'MINIBACK_RMS'];
    const run = runSextractor(c.image, ['NUMBER'], c.config, checks);
    const [sb, sr, mb, mr] = checks.map((t) => astropyImage(run.checkImages[t]));
    const img = astropyImage(c.image);
    const res: BackgroundResult = estimateBackground(img, c.options, c.inputs?.());
    const g = sexGlobals(c.image, c.config);

    expect([res.meshes.nx, res.meshes.ny]).toEqual([mb.width, mb.height]);
    const meshB = diffStats(res.meshes.level, mb.data, mr.data);
    const meshR = diffStats(res.meshes.sigma, mr.data, mr.data);
    const back = diffStats(res.background.data, sb.data, sr.data);
    const rms = diffStats(res.rms.data, sr.data, sr.data);
    const o = c.options;
    const settings = `${o.type === 'manual' ? `MANUAL ${o.value}, ` : ''}BACK_SIZE ${String(o.backSize ?? 64)} FILTER ${String(o.filterSize ?? 3)}${o.filterThresh ? ` THRESH ${o.filterThresh}` : ''}`;
    table.push(
      `| ${c.name} | ${settings} | ${res.meshes.nx}x${res.meshes.ny} | ${fmt(back.maxRel)} | ${fmt(back.medRel)} | ${fmt(back.maxSig)} | ${fmt(rms.maxRel)} | ${fmt(rms.medRel)} | ` +
        `${res.globalBackground.toPrecision(6)} / ${g.background} | ${res.globalRms.toPrecision(6)} / ${g.rms} |`,
    );
    // Acceptance: background within 0.5 %, RMS within 1 %, everywhere.
    expect(back.maxRel).toBeLessThan(0.005);
    expect(rms.maxRel).toBeLessThan(0.01);
    // We reproduce SExtractor's estimator: mesh values agree to float precision, maps far inside the limits.
    expect(meshB.maxRel).toBeLessThan(1e-5);
    expect(meshR.maxRel).toBeLessThan(1e-5);
    expect(back.maxSig).toBeLessThan(1e-3);
    // The printed global numbers (6 significant digits).
    expect(Math.abs(res.globalBackground - g.background) / Math.abs(g.background)).toBeLessThan(1e-5);
    expect(Math.abs(res.globalRms - g.rms) / g.rms).toBeLessThan(1e-5);
  });

  it('rescales weight maps to the sky noise like SExtractor (FLUXERR_APER of objects in uniform-weight areas)', () => {
    // With GAIN = 0 the aperture error is sqrt(sum of per-pixel variances) = noise * sqrt(pi r^2) where uniform.
    const r = 10;
    const check = (image: string, config: Record<string, string>, weight: Plane, noise: Plane) => {
      const cfg = { GAIN: '0', GAIN_KEY: 'NO_SUCH_KEY', PHOT_APERTURES: String(2 * r), ...config };
      const run = runSextractor(image, ['X_IMAGE', 'Y_IMAGE', 'FLUXERR_APER'], cfg);
      const xs = run.columns.X_IMAGE as number[];
      const ys = run.columns.Y_IMAGE as number[];
      const fe = run.columns.FLUXERR_APER as number[];
      const ratios: number[] = [];
      for (let k = 0; k < xs.length; k++) {
        const cx = Math.round(xs[k] - 1);
        const cy = Math.round(ys[k] - 1);
        if (cx < r + 2 || cy < r + 2 || cx >= weight.width - r - 2 || cy >= weight.height - r - 2) continue;
        const w0 = weight.data[cy * weight.width + cx];
        let uniform = true;
        for (let y = cy - r - 2; y <= cy + r + 2 && uniform; y++)
          for (let x = cx - r - 2; x <= cx + r + 2; x++) if (weight.data[y * weight.width + x] !== w0) uniform = false;
        if (uniform) ratios.push(fe[k] / (noise.data[cy * noise.width + cx] * Math.sqrt(Math.PI * r * r)));
      }
      ratios.sort((a, b) => a - b);
      return { n: ratios.length, median: ratios[ratios.length >> 1] };
    };
    const gal = real('sextractor/galaxies.fits');
    const galW = astropyImage(GAL_W);
    const res = estimateBackground(astropyImage(gal), {}, { weight: galW, weightType: 'weight' });
    const a = check(gal, { WEIGHT_TYPE: 'MAP_WEIGHT', WEIGHT_IMAGE: GAL_W }, galW, res.weightedRms!);
    console.log(`galaxies + weight: scale ${res.model.weightScale.toPrecision(7)}; FLUXERR_APER / predicted: median ${a.median.toFixed(5)} over ${a.n} objects`);
    expect(a.n).toBeGreaterThan(100);
    expect(Math.abs(a.median - 1)).toBeLessThan(1e-3);
    for (const [t, type, wt] of [['weight', 'MAP_WEIGHT', 'weight'], ['var', 'MAP_VAR', 'variance'], ['rms', 'MAP_RMS', 'rms']] as const) {
      const wmap = astropyImage(derived(t));
      const rd = estimateBackground(astropyImage(derived('garbage')), {}, { weight: wmap, weightType: wt });
      const b = check(derived('garbage'), { WEIGHT_TYPE: type, WEIGHT_IMAGE: derived(t) }, derivedWeight, rd.weightedRms!);
      console.log(`derived ${type}: scale ${rd.model.weightScale.toPrecision(7)}; FLUXERR_APER / predicted: median ${b.median.toFixed(5)} over ${b.n} objects`);
      expect(b.n).toBeGreaterThan(50);
      expect(Math.abs(b.median - 1)).toBeLessThan(1e-3);
      if (t === 'rms') expect(rd.model.weightScale).toBe(1);
    }
    // Low-weight pixels get twice the noise of unit-weight ones; zero-weight pixels infinite noise.
    const rd = estimateBackground(astropyImage(derived('garbage')), {}, { weight: derivedWeight });
    const at = (x: number, y: number) => rd.weightedRms!.data[y * 1024 + x];
    expect(at(800, 100) / at(50, 50)).toBeCloseTo(2, 5);
    expect(at(150, 700)).toBe(Infinity);
  });

  it("matches sep's back.fits and rms.fits for sep/image.fits", () => {
    const res = estimateBackground(astropyImage(real('sep/image.fits')));
    const b = astropyImage(real('sep/back.fits'));
    const r = astropyImage(real('sep/rms.fits'));
    const back = diffStats(res.background.data, b.data, r.data);
    const rms = diffStats(res.rms.data, r.data, r.data);
    console.log(`sep back.fits: max rel ${fmt(back.maxRel)}, median ${fmt(back.medRel)}, max ${fmt(back.maxSig)} rms; rms.fits: max rel ${fmt(rms.maxRel)}, median ${fmt(rms.medRel)}`);
    expect(back.maxRel).toBeLessThan(0.005);
    expect(rms.maxRel).toBeLessThan(0.01);
    expect(back.maxRel).toBeLessThan(1e-5);
    expect(rms.maxRel).toBeLessThan(1e-5);
  });
});
