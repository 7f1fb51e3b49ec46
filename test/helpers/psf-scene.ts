/**
 * Simulated CCD scenes with truth for the PSF tests: pixel-integrated elliptical Moffat stars whose FWHM and
 * ellipticity vary across the CCD, PSF-convolved Sersic galaxies, a flat sky, Poisson noise (electrons, gain) and
 * read noise; rendered with the simulator's integrator (src/sim). Also the truth FWHM of the effective
 * (pixel-convolved) PSF, computed by direct numerical integration of the analytic profile, independent of src/psf.
 */
import { writeImage } from '../../src/fits/write.js';
import { ccdCore, type CcdCore } from '../../src/pipeline/ccd.js';
import { defaultConfig } from '../../src/pipeline/config.js';
import type { SensorContext } from '../../src/pipeline/sensor.js';
import { renderRadial } from '../../src/sim/integrate.js';
import { ellipseForm, psfProfile, SersicProfile, type MoffatPsf } from '../../src/sim/profiles.js';
import { Rng } from '../../src/sim/rng.js';

export interface PsfField {
  /** PSF at 0-based pixel (x, y) of a CCD of the given size */
  (x: number, y: number): MoffatPsf;
}

/** FWHM 3 px at pixel (0, 0) to 4 px at the far corner; e1, e2 linear in position, |e| <= 0.1 at the corners. */
export function varyingField(width: number, height: number, beta = 3.5, f0 = 3, f1 = 4): PsfField {
  return (x, y) => {
    const u = x / (width - 1);
    const v = y / (height - 1);
    return { kind: 'moffat', beta, fwhm: f0 + (f1 - f0) * 0.5 * (u + v), e1: 0.08 * (2 * u - 1), e2: 0.06 * (2 * v - 1) };
  };
}

export interface TruthObject {
  type: 'star' | 'galaxy';
  /** 0-based centre */
  x: number;
  y: number;
  /** total flux, ADU */
  flux: number;
  rHalf: number;
}

export interface Scene {
  width: number;
  height: number;
  /** ADU, sky included */
  data: Float32Array;
  sky: number;
  gain: number;
  readNoise: number;
  truth: TruthObject[];
}

export interface SceneOptions {
  width: number;
  height: number;
  field: PsfField;
  nStars: number;
  nGalaxies: number;
  seed: number;
  /** star fluxes log-uniform in [fluxMin, fluxMax] ADU */
  fluxMin?: number;
  fluxMax?: number;
  sky?: number;
  gain?: number;
  readNoise?: number;
  /** galaxy half-light radii log-uniform in this range (pixels) */
  rHalf?: [number, number];
  /** keep object centres this far from the edges */
  margin?: number;
  /** add noise (default true) */
  noise?: boolean;
}

/**
 * Add a PSF-convolved Sersic galaxy: the pixel-integrated galaxy on a stamp, convolved with the PSF sampled at pixel
 * centres (normalised), added to the image.
 */
function addGalaxy(target: { data: Float32Array; width: number; height: number }, x: number, y: number, prof: SersicProfile, e1: number, e2: number, psf: MoffatPsf, flux: number): void {
  const rg = Math.min(40, Math.max(4, prof.radiusForLost(3e-3)));
  const hs = Math.ceil(rg / Math.sqrt(1 - Math.hypot(e1, e2))) + 1;
  const ns = 2 * hs + 1;
  const ix = Math.round(x);
  const iy = Math.round(y);
  const stamp = new Float64Array(ns * ns);
  const st = renderRadial({ data: stamp, width: ns, height: ns }, hs + x - ix, hs + y - iy, prof, ellipseForm(e1, e2), 1, rg);
  const norm = (flux * prof.enclosed(rg)) / st.sum;
  const pp = psfProfile(psf);
  const pe = ellipseForm(psf.e1, psf.e2);
  const rk = Math.ceil(3 * psf.fwhm) + 1;
  const nk = 2 * rk + 1;
  const kern = new Float64Array(nk * nk);
  let ks = 0;
  for (let j = 0; j < nk; j++) for (let i = 0; i < nk; i++) {
    const dx = i - rk;
    const dy = j - rk;
    ks += kern[j * nk + i] = pp.value(pe.qxx * dx * dx + 2 * pe.qxy * dx * dy + pe.qyy * dy * dy);
  }
  const { data, width, height } = target;
  for (let sy = 0; sy < ns; sy++) for (let sx = 0; sx < ns; sx++) {
    const v = (stamp[sy * ns + sx] * norm) / ks;
    if (v === 0) continue;
    for (let ky = 0; ky < nk; ky++) {
      const py = iy + sy - hs + ky - rk;
      if (py < 0 || py >= height) continue;
      for (let kx = 0; kx < nk; kx++) {
        const px = ix + sx - hs + kx - rk;
        if (px >= 0 && px < width) data[py * width + px] += v * kern[ky * nk + kx];
      }
    }
  }
}

