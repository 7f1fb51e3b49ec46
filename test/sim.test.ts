/**
 * The CCD image simulator (src/sim): pixel integration and flux normalisation against analytic truth, PSF sizes
 * and shapes, Sersic half-light radii, galaxy (x) PSF moments, noise statistics, determinism, scene statistics,
 * detector effects and truth-table conventions. Profile shapes against astropy are in sim-astropy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  convolvedGalaxy,
  drawMagnitudes,
  ellipseForm,
  GaussianProfile,
  MoffatProfile,
  moffatAlpha,
  OBJ_TYPE,
  psfProfile,
  PURPOSE,
  renderGalaxy,
  renderRadial,
  Rng,
  sersicB,
  SersicProfile,
  SIM_MASK,
  simulateCcd,
  type PsfModel,
  type RadialProfile,
  type SersicShape,
} from '../src/sim/index.js';
import { lnGamma } from '../src/sim/special.js';

const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2);

interface Stamp {
  data: Float64Array;
  width: number;
  height: number;
}
const stamp = (size: number): Stamp => ({ data: new Float64Array(size * size), width: size, height: size });

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Flux-weighted centroid (0-based) and central second moments of a stamp. */
function moments(s: Stamp): { x: number; y: number; ixx: number; iyy: number; ixy: number; flux: number } {
  let f = 0;
  let sx = 0;
  let sy = 0;
  for (let j = 0; j < s.height; j++) {
    for (let i = 0; i < s.width; i++) {
      const v = s.data[j * s.width + i];
      f += v;
      sx += v * i;
      sy += v * j;
    }
  }
  const x = sx / f;
  const y = sy / f;
  let ixx = 0;
  let iyy = 0;
  let ixy = 0;
  for (let j = 0; j < s.height; j++) {
    for (let i = 0; i < s.width; i++) {
      const v = s.data[j * s.width + i];
      ixx += v * (i - x) ** 2;
      iyy += v * (j - y) ** 2;
      ixy += v * (i - x) * (j - y);
    }
  }
  return { x, y, ixx: ixx / f, iyy: iyy / f, ixy: ixy / f, flux: f };
}

/** FWHM along the row through the peak of a circular profile: half-maximum crossings by linear interpolation. */
function rowFwhm(s: Stamp): number {
  let peak = 0;
  let pi = 0;
  for (let i = 0; i < s.data.length; i++) if (s.data[i] > peak) [peak, pi] = [s.data[i], i];
  const row = Math.floor(pi / s.width) * s.width;
  const half = peak / 2;
  const cross = (dir: number): number => {
    let i = pi % s.width;
    while (s.data[row + i + dir] > half) i += dir;
    const a = s.data[row + i];
    const b = s.data[row + i + dir];
    return i + (dir * (a - half)) / (a - b);
  };
  return cross(1) - cross(-1);
}

/**
 * Radius of the ellipse (circularised) enclosing `target` of the flux, each pixel spread over 6 x 6 sub-samples;
 * only pixels within rLimit are looked at (the answer must lie inside).
 */
function halfLightRadius(s: Stamp, cx: number, cy: number, e1: number, e2: number, target: number, rLimit: number): number {
  const e = ellipseForm(e1, e2);
  const sub = 6;
  const rs: number[] = [];
  const fs: number[] = [];
  for (let j = 0; j < s.height; j++) {
    for (let i = 0; i < s.width; i++) {
      const px = i - cx;
      const py = j - cy;
      if (e.qxx * px * px + 2 * e.qxy * px * py + e.qyy * py * py > rLimit * rLimit) continue;
      const v = s.data[j * s.width + i] / (sub * sub);
      for (let b = 0; b < sub; b++) {
        for (let a = 0; a < sub; a++) {
          const dx = i - 0.5 + (a + 0.5) / sub - cx;
          const dy = j - 0.5 + (b + 0.5) / sub - cy;
          rs.push(Math.sqrt(e.qxx * dx * dx + 2 * e.qxy * dx * dy + e.qyy * dy * dy));
          fs.push(v);
        }
      }
    }
  }
  const order = rs.map((_, k) => k).sort((p, q) => rs[p] - rs[q]);
  let acc = 0;
  for (let k = 0; k < order.length; k++) {
    const next = acc + fs[order[k]];
    if (next >= target) {
      const r0 = k === 0 ? 0 : rs[order[k - 1]];
      return r0 + ((rs[order[k]] - r0) * (target - acc)) / (next - acc);
    }
    acc = next;
  }
  return NaN;
}

