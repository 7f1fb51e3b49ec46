/**
 * The simulator against independent oracles: astropy.modeling profiles (Gaussian2D, Moffat2D, Sersic2D) integrated
 * over pixels by brute-force oversampling, a Sersic (x) Moffat convolution done with scipy on a fine grid
 * (test/helpers/sim_profiles_oracle.py), scipy's Sersic b_n, and source-extractor measuring a simulated image
 * (positions in its 1-based convention, aperture fluxes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ellipseForm, OBJ_TYPE, psfProfile, renderGalaxy, renderRadial, sersicB, SersicProfile, simulateCcd, type PsfModel } from '../src/sim/index.js';
import { PYTHON, hasAstropy, warnNoAstropy } from './helpers/astropy.js';
import { repoRoot } from './helpers/shared.js';

const ORACLE = path.join(repoRoot, 'test/helpers/sim_profiles_oracle.py');
const hasScipy = hasAstropy && spawnSync(PYTHON, ['-c', 'import scipy.signal, scipy.special'], { encoding: 'utf8' }).status === 0;
const hasSex = spawnSync('sh', ['-c', 'command -v source-extractor'], { encoding: 'utf8' }).status === 0;
warnNoAstropy('simulator profile shapes against astropy.modeling');
if (hasAstropy && !hasScipy) console.warn('SKIPPED simulator profile checks against astropy: scipy not importable');
if (!hasSex) console.warn('SKIPPED simulated image through source-extractor: source-extractor not installed');

function oracle(req: Record<string, unknown>): Float64Array {
  const r = spawnSync(PYTHON, [ORACLE], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return Float64Array.from((JSON.parse(r.stdout) as { image: number[] }).image);
}

/** Largest |ours - ref| over all pixels and over pixels at least `rCore` from the centre, relative to ref's peak. */
function compare(ours: Float64Array, ref: Float64Array, size: number, x0: number, y0: number, rCore: number) {
  let peak = 0;
  let all = 0;
  let outer = 0;
  let so = 0;
  let sr = 0;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const k = j * size + i;
      peak = Math.max(peak, ref[k]);
      const d = Math.abs(ours[k] - ref[k]);
      all = Math.max(all, d);
      if (Math.hypot(i - x0, j - y0) >= rCore) outer = Math.max(outer, d);
      so += ours[k];
      sr += ref[k];
    }
  }
  return { all: all / peak, outer: outer / peak, sumOurs: so, sumRef: sr };
}

const SIZE = 41;
const X0 = 20.27;
const Y0 = 19.61;
/** Render into a SIZE x SIZE stamp with every pixel covered (stamp radius beyond the corners). */
function renderStar(psf: PsfModel): Float64Array {
  const s = { data: new Float64Array(SIZE * SIZE), width: SIZE, height: SIZE };
  renderRadial(s, X0, Y0, psfProfile(psf), ellipseForm(psf.e1, psf.e2), 1, 2 * SIZE);
  return s.data;
}

