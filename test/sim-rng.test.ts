/**
 * The simulator's random numbers: xoshiro128** against an independent Python implementation of the published
 * algorithm, stream derivation, and the uniform / Gaussian / Poisson samplers' moments and distributions
 * (Poisson probabilities from scipy.stats when available).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PixelRng, PURPOSE, Rng, streamState } from '../src/sim/rng.js';
import { PYTHON, hasAstropy, warnNoAstropy } from './helpers/astropy.js';

const hasScipy = hasAstropy && spawnSync(PYTHON, ['-c', 'import scipy.stats'], { encoding: 'utf8' }).status === 0;
warnNoAstropy('Poisson pmf check against scipy.stats');
if (hasAstropy && !hasScipy) console.warn('SKIPPED Poisson pmf check against scipy.stats: scipy not importable');
const hasPython = spawnSync(PYTHON, ['-c', 'pass']).status === 0;
if (!hasPython) console.warn(`SKIPPED xoshiro128** reference check: ${PYTHON} not available`);

function moments(xs: ArrayLike<number>): { mean: number; variance: number; skew: number; kurt: number } {
  const n = xs.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i];
  m /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i] - m;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n - 1;
  m3 /= n;
  m4 /= n;
  return { mean: m, variance: m2, skew: m3 / m2 ** 1.5, kurt: m4 / (m2 * m2) };
}

describe('xoshiro128**', () => {
  it.skipIf(!hasPython)('matches an independent Python implementation for a fixed state', () => {
    const state = Uint32Array.of(0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321);
    const rng = new Rng(state);
    const ours = Array.from({ length: 64 }, () => rng.nextU32());
    const code = `
import json
M = 0xFFFFFFFF
def rotl(x, k): return ((x << k) | (x >> (32 - k))) & M
s = [0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321]
out = []
for _ in range(64):
    out.append((rotl((s[1] * 5) & M, 7) * 9) & M)
    t = (s[1] << 9) & M
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11)
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(ours).toEqual(JSON.parse(r.stdout));
  });

  it('derives distinct, reproducible streams from (seed, visit, detector, purpose)', () => {
    const first = (s: number, v: number, d: number, p: number) => Array.from({ length: 8 }, ((r) => () => r.nextU32())(Rng.stream(s, v, d, p)));
    const base = first(7, 100, 3, PURPOSE.NOISE);
    expect(first(7, 100, 3, PURPOSE.NOISE)).toEqual(base);
    for (const other of [first(8, 100, 3, PURPOSE.NOISE), first(7, 101, 3, PURPOSE.NOISE), first(7, 100, 4, PURPOSE.NOISE), first(7, 100, 3, PURPOSE.SCENE)]) {
      expect(other).not.toEqual(base);
    }
    // keys beyond 32 bits and negative keys are distinct too
    expect(Array.from(streamState([2 ** 40, 0, 0, 1]))).not.toEqual(Array.from(streamState([0, 0, 0, 1])));
    expect(Array.from(streamState([-1, 0, 0, 1]))).not.toEqual(Array.from(streamState([2 ** 32 - 1, 0, 0, 1])));
  });

  it('gives uncorrelated neighbouring streams (detector d vs d + 1)', () => {
    const n = 200_000;
    const a = Rng.stream(1, 0, 10, PURPOSE.NOISE);
    const b = Rng.stream(1, 0, 11, PURPOSE.NOISE);
    let sab = 0;
    for (let i = 0; i < n; i++) sab += (a.uniform() - 0.5) * (b.uniform() - 0.5);
    const corr = sab / n / (1 / 12);
    expect(Math.abs(corr)).toBeLessThan(5 / Math.sqrt(n)); // 5 sigma
  });
});

describe('samplers', () => {
  it('uniform: mean 1/2, variance 1/12, flat histogram (chi-square)', () => {
    const rng = Rng.stream(3, 0, 0, PURPOSE.TEST);
    const n = 400_000;
    const xs = new Float64Array(n);
    const bins = new Float64Array(100);
    for (let i = 0; i < n; i++) {
      xs[i] = rng.uniform();
      bins[Math.floor(xs[i] * 100)]++;
    }
    const m = moments(xs);
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(0.005 / 12 * 5);
    let chi2 = 0;
    for (const c of bins) chi2 += (c - n / 100) ** 2 / (n / 100);
    expect(chi2).toBeLessThan(99 + 5 * Math.sqrt(2 * 99)); // 99 degrees of freedom, ~5 sigma
    expect(chi2).toBeGreaterThan(99 - 5 * Math.sqrt(2 * 99));
  });

  it('gaussian: mean 0, variance 1, skewness 0, kurtosis 3, tail fraction', () => {
    const rng = Rng.stream(4, 0, 0, PURPOSE.TEST);
    const n = 400_000;
    const xs = new Float64Array(n);
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      xs[i] = rng.gaussian();
      if (Math.abs(xs[i]) > 2) beyond2++;
    }
    const m = moments(xs);
    expect(Math.abs(m.mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m.skew)).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m.kurt - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
    const p2 = 0.0455002638963584; // P(|z| > 2)
    expect(Math.abs(beyond2 / n - p2)).toBeLessThan(5 * Math.sqrt((p2 * (1 - p2)) / n));
  });

  // mean and variance of the sample against lambda, with 5-sigma statistical tolerances
  it.each([0.1, 5, 50, 1e4])('poisson(%d): sample mean and variance equal the mean', (lam) => {
    const rng = Rng.stream(5, 0, 0, PURPOSE.TEST);
    const n = 300_000;
    const xs = new Float64Array(n);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      xs[i] = rng.poisson(lam);
      if (!Number.isInteger(xs[i]) || xs[i] < 0) bad++;
    }
    expect(bad).toBe(0);
    const m = moments(xs);
    console.log(`poisson(${lam}): mean ${m.mean.toPrecision(6)}, variance ${m.variance.toPrecision(6)}, skewness ${m.skew.toFixed(4)}`);
    expect(Math.abs(m.mean - lam)).toBeLessThan(5 * Math.sqrt(lam / n));
    // Var(sample variance) ~ (mu4 - sigma^4) / n with mu4 = lam (1 + 3 lam)
    const sdVar = Math.sqrt((lam * (1 + 3 * lam) - lam * lam) / n);
    expect(Math.abs(m.variance - lam)).toBeLessThan(5 * sdVar);
    // third central moment of a Poisson is lambda too: skewness 1/sqrt(lambda)
    expect(Math.abs(m.skew - 1 / Math.sqrt(lam))).toBeLessThan(5 * Math.sqrt(6 / n) + 0.02 / Math.sqrt(lam));
  });

  it.skipIf(!hasScipy).each([0.1, 5, 50, 1e4])('poisson(%d): histogram matches scipy.stats.poisson (chi-square)', (lam) => {
    const rng = Rng.stream(6, 0, 0, PURPOSE.TEST);
    const n = 200_000;
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const k = rng.poisson(lam);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const lo = Math.max(0, Math.floor(lam - 6 * Math.sqrt(lam) - 3));
    const hi = Math.ceil(lam + 6 * Math.sqrt(lam) + 6);
    const r = spawnSync(PYTHON, ['-c', `import json, sys; from scipy.stats import poisson; import numpy as np
lam, lo, hi = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(json.dumps({"pmf": poisson.pmf(np.arange(lo, hi + 1), lam).tolist(), "below": float(poisson.cdf(lo - 1, lam)), "above": float(poisson.sf(hi, lam))}))`, String(lam), String(lo), String(hi)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const ref = JSON.parse(r.stdout) as { pmf: number[]; below: number; above: number };
    // bins of consecutive k holding >= 20 expected counts each, tails pooled into the end bins
    const expected: number[] = [];
    const observed: number[] = [];
    let e = ref.below * n;
    let o = 0;
    for (const [k, c] of counts) if (k < lo) o += c;
    for (let k = lo; k <= hi; k++) {
      e += ref.pmf[k - lo] * n;
      o += counts.get(k) ?? 0;
      if (e >= 20) {
        expected.push(e);
        observed.push(o);
        e = 0;
        o = 0;
      }
    }
    e += ref.above * n;
    for (const [k, c] of counts) if (k > hi) o += c;
    expected[expected.length - 1] += e;
    observed[observed.length - 1] += o;
    let chi2 = 0;
    for (let i = 0; i < expected.length; i++) chi2 += (observed[i] - expected[i]) ** 2 / expected[i];
    const dof = expected.length - 1;
    expect(dof).toBeGreaterThan(0);
    expect(chi2).toBeLessThan(dof + 5 * Math.sqrt(2 * dof) + 5);
  });

  it('PixelRng: draws depend only on (stream, index), and pixels are independent', () => {
    const a = PixelRng.stream(9, 1, 2, PURPOSE.NOISE);
    const b = PixelRng.stream(9, 1, 2, PURPOSE.NOISE);
    a.reset(12345);
    const seq = [a.nextU32(), a.nextU32(), a.nextU32()];
    b.reset(99); // different history
    b.nextU32();
    b.reset(12345);
    expect([b.nextU32(), b.nextU32(), b.nextU32()]).toEqual(seq);
    // statistics across pixels: one Poisson(50) and one Gaussian per pixel
    const n = 300_000;
    const ps = new Float64Array(n);
    const gs = new Float64Array(n);
    const g = PixelRng.stream(9, 1, 2, PURPOSE.READ_NOISE);
    for (let i = 0; i < n; i++) {
      a.reset(i);
      ps[i] = a.poisson(50);
      g.reset(i);
      gs[i] = g.gaussian();
    }
    const mp = moments(ps);
    const mg = moments(gs);
    expect(Math.abs(mp.mean - 50)).toBeLessThan(5 * Math.sqrt(50 / n));
    expect(Math.abs(mp.variance - 50)).toBeLessThan(5 * Math.sqrt((50 * 151 - 2500) / n));
    expect(Math.abs(mg.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    // lag-1 correlation between neighbouring pixels
    let c = 0;
    for (let i = 1; i < n; i++) c += gs[i] * gs[i - 1];
    expect(Math.abs(c / n)).toBeLessThan(5 / Math.sqrt(n));
  });
});
