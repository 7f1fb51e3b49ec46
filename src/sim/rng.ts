/**
 * Seeded deterministic random numbers: xoshiro128** (32-bit state words, Math.imul arithmetic, no BigInt),
 * with uniform, Gaussian (Marsaglia polar) and Poisson (inversion below mean 10, Hormann's exact PTRS
 * transformed rejection above) samplers, and independent streams derived from (seed, visit, detector, purpose).
 * PixelRng is a counter-based variant whose draws for pixel i depend only on (stream, i): the noise of a pixel
 * then depends only on its own expected value, so injecting an object leaves the noise elsewhere unchanged.
 */
import { lnFactorial } from './special.js';

/** Stream purposes: each consumer of randomness gets its own stream so that changing one never shifts another. */
export const PURPOSE = {
  SCENE: 1,
  NOISE: 2,
  DEFECTS: 3,
  COSMICS: 4,
  READ_NOISE: 5,
  TEST: 99,
} as const;

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Split a safe integer (possibly negative) into two 32-bit words. */
function words(v: number): [number, number] {
  if (!Number.isSafeInteger(v)) throw new RangeError(`stream key must be a safe integer, got ${v}`);
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) >>> 0;
  return [lo, hi];
}

/**
 * Derive a 128-bit xoshiro state from integer keys. Each of the four state words hashes all keys
 * with a different lane constant, so streams for different keys are unrelated.
 */
export function streamState(keys: readonly number[]): Uint32Array {
  const w: number[] = [];
  for (const k of keys) w.push(...words(k));
  const s = new Uint32Array(4);
  const lanes = [0x9e3779b9, 0x7f4a7c15, 0xbb67ae85, 0x3c6ef372];
  for (let lane = 0; lane < 4; lane++) {
    let h = fmix32(lanes[lane] ^ w.length);
    for (let i = 0; i < w.length; i++) h = fmix32((h + Math.imul(w[i] ^ lanes[(lane + i + 1) & 3], 0x27d4eb2f)) >>> 0);
    s[lane] = fmix32((h + lanes[lane]) >>> 0);
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // xoshiro's only forbidden state
  return s;
}

const INV32 = 1 / 4294967296;
const INV53 = 1 / 9007199254740992;

/** Distribution samplers over a source of uniformly distributed 32-bit words. */
export abstract class RandomSource {
  protected spare = 0;
  protected hasSpare = false;

  /** Next raw 32-bit output (unsigned). */
  abstract nextU32(): number;

  /** Uniform in the open interval (0, 1) with 32-bit resolution: fast, never 0 or 1. */
  uniform32(): number {
    return (this.nextU32() + 0.5) * INV32;
  }

  /** Uniform in [0, 1) with 53-bit resolution. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * INV53;
  }

  /** Uniform in [a, b). */
  between(a: number, b: number): number {
    return a + (b - a) * this.uniform();
  }

  /** Uniform integer in [0, n) (n <= 2^32), rejection-free multiply-shift (bias < n / 2^32). */
  int(n: number): number {
    return Math.floor(this.nextU32() * INV32 * n);
  }

  /** Standard normal deviate (Marsaglia polar method, the second deviate of each pair cached). */
  gaussian(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform32() - 1;
      v = 2 * this.uniform32() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /** Exponential deviate with unit mean. */
  exponential(): number {
    return -Math.log(this.uniform32());
  }

  /**
   * Poisson deviate with the given mean (>= 0). Exact: sequential inversion for mean < 10,
   * PTRS transformed rejection (Hormann 1993, "The transformed rejection method for generating
   * Poisson random variables") for mean >= 10. Non-finite or negative means throw.
   */
  poisson(mean: number): number {
    if (mean < 10) {
      if (!(mean >= 0)) throw new RangeError(`Poisson mean must be >= 0, got ${mean}`);
      if (mean === 0) return 0;
      const u = this.uniform32();
      let p = Math.exp(-mean);
      let cdf = p;
      let k = 0;
      while (u > cdf && k < 200) {
        k++;
        p *= mean / k;
        cdf += p;
      }
      return k;
    }
    if (!Number.isFinite(mean)) throw new RangeError(`Poisson mean must be finite, got ${mean}`);
    const b = 0.931 + 2.53 * Math.sqrt(mean);
    const a = -0.059 + 0.02483 * b;
    const vr = 0.9277 - 3.6224 / (b - 2);
    let invAlpha = 0;
    let loglam = 0;
    for (;;) {
      const U = this.uniform32() - 0.5;
      const V = this.uniform32();
      const us = 0.5 - Math.abs(U);
      const k = Math.floor(((2 * a) / us + b) * U + mean + 0.43);
      if (us >= 0.07 && V <= vr) return k; // the fast acceptance region (~86% of draws)
      if (k < 0 || (us < 0.013 && V > us)) continue;
      if (invAlpha === 0) {
        invAlpha = 1.1239 + 1.1328 / (b - 3.4);
        loglam = Math.log(mean);
      }
      const lhs = Math.log(V * invAlpha) - Math.log(a / (us * us) + b);
      if (lhs <= -mean + k * loglam - lnFactorial(k)) return k;
    }
  }
}

/** A xoshiro128** generator: one sequential stream. */
export class Rng extends RandomSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(state: Uint32Array) {
    super();
    this.s0 = state[0] | 0;
    this.s1 = state[1] | 0;
    this.s2 = state[2] | 0;
    this.s3 = state[3] | 0;
  }

  /** The stream for (seed, visit, detector, purpose): deterministic, independent across any differing key. */
  static stream(seed: number, visit = 0, detector = 0, purpose: number = PURPOSE.TEST): Rng {
    return new Rng(streamState([seed, visit, detector, purpose]));
  }

  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return result;
  }
}

/**
 * Counter-based generator: after reset(i), the draws are a fixed function of (stream key, i, draw number): the
 * murmur3 finaliser of a Weyl sequence from a per-index 32-bit base, xored with a second per-index word (so two
 * indices share a sequence only if both 32-bit words coincide). Use one reset per pixel.
 */
export class PixelRng extends RandomSource {
  private a = 0;
  private b = 0;
  private k = 0;
  private readonly key: Uint32Array;

  constructor(key: Uint32Array) {
    super();
    this.key = key;
  }

  /** The counter stream for (seed, visit, detector, purpose). */
  static stream(seed: number, visit = 0, detector = 0, purpose: number = PURPOSE.TEST): PixelRng {
    return new PixelRng(streamState([seed, visit, detector, purpose]));
  }

  /** Position the generator at index i (e.g. a pixel's linear index). */
  reset(i: number): void {
    this.a = fmix32((i ^ this.key[0]) >>> 0);
    this.b = fmix32(((i + this.key[1]) ^ this.key[2]) >>> 0) ^ this.key[3];
    this.k = 0;
    this.hasSpare = false;
  }

  nextU32(): number {
    const c = (this.a + Math.imul(++this.k, 0x9e3779b9)) ^ this.b;
    return fmix32(c >>> 0);
  }
}