/** Render a unit-flux profile centred at (c + 0.3, c - 0.2) in a stamp large enough to lose < `lost` of it. */
function renderBig(prof: RadialProfile, e1: number, e2: number, lost = 1e-9): { s: Stamp; cx: number; cy: number; r: number } {
  const r = prof.radiusForLost(lost);
  const e = ellipseForm(e1, e2);
  const half = Math.ceil(r * Math.sqrt(Math.max(e.cxx, e.cyy))) + 2;
  const s = stamp(2 * half + 1);
  const cx = half + 0.3;
  const cy = half - 0.2;
  renderRadial(s, cx, cy, prof, e, 1, r);
  return { s, cx, cy, r };
}

describe('stars: pixel integration and flux normalisation', () => {
  const psfs: PsfModel[] = [
    { kind: 'gaussian', fwhm: 3.5 },
    { kind: 'gaussian', fwhm: 1.8, e1: 0.15, e2: -0.1 },
    { kind: 'moffat', fwhm: 3.5, beta: 4.765 },
    { kind: 'moffat', fwhm: 3.5, beta: 2.5, e1: -0.1, e2: 0.2 },
  ];
  it.each(psfs)('a star in a huge box holds its truth flux to 1e-4 (%o)', (psf) => {
    const prof = psfProfile(psf);
    const { s, r } = renderBig(prof, psf.e1 ?? 0, psf.e2 ?? 0, 1e-7);
    const total = sum(s.data);
    console.log(`${psf.kind} fwhm ${psf.fwhm}: rendered flux ${total.toFixed(9)} (radius ${r.toFixed(1)} px encloses ${prof.enclosed(r).toFixed(9)})`);
    expect(Math.abs(total - 1)).toBeLessThan(1e-4);
    // the stamp is the set of pixels whose centre lies inside radius r: its edge differs from the circle by ~1e-5
    expect(Math.abs(total - prof.enclosed(r))).toBeLessThan(2e-5);
  });

  it('FWHM of a rendered Gaussian and Moffat equals the model to 1% (FWHM 35 px, pixel smoothing negligible)', () => {
    for (const psf of [{ kind: 'gaussian', fwhm: 35 }, { kind: 'moffat', fwhm: 35, beta: 3 }] as PsfModel[]) {
      const s = stamp(121);
      renderRadial(s, 60, 60, psfProfile(psf), ellipseForm(), 1, 60);
      const fwhm = rowFwhm(s);
      console.log(`${psf.kind}: measured FWHM ${fwhm.toFixed(3)} px for 35`);
      expect(Math.abs(fwhm / 35 - 1)).toBeLessThan(0.01);
    }
  });

  it('second moments of rendered PSFs at FWHM 3.5 px match the analytic profile (+ 1/12 px^2 pixel box)', () => {
    // Gaussian: sigma^2 per axis; Moffat: alpha^2 / (2 (beta - 2)); pixel integration adds exactly 1/12 (Sheppard)
    const g = renderBig(new GaussianProfile(3.5 / FWHM_PER_SIGMA), 0, 0);
    const mg = moments(g.s);
    const fwhmG = FWHM_PER_SIGMA * Math.sqrt(0.5 * (mg.ixx + mg.iyy) - 1 / 12);
    console.log(`Gaussian: FWHM from moments ${fwhmG.toFixed(5)} (3.5)`);
    expect(Math.abs(fwhmG / 3.5 - 1)).toBeLessThan(0.01);
    expect(Math.abs(mg.x - g.cx)).toBeLessThan(1e-6);
    expect(Math.abs(mg.y - g.cy)).toBeLessThan(1e-6);
    const beta = 4.765;
    const alpha = moffatAlpha(3.5, beta);
    const m = renderBig(new MoffatProfile(alpha, beta), 0, 0, 1e-10);
    const mm = moments(m.s);
    const expected = (alpha * alpha) / (2 * (beta - 2)) + 1 / 12;
    console.log(`Moffat: <x^2> ${mm.ixx.toFixed(5)}, <y^2> ${mm.iyy.toFixed(5)}, expected ${expected.toFixed(5)}`);
    expect(Math.abs(mm.ixx / expected - 1)).toBeLessThan(0.01);
    expect(Math.abs(mm.iyy / expected - 1)).toBeLessThan(0.01);
  });

  it('ellipticity (e1, e2) and circularised FWHM of an elliptical Gaussian are recovered from its moments', () => {
    const e1 = 0.2;
    const e2 = -0.12;
    const { s } = renderBig(new GaussianProfile(4 / FWHM_PER_SIGMA), e1, e2);
    const m = moments(s);
    const ixx = m.ixx - 1 / 12;
    const iyy = m.iyy - 1 / 12;
    expect(Math.abs((ixx - iyy) / (ixx + iyy) - e1)).toBeLessThan(1e-4);
    expect(Math.abs((2 * m.ixy) / (ixx + iyy) - e2)).toBeLessThan(1e-4);
    const fwhm = FWHM_PER_SIGMA * Math.pow(ixx * iyy - m.ixy * m.ixy, 0.25);
    expect(Math.abs(fwhm / 4 - 1)).toBeLessThan(1e-3);
  });
});

