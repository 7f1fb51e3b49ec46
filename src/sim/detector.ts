/**
 * The detector stage: from the expected signal (electrons) to ADU with Poisson noise, cosmic rays, hot pixels,
 * bleeding of saturated charge along columns, read noise, gain, bias, bad columns, quantisation and ADC saturation.
 * Defect positions come from their own seeded streams, so switching one on never changes another.
 */
import type { IntPlane, Plane } from '../image/types.js';
import { PixelRng, PURPOSE, Rng } from './rng.js';

/** Bits of the defect mask returned with every simulated image. */
export const SIM_MASK = {
  BAD_COLUMN: 1,
  HOT_PIXEL: 2,
  COSMIC_RAY: 4,
  /** clipped at the ADC saturation level, or filled beyond the full well */
  SATURATED: 8,
  /** received charge bled from a saturated pixel */
  BLEED: 16,
} as const;

/** Optional detector defects. Counts are per CCD; all positions are seeded. */
export interface DefectOptions {
  /** number of bad columns (default 0) */
  readonly badColumns?: number;
  /** signal in a bad column, electrons (default 0: a dead column shows bias + read noise) */
  readonly badColumnLevel?: number;
  /** number of hot pixels (default 0) */
  readonly hotPixels?: number;
  /** hot-pixel dark charge range, electrons, drawn log-uniformly (default [2000, 50000]) */
  readonly hotPixelRange?: readonly [number, number];
  /** number of cosmic-ray tracks (default 0) */
  readonly cosmicRays?: number;
  /** track length range in pixels, uniform (default [1, 25]) */
  readonly cosmicRayLength?: readonly [number, number];
  /** deposited charge per pixel of track length, electrons, log-uniform range (default [800, 4000]) */
  readonly cosmicRayCharge?: readonly [number, number];
}

/** Detector parameters for the noise stage. */
export interface DetectorOptions {
  /** electrons per ADU */
  readonly gain: number;
  /** read noise, electrons RMS */
  readonly readNoise: number;
  /** bias level, ADU */
  readonly bias: number;
  /** ADC saturation level, ADU (values clipped to it and flagged); Infinity for none */
  readonly saturation: number;
  /** full-well capacity, electrons: excess charge bleeds along the column; Infinity for none */
  readonly fullWell: number;
  /** round to integer ADU (and clip at 0, like an ADC) */
  readonly quantize: boolean;
  /** false: no Poisson or read noise (the image is the expected value) */
  readonly noise: boolean;
  readonly defects: DefectOptions;
}

/** Stream keys of one CCD exposure. */
export interface StreamKeys {
  readonly seed: number;
  readonly visit: number;
  readonly detector: number;
}

interface CosmicHit {
  index: number;
  charge: number;
}

/** Cosmic-ray tracks: straight segments sampled every 0.1 px, charge deposited in the pixel under each sample. */
function cosmicRays(w: number, h: number, opts: DefectOptions, keys: StreamKeys): CosmicHit[] {
  const n = opts.cosmicRays ?? 0;
  if (n <= 0) return [];
  const rng = Rng.stream(keys.seed, keys.visit, keys.detector, PURPOSE.COSMICS);
  const [lmin, lmax] = opts.cosmicRayLength ?? [1, 25];
  const [qmin, qmax] = opts.cosmicRayCharge ?? [800, 4000];
  const hits = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const x0 = rng.uniform() * w - 0.5;
    const y0 = rng.uniform() * h - 0.5;
    const ang = rng.uniform() * 2 * Math.PI;
    const len = lmin + (lmax - lmin) * rng.uniform();
    const q = qmin * Math.pow(qmax / qmin, rng.uniform());
    const steps = Math.max(1, Math.ceil(len / 0.1));
    const dq = (q * len) / steps;
    for (let s = 0; s < steps; s++) {
      const t = (s + 0.5) / steps;
      const ix = Math.round(x0 + t * len * Math.cos(ang));
      const iy = Math.round(y0 + t * len * Math.sin(ang));
      if (ix < 0 || iy < 0 || ix >= w || iy >= h) continue;
      const idx = iy * w + ix;
      hits.set(idx, (hits.get(idx) ?? 0) + dq);
    }
  }
  return [...hits.entries()].sort((a, b) => a[0] - b[0]).map(([index, charge]) => ({ index, charge }));
}

/** Positions and levels of hot pixels and bad columns. */
function staticDefects(w: number, h: number, opts: DefectOptions, keys: StreamKeys): { hot: Map<number, number>; badCols: Int32Array } {
  const rng = Rng.stream(keys.seed, keys.visit, keys.detector, PURPOSE.DEFECTS);
  const hot = new Map<number, number>();
  const [hmin, hmax] = opts.hotPixelRange ?? [2000, 50000];
  for (let k = 0; k < (opts.hotPixels ?? 0); k++) {
    const idx = rng.int(w * h);
    hot.set(idx, hmin * Math.pow(hmax / hmin, rng.uniform()));
  }
  const nb = opts.badColumns ?? 0;
  const badCols = new Int32Array(w).fill(-1); // first bad row of each column, -1 if good
  for (let k = 0; k < nb; k++) {
    const x = rng.int(w);
    // half of the bad columns start at a random row (a charge trap) and run to the top of the CCD
    const y0 = rng.uniform() < 0.5 ? 0 : rng.int(h);
    badCols[x] = badCols[x] < 0 ? y0 : Math.min(badCols[x], y0);
  }
  return { hot, badCols };
}