describe.skipIf(!hasScipy)('profiles against astropy.modeling (pixel-integrated by 40 x 40 oversampling)', () => {
  it('Sersic b_n equals scipy gammaincinv(2n, 1/2)', () => {
    const ns = [0.5, 0.7, 1, 1.5, 2.5, 4, 6, 8];
    const r = spawnSync(PYTHON, [ORACLE], { input: JSON.stringify({ kind: 'bn', n: ns }), encoding: 'utf8' });
    const ref = (JSON.parse(r.stdout) as { bn: number[] }).bn;
    ns.forEach((n, k) => expect(Math.abs(sersicB(n) - ref[k])).toBeLessThan(1e-10 * ref[k]));
  });

  it('elliptical Gaussian star = Gaussian2D', () => {
    const psf: PsfModel = { kind: 'gaussian', fwhm: 3.5, e1: 0.2, e2: -0.1 };
    const c = compare(renderStar(psf), oracle({ kind: 'gaussian', size: SIZE, x0: X0, y0: Y0, fwhm: 3.5, e1: 0.2, e2: -0.1, f: 40 }), SIZE, X0, Y0, 0);
    console.log(`Gaussian2D: max |diff| / peak ${c.all.toExponential(2)}; flux ${c.sumOurs.toFixed(7)} vs ${c.sumRef.toFixed(7)}`);
    expect(c.all).toBeLessThan(1e-4);
    expect(Math.abs(c.sumOurs - c.sumRef)).toBeLessThan(1e-5);
  });

  it.each([2.5, 4.765])('circular Moffat star (beta %d) = Moffat2D', (beta) => {
    const c = compare(renderStar({ kind: 'moffat', fwhm: 3.5, beta }), oracle({ kind: 'moffat', size: SIZE, x0: X0, y0: Y0, fwhm: 3.5, beta, f: 40 }), SIZE, X0, Y0, 0);
    console.log(`Moffat2D beta ${beta}: max |diff| / peak ${c.all.toExponential(2)}; flux ${c.sumOurs.toFixed(7)} vs ${c.sumRef.toFixed(7)}`);
    expect(c.all).toBeLessThan(1e-4);
    expect(Math.abs(c.sumOurs - c.sumRef)).toBeLessThan(1e-5);
  });

  it.each([
    { n: 1, rhalf: 4, e1: 0.3, e2: 0.1 },
    { n: 2.5, rhalf: 3, e1: 0, e2: -0.25 },
    { n: 4, rhalf: 4, e1: -0.2, e2: 0.1 },
  ])('intrinsic Sersic %o = Sersic2D (oversampling is inexact only at the cusp)', (g) => {
    const s = { data: new Float64Array(SIZE * SIZE), width: SIZE, height: SIZE };
    renderRadial(s, X0, Y0, new SersicProfile(g.n, g.rhalf), ellipseForm(g.e1, g.e2), 1, 4 * SIZE);
    const c = compare(s.data, oracle({ kind: 'sersic', size: SIZE, x0: X0, y0: Y0, ...g, f: 40 }), SIZE, X0, Y0, 2);
    console.log(`Sersic2D n=${g.n}: max |diff| / peak ${c.all.toExponential(2)} (beyond 2 px: ${c.outer.toExponential(2)}); flux ${c.sumOurs.toFixed(6)} vs ${c.sumRef.toFixed(6)}`);
    expect(c.all).toBeLessThan(g.n > 1 ? 2e-3 : 1e-4);
    expect(c.outer).toBeLessThan(1e-4);
    expect(Math.abs(c.sumOurs / c.sumRef - 1)).toBeLessThan(g.n > 1 ? 2e-3 : 1e-4);
  });

  it.each([
    { n: 1, rhalf: 3, e1: 0.3, e2: 0.1, f: 15 },
    { n: 4, rhalf: 3, e1: -0.15, e2: 0.2, f: 27 },
  ])('Sersic %o convolved with a Moffat PSF = scipy convolution of Sersic2D with Moffat2D', (g) => {
    const psf: PsfModel = { kind: 'moffat', fwhm: 3.5, beta: 4.765 };
    const s = { data: new Float64Array(SIZE * SIZE), width: SIZE, height: SIZE };
    renderGalaxy(s, X0, Y0, { n: g.n, rHalf: g.rhalf, e1: g.e1, e2: g.e2 }, psf, 1, 4 * SIZE);
    // the oracle's galaxy extends 12 px beyond the grid, its PSF kernel to 12 px (all but 4e-4 of the flux)
    const ref = oracle({ kind: 'sersic_moffat', size: SIZE, x0: X0, y0: Y0, n: g.n, rhalf: g.rhalf, e1: g.e1, e2: g.e2, fwhm: 3.5, beta: 4.765, f: g.f, kernel_radius: 12, pad: 12 });
    const c = compare(s.data, ref, SIZE, X0, Y0, 0);
    console.log(`Sersic n=${g.n} (x) Moffat: max |diff| / peak ${c.all.toExponential(2)}; flux ${c.sumOurs.toFixed(6)} vs ${c.sumRef.toFixed(6)}`);
    expect(c.all).toBeLessThan(1.5e-3);
    expect(Math.abs(c.sumOurs / c.sumRef - 1)).toBeLessThan(1e-3);
  });
});