describe('Sersic profiles', () => {
  it('b_n satisfies P(2n, b_n) = 1/2 and agrees with the Ciotti & Bertin expansion', () => {
    for (const n of [1, 2, 4, 6]) {
      const cb = 2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n * n) + 131 / (1148175 * n ** 3);
      expect(Math.abs(sersicB(n) - cb)).toBeLessThan(2e-4);
    }
    expect(sersicB(0.5)).toBeCloseTo(Math.LN2, 10);
  });

  it.each([
    { n: 0.5, rHalf: 6, e1: 0, e2: 0 },
    { n: 1, rHalf: 6, e1: 0.3, e2: 0.1 },
    { n: 2.5, rHalf: 5, e1: 0, e2: -0.2 },
    { n: 4, rHalf: 6, e1: -0.2, e2: 0.15 },
  ])('intrinsic Sersic %o: total flux and half-light radius from the rendered stamp', (g) => {
    const prof = new SersicProfile(g.n, g.rHalf);
    const lost = g.n >= 4 ? 2e-3 : 1e-6; // de Vaucouleurs wings reach far: keep the stamp moderate
    const { s, cx, cy, r } = renderBig(prof, g.e1, g.e2, lost);
    const total = sum(s.data);
    expect(Math.abs(total - prof.enclosed(r))).toBeLessThan(1e-5);
    expect(Math.abs(total - 1)).toBeLessThan(Math.max(1e-4, 1.01 * lost));
    const rh = halfLightRadius(s, cx, cy, g.e1, g.e2, 0.5, 1.5 * g.rHalf + 2);
    console.log(`Sersic n=${g.n}: flux ${total.toFixed(6)}, half-light radius ${rh.toFixed(4)} (truth ${g.rHalf})`);
    expect(Math.abs(rh / g.rHalf - 1)).toBeLessThan(0.02);
  });
});