/** Render a scene (deterministic for a seed). */
export function makeScene(o: SceneOptions): Scene {
  const { width, height } = o;
  const sky = o.sky ?? 100;
  const gain = o.gain ?? 2;
  const readNoise = o.readNoise ?? 3;
  const rng = Rng.stream(o.seed, 0, 0, 99);
  const img = new Float32Array(width * height);
  const target = { data: img, width, height };
  const truth: TruthObject[] = [];
  const margin = o.margin ?? 5;
  const pos = () => [margin + rng.uniform() * (width - 1 - 2 * margin), margin + rng.uniform() * (height - 1 - 2 * margin)];
  const [fmin, fmax] = [o.fluxMin ?? 200, o.fluxMax ?? 4e5];
  for (let k = 0; k < o.nStars; k++) {
    const [x, y] = pos();
    const flux = fmin * Math.exp(rng.uniform() * Math.log(fmax / fmin));
    const psf = o.field(x, y);
    const prof = psfProfile(psf);
    renderRadial(target, x, y, prof, ellipseForm(psf.e1, psf.e2), flux, Math.min(60, Math.max(8, prof.radiusForLevel(1e-3 / flux))));
    truth.push({ type: 'star', x, y, flux, rHalf: 0 });
  }
  const [r0, r1] = o.rHalf ?? [0.8, 4];
  for (let k = 0; k < o.nGalaxies; k++) {
    const [x, y] = pos();
    const flux = 4 * fmin * Math.exp(rng.uniform() * Math.log(fmax / 40 / fmin));
    const rHalf = r0 * Math.exp(rng.uniform() * Math.log(r1 / r0));
    const e = 0.5 * rng.uniform();
    const th = rng.uniform() * Math.PI;
    const n = rng.uniform() < 0.7 ? 1 : 2.5;
    const psf = o.field(x, y);
    addGalaxy(target, x, y, new SersicProfile(n, rHalf), e * Math.cos(2 * th), e * Math.sin(2 * th), psf, flux);
    truth.push({ type: 'galaxy', x, y, flux, rHalf });
  }
  const data = new Float32Array(width * height);
  const noise = Rng.stream(o.seed, 0, 0, 98);
  for (let i = 0; i < data.length; i++) {
    if (o.noise === false) {
      data[i] = img[i] + sky;
      continue;
    }
    const e = (img[i] + sky) * gain;
    data[i] = (noise.poisson(Math.max(0, e)) + readNoise * gain * noise.gaussian()) / gain;
  }
  return { width, height, data, sky, gain, readNoise, truth };
}

const GL6 = { x: [-0.9324695142, -0.6612093865, -0.2386191861, 0.2386191861, 0.6612093865, 0.9324695142], w: [0.1713244924, 0.3607615730, 0.4679139346, 0.4679139346, 0.3607615730, 0.1713244924] };

/**
 * Truth FWHM (pixels, circularised) of the effective PSF: the analytic profile integrated over a unit pixel
 * (6 x 6 Gauss-Legendre, pixel split in 2 x 2 cells), its half-maximum contour found by bisection along 180 rays,
 * area = 1/2 integral r^2 dtheta, FWHM = 2 sqrt(area / pi).
 */
export function effectiveFwhm(psf: MoffatPsf): number {
  const prof = psfProfile(psf);
  const e = ellipseForm(psf.e1, psf.e2);
  const val = (x: number, y: number) => {
    let s = 0;
    for (let cy = 0; cy < 2; cy++) for (let cx = 0; cx < 2; cx++) {
      for (let j = 0; j < 6; j++) {
        const yy = y - 0.5 + 0.5 * cy + 0.25 * (1 + GL6.x[j]);
        for (let i = 0; i < 6; i++) {
          const xx = x - 0.5 + 0.5 * cx + 0.25 * (1 + GL6.x[i]);
          s += GL6.w[i] * GL6.w[j] * prof.value(e.qxx * xx * xx + 2 * e.qxy * xx * yy + e.qyy * yy * yy);
        }
      }
    }
    return s * 0.0625;
  };
  const half = 0.5 * val(0, 0);
  const nr = 180;
  let area = 0;
  for (let k = 0; k < nr; k++) {
    const th = (2 * Math.PI * k) / nr;
    const c = Math.cos(th);
    const s = Math.sin(th);
    let lo = 0;
    let hi = 3 * psf.fwhm;
    for (let it = 0; it < 40; it++) {
      const mid = 0.5 * (lo + hi);
      if (val(mid * c, mid * s) >= half) lo = mid;
      else hi = mid;
    }
    area += 0.5 * lo * lo * ((2 * Math.PI) / nr);
  }
  return 2 * Math.sqrt(area / Math.PI);
}

/**
 * Run the per-CCD core (load, background, detect, measure: src/pipeline/ccd.ts) on a scene written to `file`
 * (float32 FITS), with SATUR_LEVEL 65000 and the scene's gain.
 */
export async function runCore(s: Scene, file: string, overrides: Record<string, unknown> = {}): Promise<CcdCore> {
  writeImage(file, s.data, { width: s.width });
  return coreOf(file, { GAIN: s.gain, SATUR_LEVEL: 65000, ...overrides });
}

/** Run the per-CCD core on HDU 0 of a FITS file with config overrides (SExtractor keywords). */
export async function coreOf(file: string, overrides: Record<string, unknown> = {}): Promise<CcdCore> {
  const config = { ...defaultConfig(), ...overrides };
  const ctx: SensorContext<unknown> = {
    visit: 'test',
    detector: 0,
    config,
    step: async (_name, fn) => fn(),
    gather: async () => {
      throw new Error('no gathers in the PSF tests');
    },
  };
  return ccdCore(ctx, { image: { file, hdu: 0 } }, config);
}