/**
 * Move charge above the full well along each column, half up and half down, filling pixels to full well; pixels
 * that overflowed are marked SATURATED, pixels that received charge BLEED.
 */
function bleed(e: Float32Array, w: number, h: number, fullWell: number, mask: Int32Array): void {
  for (let x = 0; x < w; x++) {
    let y = 0;
    while (y < h) {
      if (e[y * w + x] <= fullWell) {
        y++;
        continue;
      }
      let excess = 0;
      const start = y;
      while (y < h && e[y * w + x] > fullWell) {
        excess += e[y * w + x] - fullWell;
        e[y * w + x] = fullWell;
        mask[y * w + x] |= SIM_MASK.SATURATED;
        y++;
      }
      let up = excess / 2;
      let down = excess - up;
      for (let yy = y; yy < h && up > 0; yy++) {
        const i = yy * w + x;
        const room = Math.max(0, fullWell - e[i]);
        const add = Math.min(room, up);
        e[i] += add;
        up -= add;
        mask[i] |= SIM_MASK.BLEED;
      }
      for (let yy = start - 1; yy >= 0 && down > 0; yy--) {
        const i = yy * w + x;
        const room = Math.max(0, fullWell - e[i]);
        const add = Math.min(room, down);
        e[i] += add;
        down -= add;
        mask[i] |= SIM_MASK.BLEED;
      }
    }
  }
}

/** Output of the detector stage. */
export interface DetectorOutput {
  /** the image, ADU */
  image: Plane;
  /** true per-pixel variance of the image, ADU^2 */
  variance: Plane;
  /** defect mask (SIM_MASK bits) */
  mask: IntPlane;
}

/**
 * Turn the expected signal into a raw image. `expected` (electrons: sky + objects, w x h) is read, not modified.
 * Variance: (expected + dark) / gain^2 + (readNoise / gain)^2 (+ 1/12 if quantised); cosmic-ray charge is a
 * deterministic deposit and adds none. Shot and read noise come from counter-based streams indexed by pixel, so a
 * pixel's noise depends only on its own expected value (adding an object changes no other pixel's noise).
 */
export function detect(expected: Plane, opts: DetectorOptions, keys: StreamKeys): DetectorOutput {
  const { width: w, height: h } = expected;
  const n = w * h;
  const exp = expected.data;
  const e = new Float32Array(n);
  const variance = new Float32Array(n);
  const mask = new Int32Array(n);
  const { hot, badCols } = staticDefects(w, h, opts.defects, keys);
  const shot = PixelRng.stream(keys.seed, keys.visit, keys.detector, PURPOSE.NOISE);
  const read = PixelRng.stream(keys.seed, keys.visit, keys.detector, PURPOSE.READ_NOISE);
  const g2 = 1 / (opts.gain * opts.gain);
  const rn2 = opts.readNoise * opts.readNoise * g2 + (opts.quantize ? 1 / 12 : 0);

  for (const idx of hot.keys()) mask[idx] |= SIM_MASK.HOT_PIXEL;
  for (let i = 0; i < n; i++) {
    let lam = exp[i];
    if (mask[i] & SIM_MASK.HOT_PIXEL) lam += hot.get(i) ?? 0;
    if (opts.noise) {
      shot.reset(i);
      e[i] = shot.poisson(lam > 0 ? lam : 0);
    } else e[i] = lam;
    variance[i] = (lam > 0 ? lam : 0) * g2 + rn2;
  }
  for (const hit of cosmicRays(w, h, opts.defects, keys)) {
    e[hit.index] += hit.charge;
    mask[hit.index] |= SIM_MASK.COSMIC_RAY;
  }
  if (Number.isFinite(opts.fullWell)) bleed(e, w, h, opts.fullWell, mask);
  const badLevel = opts.defects.badColumnLevel ?? 0;
  const invGain = 1 / opts.gain;
  const sat = opts.saturation;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      let el = e[i];
      const bad = badCols[x];
      if (bad >= 0 && y >= bad) {
        if (opts.noise) shot.reset(i);
        el = opts.noise ? shot.poisson(badLevel) : badLevel;
        variance[i] = badLevel * g2 + rn2;
        mask[i] |= SIM_MASK.BAD_COLUMN;
      }
      if (opts.noise) {
        read.reset(i);
        el += opts.readNoise * read.gaussian();
      }
      let adu = el * invGain + opts.bias;
      if (opts.quantize) adu = adu < 0 ? 0 : Math.round(adu);
      if (adu >= sat) {
        adu = sat;
        mask[i] |= SIM_MASK.SATURATED;
      }
      e[i] = adu;
    }
  }
  return {
    image: { width: w, height: h, data: e },
    variance: { width: w, height: h, data: variance },
    mask: { width: w, height: h, data: mask },
  };
}