describe('galaxies convolved with the PSF', () => {
  /** Second moments (pixel box excluded) of the Sersic profile: <r^2> = rHalf^2 Gamma(4n) / (Gamma(2n) b^2n). */
  function sersicR2(n: number, rHalf: number): number {
    const b = sersicB(n);
    return rHalf * rHalf * Math.exp(lnGamma(4 * n) - lnGamma(2 * n) - 2 * n * Math.log(b));
  }

  it.each([
    { shape: { n: 0.5, rHalf: 3, e1: 0.3, e2: -0.1 }, psf: { kind: 'gaussian', fwhm: 3, e1: 0.05, e2: 0.02 } },
    { shape: { n: 1, rHalf: 2.5, e1: -0.2, e2: 0.2 }, psf: { kind: 'gaussian', fwhm: 3.5 } },
    { shape: { n: 1.5, rHalf: 2, e1: 0.1, e2: 0 }, psf: { kind: 'moffat', fwhm: 3.5, beta: 4.765, e1: 0.03 } },
    { shape: { n: 4, rHalf: 1.5, e1: 0, e2: 0.25 }, psf: { kind: 'moffat', fwhm: 3, beta: 3.5 } },
  ] as Array<{ shape: SersicShape; psf: PsfModel }>)('flux and second moments match the analytic convolution: %o', ({ shape, psf }) => {
    const size = shape.n >= 4 ? 601 : 201;
    const s = stamp(size);
    const c = (size - 1) / 2;
    const st = renderGalaxy(s, c + 0.25, c - 0.4, shape, psf, 1, size / 2);
    const total = sum(s.data);
    expect(Math.abs(st.sum - total)).toBeLessThan(1e-9);
    // moments of a convolution add: galaxy + PSF + pixel box
    const eg = ellipseForm(shape.e1, shape.e2);
    const ep = ellipseForm(psf.e1, psf.e2);
    const g2 = sersicR2(shape.n, shape.rHalf) / 2;
    const p2 = psf.kind === 'gaussian' ? (psf.fwhm / FWHM_PER_SIGMA) ** 2 : moffatAlpha(psf.fwhm, psf.beta) ** 2 / (2 * (psf.beta - 2));
    const m = moments(s);
    const exx = g2 * eg.cxx + p2 * ep.cxx + 1 / 12;
    const eyy = g2 * eg.cyy + p2 * ep.cyy + 1 / 12;
    const exy = g2 * eg.cxy + p2 * ep.cxy;
    console.log(
      `galaxy n=${shape.n} (x) ${psf.kind}: flux ${total.toFixed(6)}; Ixx ${m.ixx.toFixed(4)}/${exx.toFixed(4)} Iyy ${m.iyy.toFixed(4)}/${eyy.toFixed(4)} Ixy ${m.ixy.toFixed(4)}/${exy.toFixed(4)}`,
    );
    // de Vaucouleurs: 0.4% of the flux lies beyond 300 px but carries much of <r^2>; its moments test is looser
    const fluxTol = shape.n >= 4 ? 0.01 : 1e-4;
    expect(Math.abs(total - 1)).toBeLessThan(fluxTol);
    if (shape.n < 4) {
      const tr = exx + eyy;
      expect(Math.abs(m.ixx - exx) / tr).toBeLessThan(0.005);
      expect(Math.abs(m.iyy - eyy) / tr).toBeLessThan(0.005);
      expect(Math.abs(m.ixy - exy) / tr).toBeLessThan(0.005);
      expect(Math.abs(m.x - (c + 0.25))).toBeLessThan(1e-3);
      expect(Math.abs(m.y - (c - 0.4))).toBeLessThan(1e-3);
    }
  });

  it('a point-like galaxy renders as the star of the same PSF (to 2e-3 of the peak)', () => {
    const psf: PsfModel = { kind: 'moffat', fwhm: 3.2, beta: 3.5, e1: 0.05, e2: -0.03 };
    const a = stamp(81);
    const b = stamp(81);
    renderGalaxy(a, 40.3, 39.8, { n: 1, rHalf: 0.005 }, psf, 1, 40);
    renderRadial(b, 40.3, 39.8, psfProfile(psf), ellipseForm(psf.e1, psf.e2), 1, 40);
    let peak = 0;
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) {
      peak = Math.max(peak, b.data[i]);
      diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    }
    expect(diff / peak).toBeLessThan(2e-3);
  });

  it('wing truncation: the light left undrawn is below the requested level at every pixel', () => {
    const psf: PsfModel = { kind: 'moffat', fwhm: 3.5, beta: 4.765 };
    for (const shape of [{ n: 1, rHalf: 3, e1: 0.3 }, { n: 4, rHalf: 2, e2: -0.2 }] as SersicShape[]) {
      const flux = 5000;
      const level = 0.03;
      const full = stamp(301);
      const cut = stamp(301);
      renderGalaxy(full, 150.2, 149.7, shape, psf, flux, 150);
      const st = renderGalaxy(cut, 150.2, 149.7, shape, psf, flux, 150, { level });
      let worst = 0;
      for (let i = 0; i < full.data.length; i++) worst = Math.max(worst, full.data[i] - cut.data[i]);
      console.log(`n=${shape.n}: undrawn light at most ${worst.toFixed(4)} per pixel (level ${level}); drawn flux ${(st.sum / flux).toFixed(4)}`);
      expect(worst).toBeLessThan(level);
      expect(worst).toBeGreaterThan(0); // the truncation did happen
      expect(Math.abs(st.sum - sum(cut.data))).toBeLessThan(1e-6 * flux);
    }
  });

  it('the Gaussian-mixture convolution has unit flux and positive components', () => {
    for (const n of [0.5, 0.8, 1, 2, 4, 6]) {
      const list = convolvedGalaxy({ n, rHalf: 2, e1: 0.1 }, { kind: 'moffat', fwhm: 3.5, beta: 4.765 });
      let f = 0;
      for (let k = 0; k < list.count; k++) {
        expect(list.amp[k]).toBeGreaterThan(0);
        expect(list.vxx[k] * list.vyy[k] - list.vxy[k] ** 2).toBeGreaterThan(0);
        f += list.amp[k];
      }
      expect(Math.abs(f - 1)).toBeLessThan(1e-12);
    }
  });
});