describe.skipIf(!hasAstropy || !hasSex)('a simulated image measured by source-extractor', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sim-sex-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the bright stars at the truth positions (1-based) with the truth aperture fluxes', () => {
    // a grid of isolated bright stars on top of a random faint scene; the background is given (the true sky), so the
    // aperture fluxes test the rendering, not source-extractor's background estimate (nor its neighbour masking)
    const stars = [];
    for (let j = 0; j < 5; j++) for (let i = 0; i < 5; i++) stars.push({ type: 'star' as const, x: 60.3 + 95 * i + 0.17 * j, y: 55.6 + 97 * j - 0.11 * i, mag: 14 + 0.05 * (i + j) });
    const sim = simulateCcd({ width: 512, height: 512, seed: 31, objects: stars, stars: { count: 30, magMin: 20, magMax: 25 }, galaxies: { count: 60, magMin: 21, magMax: 26 }, bias: 1000 });
    const raw = path.join(dir, 'img.f32');
    const fits = path.join(dir, 'img.fits');
    writeFileSync(raw, Buffer.from(sim.image.data.buffer, sim.image.data.byteOffset, sim.image.data.byteLength));
    const w = spawnSync(PYTHON, ['-c', `import sys, numpy as np
from astropy.io import fits
fits.PrimaryHDU(np.fromfile(sys.argv[1], dtype='<f4').reshape(512, 512)).writeto(sys.argv[2], overwrite=True)`, raw, fits], { encoding: 'utf8' });
    expect(w.status, w.stderr).toBe(0);
    writeFileSync(path.join(dir, 'cat.param'), 'NUMBER\nXWIN_IMAGE\nYWIN_IMAGE\nFLUX_APER(1)\nFLAGS\n');
    const cat = path.join(dir, 'cat.txt');
    const r = spawnSync('source-extractor', [fits, '-CATALOG_NAME', cat, '-CATALOG_TYPE', 'ASCII_HEAD', '-PARAMETERS_NAME', path.join(dir, 'cat.param'), '-FILTER', 'N', '-PHOT_APERTURES', '30', '-GAIN', '1.5', '-SATUR_LEVEL', '1e9', '-BACK_TYPE', 'MANUAL', '-BACK_VALUE', String(1000 + 1000 / 1.5), '-MASK_TYPE', 'NONE', '-VERBOSE_TYPE', 'QUIET', '-CHECKIMAGE_TYPE', 'NONE'], { encoding: 'utf8', cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const rows = readFileSync(cat, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.trim().split(/\s+/).map(Number));
    const t = sim.truth;
    const dx: number[] = [];
    const dy: number[] = [];
    const ratio: number[] = [];
    for (let k = 0; k < stars.length; k++) {
      expect(t.type[k]).toBe(OBJ_TYPE.STAR);
      let best: number[] | undefined;
      let bestD = 1;
      for (const row of rows) {
        const d = Math.hypot(row[1] - t.x[k], row[2] - t.y[k]);
        if (d < bestD) [best, bestD] = [row, d];
      }
      expect(best, `star ${k + 1} at (${t.x[k]}, ${t.y[k]}) not found`).toBeDefined();
      dx.push(best![1] - t.x[k]);
      dy.push(best![2] - t.y[k]);
      ratio.push(best![3] / t.flux[k]);
    }
    const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
    console.log(`source-extractor vs truth: median dx ${median(dx).toFixed(4)}, dy ${median(dy).toFixed(4)} px (max ${Math.max(...dx.map(Math.abs), ...dy.map(Math.abs)).toFixed(4)}); median FLUX_APER(30 px) / flux ${median(ratio).toFixed(4)}`);
    expect(Math.abs(median(dx))).toBeLessThan(0.01);
    expect(Math.abs(median(dy))).toBeLessThan(0.01);
    expect(Math.max(...dx.map(Math.abs), ...dy.map(Math.abs))).toBeLessThan(0.05);
    // a 15 px radius holds all but 1e-4 of the default Moffat PSF
    expect(Math.abs(median(ratio) - 1)).toBeLessThan(0.003);
  });
});