describe('noise', () => {
  it('image - model has variance sky/gain + readNoise^2 (ADU) within 2%, chi-square 1, zero mean', () => {
    const gain = 1.5;
    const readNoise = 5;
    const sim = simulateCcd({ width: 512, height: 512, stars: false, galaxies: false, sky: 1000, gain, readNoise, seed: 21 });
    const n = 512 * 512;
    let s1 = 0;
    let s2 = 0;
    let chi2 = 0;
    for (let i = 0; i < n; i++) {
      const d = sim.image.data[i] - sim.model.data[i];
      s1 += d;
      s2 += d * d;
      chi2 += (d * d) / sim.variance.data[i];
    }
    const mean = s1 / n;
    const variance = s2 / n - mean * mean;
    const expected = 1000 / gain / gain + (readNoise / gain) ** 2; // (sky/gain + readnoise^2) in ADU
    console.log(`noise: variance ${variance.toFixed(3)} ADU^2 (expected ${expected.toFixed(3)}), mean ${mean.toFixed(4)}, chi2/n ${(chi2 / n).toFixed(4)}`);
    expect(Math.abs(variance / expected - 1)).toBeLessThan(0.02);
    expect(Math.abs(chi2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(expected / n));
    expect(sim.variance.data[1234]).toBeCloseTo(expected, 4);
  });

  it('with objects, the variance plane describes image - model (chi-square per pixel ~ 1, also on bright objects)', () => {
    const bright = Array.from({ length: 40 }, (_, k) => ({ type: 'star' as const, x: 20 + (k % 8) * 45, y: 30 + Math.floor(k / 8) * 55, mag: 14 + (k % 5) * 0.5 }));
    const sim = simulateCcd({ width: 400, height: 300, seed: 5, objects: bright, stars: { count: 80, magMin: 15, magMax: 24 }, galaxies: { count: 120, magMin: 18, magMax: 25 } });
    let chi2 = 0;
    let brightChi2 = 0;
    let nBright = 0;
    const n = sim.image.data.length;
    for (let i = 0; i < n; i++) {
      const r = (sim.image.data[i] - sim.model.data[i]) ** 2 / sim.variance.data[i];
      chi2 += r;
      if (sim.model.data[i] - sim.sky.data[i] > 2000) {
        brightChi2 += r;
        nBright++;
      }
    }
    console.log(`chi2/pixel ${(chi2 / n).toFixed(4)}; on ${nBright} bright object pixels ${(brightChi2 / nBright).toFixed(3)}`);
    expect(Math.abs(chi2 / n - 1)).toBeLessThan(0.015);
    expect(nBright).toBeGreaterThan(1000);
    expect(Math.abs(brightChi2 / nBright - 1)).toBeLessThan(5 * Math.sqrt(2 / nBright));
  });

  it('quantised images hold integers and include 1/12 ADU^2 in the variance; noise-free images equal the model', () => {
    const q = simulateCcd({ width: 128, height: 128, quantize: true, bias: 500, seed: 2, stars: false, galaxies: false });
    expect(q.image.data.every((v) => Number.isInteger(v))).toBe(true);
    expect(q.variance.data[0]).toBeCloseTo(1000 / 1.5 ** 2 + (5 / 1.5) ** 2 + 1 / 12, 3);
    const nn = simulateCcd({ width: 128, height: 128, noise: false, bias: 500, seed: 2 });
    expect(Buffer.from(nn.image.data.buffer).equals(Buffer.from(nn.model.data.buffer))).toBe(true);
    expect(nn.sky.data[77]).toBeCloseTo(500 + 1000 / 1.5, 3);
  });

  it('a sky gradient supplied as a function of position is the true background', () => {
    const sky = (x: number, y: number) => 800 + 0.5 * x - 0.25 * y;
    const sim = simulateCcd({ width: 200, height: 100, stars: false, galaxies: false, sky, gain: 2, bias: 100, seed: 3 });
    expect(sim.sky.data[0]).toBeCloseTo(100 + sky(1, 1) / 2, 4); // pixel (0, 0) is at (1, 1)
    expect(sim.sky.data[99 * 200 + 199]).toBeCloseTo(100 + sky(200, 100) / 2, 4);
    expect(sim.skyAt(37, 12)).toBeCloseTo(100 + sky(37, 12) / 2, 6);
    // the image follows the gradient: left and right column-block means
    const block = (x0: number) => {
      let s = 0;
      for (let y = 0; y < 100; y++) for (let x = x0; x < x0 + 20; x++) s += sim.image.data[y * 200 + x];
      return s / 2000;
    };
    expect(block(180) - block(0)).toBeCloseTo((0.5 * 180) / 2, -0.5);
  });
});

describe('determinism', () => {
  const opts = { width: 256, height: 256, seed: 77, visit: 3, detector: 5, defects: { cosmicRays: 10, hotPixels: 5, badColumns: 1 } };
  it('the same keys give a byte-identical image and truth; another detector or seed gives another', () => {
    const a = simulateCcd(opts);
    const b = simulateCcd(opts);
    const bytes = (p: { data: Float32Array }) => Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength);
    expect(bytes(a.image).equals(bytes(b.image))).toBe(true);
    expect(Buffer.from(a.mask.data.buffer).equals(Buffer.from(b.mask.data.buffer))).toBe(true);
    expect(Array.from(a.truth.x)).toEqual(Array.from(b.truth.x));
    const c = simulateCcd({ ...opts, detector: 6 });
    expect(bytes(a.image).equals(bytes(c.image))).toBe(false);
    expect(Array.from(a.truth.x)).not.toEqual(Array.from(c.truth.x));
    const d = simulateCcd({ ...opts, seed: 78 });
    expect(bytes(a.image).equals(bytes(d.image))).toBe(false);
  });

  it('injecting an object changes the noise only where the object was drawn (pixel-indexed noise streams)', () => {
    const base = { width: 128, height: 128, seed: 9, stars: false as const, galaxies: false as const };
    const a = simulateCcd(base);
    const b = simulateCcd({ ...base, objects: [{ type: 'star', x: 64.2, y: 40.7, mag: 20 }] });
    let changed = 0;
    let outside = 0;
    for (let i = 0; i < a.image.data.length; i++) {
      const touched = b.model.data[i] !== a.model.data[i];
      if (a.image.data[i] !== b.image.data[i]) {
        changed++;
        if (!touched) outside++;
      }
    }
    expect(changed).toBeGreaterThan(20);
    expect(outside).toBe(0);
  });
});

describe('scene', () => {
  it('magnitudes follow dN/dm ~ 10^(slope m) between the limits', () => {
    const rng = Rng.stream(1, 0, 0, PURPOSE.TEST);
    const mags = drawMagnitudes(rng, 200_000, 18, 26, 0.3);
    let lo = Infinity;
    let hi = -Infinity;
    const bins = new Float64Array(8);
    for (const m of mags) {
      lo = Math.min(lo, m);
      hi = Math.max(hi, m);
      bins[Math.min(7, Math.floor(m - 18))]++;
    }
    expect(lo).toBeGreaterThanOrEqual(18);
    expect(hi).toBeLessThan(26);
    // least-squares slope of log10(counts) per magnitude
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    for (let k = 0; k < 8; k++) {
      const y = Math.log10(bins[k]);
      sx += k;
      sy += y;
      sxx += k * k;
      sxy += k * y;
    }
    const slope = (8 * sxy - sx * sy) / (8 * sxx - sx * sx);
    console.log(`number-count slope ${slope.toFixed(4)} (0.3)`);
    expect(Math.abs(slope - 0.3)).toBeLessThan(0.01);
  });

  it('random objects: counts, magnitude limits, uniform 1-based positions, galaxy shapes in range', () => {
    const sim = simulateCcd({ width: 300, height: 200, seed: 4, stars: { count: 500, magMin: 17, magMax: 24 }, galaxies: { count: 700, magMin: 19, magMax: 26 } });
    const t = sim.truth;
    expect(t.count).toBe(1200);
    let nStar = 0;
    let sx = 0;
    for (let k = 0; k < t.count; k++) {
      expect(t.id[k]).toBe(k + 1);
      expect(t.x[k]).toBeGreaterThanOrEqual(0.5);
      expect(t.x[k]).toBeLessThan(300.5);
      expect(t.y[k]).toBeGreaterThanOrEqual(0.5);
      expect(t.y[k]).toBeLessThan(200.5);
      expect(t.mag[k]).toBeCloseTo(28 - 2.5 * Math.log10(t.flux[k]), 9);
      sx += t.x[k];
      if (t.type[k] === OBJ_TYPE.STAR) {
        nStar++;
        expect(t.mag[k]).toBeGreaterThanOrEqual(17);
        expect(t.mag[k]).toBeLessThan(24);
        expect(Number.isNaN(t.rHalf[k])).toBe(true);
      } else {
        expect(t.mag[k]).toBeGreaterThanOrEqual(19);
        expect(t.rHalf[k]).toBeGreaterThanOrEqual(0.05 / 0.2 - 1e-9);
        expect(t.rHalf[k]).toBeLessThanOrEqual(3 / 0.2 + 1e-9);
        expect(t.sersicN[k]).toBeGreaterThanOrEqual(0.5);
        expect(Math.hypot(t.e1[k], t.e2[k])).toBeLessThan(0.9);
      }
    }
    expect(nStar).toBe(500);
    // mean x of uniform positions on [0.5, 300.5): 150.5 +- 5 sigma
    expect(Math.abs(sx / t.count - 150.5)).toBeLessThan((5 * 300) / Math.sqrt(12 * t.count));
  });
});

describe('truth conventions', () => {
  it('x, y are 1-based pixel centres: a star at (20, 30) peaks in data[29 * width + 19] and its centroid is (20, 30)', () => {
    const sim = simulateCcd({ width: 64, height: 64, stars: false, galaxies: false, objects: [{ type: 'star', x: 20, y: 30, flux: 1e5 }], noise: false, sky: 0 });
    let best = 0;
    for (let i = 1; i < sim.model.data.length; i++) if (sim.model.data[i] > sim.model.data[best]) best = i;
    expect(best).toBe(29 * 64 + 19);
    let f = 0;
    let sx = 0;
    let sy = 0;
    for (let j = 0; j < 64; j++) {
      for (let i = 0; i < 64; i++) {
        const v = sim.model.data[j * 64 + i];
        f += v;
        sx += v * (i + 1);
        sy += v * (j + 1);
      }
    }
    expect(sx / f).toBeCloseTo(20, 3);
    expect(sy / f).toBeCloseTo(30, 3);
    expect(f).toBeCloseTo(sim.truth.fluxInImage[0], 0);
    expect(sim.truth.fluxInImage[0] / 1e5).toBeGreaterThan(0.999);
    expect(sim.truth.peak[0]).toBeCloseTo(sim.model.data[best], 2);
  });

  it('fluxInImage is the flux actually deposited (edge objects lose the part beyond the image)', () => {
    const sim = simulateCcd({ width: 64, height: 64, stars: false, galaxies: false, noise: false, sky: 0, objects: [{ type: 'star', x: 1, y: 32, flux: 1e4 }] });
    const total = sum(sim.model.data);
    expect(sim.truth.fluxInImage[0]).toBeCloseTo(total, 1);
    expect(sim.truth.fluxInImage[0] / sim.truth.flux[0]).toBeGreaterThan(0.45);
    expect(sim.truth.fluxInImage[0] / sim.truth.flux[0]).toBeLessThan(0.7);
  });

  it('a position-dependent PSF is used at each object and recorded in the truth', () => {
    const psf = (x: number): PsfModel => ({ kind: 'gaussian', fwhm: 2.5 + x / 100 });
    const sim = simulateCcd({ width: 400, height: 64, psf, stars: false, galaxies: false, noise: false, sky: 0, objects: [{ type: 'star', x: 50, y: 32, flux: 1e5 }, { type: 'star', x: 350, y: 32, flux: 1e5 }] });
    expect(sim.truth.fwhm[0]).toBeCloseTo(3, 12);
    expect(sim.truth.fwhm[1]).toBeCloseTo(6, 12);
    for (const [k, x0] of [[0, 20], [1, 320]]) {
      const s = stamp(60);
      for (let j = 2; j < 62; j++) for (let i = 0; i < 60; i++) s.data[(j - 2) * 60 + i] = sim.model.data[j * 400 + x0 + i];
      const m = moments({ ...s, height: 60 });
      const fwhm = FWHM_PER_SIGMA * Math.sqrt(0.5 * (m.ixx + m.iyy) - 1 / 12);
      expect(Math.abs(fwhm / sim.truth.fwhm[k] - 1)).toBeLessThan(0.01);
    }
  });
});

describe('detector effects', () => {
  it('saturation clips at the level, flags the truth and the mask', () => {
    const sim = simulateCcd({
      width: 128,
      height: 128,
      stars: false,
      galaxies: false,
      saturation: 30000,
      objects: [{ type: 'star', x: 40, y: 40, mag: 12 }, { type: 'star', x: 90, y: 90, mag: 20 }],
    });
    let max = 0;
    for (const v of sim.image.data) max = Math.max(max, v);
    expect(max).toBe(30000);
    expect(sim.truth.saturated[0]).toBe(1);
    expect(sim.truth.saturated[1]).toBe(0);
    expect(sim.mask.data[39 * 128 + 39] & SIM_MASK.SATURATED).toBeTruthy();
  });

  it('bleeding conserves charge along the column and marks the trail', () => {
    const fullWell = 50000;
    const sim = simulateCcd({ width: 64, height: 256, stars: false, galaxies: false, noise: false, sky: 100, gain: 1, readNoise: 0, fullWell, saturation: Infinity, objects: [{ type: 'star', x: 32, y: 128, flux: 3e7 }] });
    const col = 31;
    let before = 0;
    let after = 0;
    let trail = 0;
    for (let y = 0; y < 256; y++) {
      before += sim.model.data[y * 64 + col];
      after += sim.image.data[y * 64 + col];
      if (sim.mask.data[y * 64 + col] & SIM_MASK.BLEED) trail++;
      expect(sim.image.data[y * 64 + col]).toBeLessThanOrEqual(fullWell + 1e-3);
    }
    expect(after / before).toBeCloseTo(1, 5);
    expect(trail).toBeGreaterThan(10);
    expect(sim.truth.saturated[0]).toBe(1);
  });

  it('cosmic rays, hot pixels and bad columns are seeded, masked and visible in the image', () => {
    const opts = { width: 256, height: 256, stars: false as const, galaxies: false as const, bias: 200, seed: 8 };
    const clean = simulateCcd(opts);
    const sim = simulateCcd({ ...opts, defects: { cosmicRays: 20, hotPixels: 30, badColumns: 2 } });
    let cr = 0;
    let hot = 0;
    let crExcess = 0;
    const badCols = new Set<number>();
    for (let i = 0; i < sim.mask.data.length; i++) {
      const m = sim.mask.data[i];
      if (m & SIM_MASK.COSMIC_RAY) {
        cr++;
        crExcess += sim.image.data[i] - clean.image.data[i];
      }
      if (m & SIM_MASK.HOT_PIXEL) {
        hot++;
        expect(sim.image.data[i] - sim.model.data[i]).toBeGreaterThan(500); // >= 2000 e- of dark charge
      }
      if (m & SIM_MASK.BAD_COLUMN) {
        badCols.add(i % 256);
        expect(Math.abs(sim.image.data[i] - 200)).toBeLessThan(8 * (5 / 1.5)); // dead: bias + read noise
      }
      if (!m) expect(sim.image.data[i]).toBe(clean.image.data[i]);
    }
    expect(cr).toBeGreaterThan(20);
    expect(crExcess / cr).toBeGreaterThan(300);
    expect(hot).toBe(30);
    expect(badCols.size).toBe(2);
  });
});

describe('speed', () => {
  it('a 4096 x 4096 CCD with 20,000 objects renders in a few seconds', () => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const sim = simulateCcd({
      width: 4096,
      height: 4096,
      seed: 1,
      stars: { count: 8000, magMin: 16, magMax: 26 },
      galaxies: { count: 12000, magMin: 19, magMax: 27 },
      defects: { cosmicRays: 300, hotPixels: 200, badColumns: 3 },
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0).user / 1e6;
    console.log(`4096 x 4096, ${sim.truth.count} objects: ${seconds.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU`);
    expect(sim.truth.count).toBe(20000);
    // typically ~3 s of CPU on one core; the wall clock is checked loosely as the machine may be shared
    expect(cpu).toBeLessThan(12);
    expect(seconds).toBeLessThan(60);
  });
});
