/**
 * Simulate one CCD exposure with known truth: scene -> noiseless electrons (sky + pixel-integrated stars and
 * PSF-convolved galaxies) -> detector (noise, defects, gain, bias, saturation) -> ADU image, plus the noiseless
 * model, sky, variance, defect mask and truth table.
 *
 * Coordinates: every position in this API (object centres, psfAt / skyAt arguments, truth x / y) is a 1-based
 * pixel coordinate (FITS / SExtractor convention): pixel data[j * width + i] has its centre at (i + 1, j + 1).
 * The PSF and the sky are functions of that position, so a focal-plane simulator can drive them per CCD.
 */
import type { IntPlane, Plane } from '../image/types.js';
import { detect, type DefectOptions } from './detector.js';
import { renderGalaxy } from './galaxy.js';
import { renderRadial, type RenderTarget } from './integrate.js';
import { ellipseForm, psfProfile, SersicProfile, type PsfAt, type PsfModel } from './profiles.js';
import { PURPOSE, Rng } from './rng.js';
import { drawGalaxies, drawStars, type GalaxyPopulation, type ObjectSpec, type PowerLawCounts } from './scene.js';
import { flagSaturated, makeTruth, OBJ_TYPE, type TruthTable } from './truth.js';

/** Rendering accuracy / speed trade-offs. */
export interface RenderSettings {
  /** profiles are drawn out to where they fall below this fraction of the local noise RMS per pixel (default 1e-3);
   *  stars at least to 3 FWHM. The flux left out is reported per object (truth fluxInImage). */
  readonly wingFraction?: number;
  /** largest star radius, pixels (default 300) */
  readonly maxStarRadius?: number;
  /** largest radius of a galaxy's intrinsic profile, pixels (default 150) */
  readonly maxGalaxyRadius?: number;
}

export interface SimulateCcdOptions {
  readonly width?: number;
  readonly height?: number;
  /** random-stream keys: the same keys give a byte-identical image */
  readonly seed?: number;
  readonly visit?: number;
  readonly detector?: number;
  /** arcsec per pixel, used to convert galaxy sizes and the default seeing (default 0.2) */
  readonly pixelScale?: number;
  /** magnitude of a source of 1 ADU total (default 28) */
  readonly zeroPoint?: number;
  /** electrons per ADU (default 1.5) */
  readonly gain?: number;
  /** electrons RMS (default 5) */
  readonly readNoise?: number;
  /** ADU (default 0) */
  readonly bias?: number;
  /** round to integer ADU, clipping at 0 (default false) */
  readonly quantize?: boolean;
  /** ADC saturation, ADU (default: none, or bias + fullWell / gain when fullWell is set) */
  readonly saturation?: number;
  /** full well, electrons: charge above it bleeds along columns (default: none) */
  readonly fullWell?: number;
  /** false: the image is the noiseless expectation (default true) */
  readonly noise?: boolean;
  /** sky in electrons per pixel: a level or a function of the 1-based pixel position (default 1000) */
  readonly sky?: number | ((x: number, y: number) => number);
  /** the PSF, constant or a function of the 1-based pixel position (default Moffat beta 4.765, FWHM 0.7" ) */
  readonly psf?: PsfModel | PsfAt;
  /** random stars (default 60 between mag 16 and 25); false for none */
  readonly stars?: PowerLawCounts | false;
  /** random galaxies (default 150 between mag 19 and 26); false for none */
  readonly galaxies?: GalaxyPopulation | false;
  /** explicit objects, rendered before the random ones (ids 1..objects.length) */
  readonly objects?: readonly ObjectSpec[];
  /** random objects are placed this many pixels beyond the edges too (default 0) */
  readonly margin?: number;
  readonly defects?: DefectOptions;
  readonly render?: RenderSettings;
}

export interface SimulatedCcd {
  /** the exposure, ADU */
  readonly image: Plane;
  /** noiseless expectation: sky + objects + bias, ADU (no defects, no clipping) */
  readonly model: Plane;
  /** true background: sky + bias, ADU */
  readonly sky: Plane;
  /** true background at a 1-based position, ADU */
  readonly skyAt: (x: number, y: number) => number;
  /** true per-pixel variance of image - model, ADU^2 */
  readonly variance: Plane;
  /** injected defects and saturation (SIM_MASK bits) */
  readonly mask: IntPlane;
  readonly truth: TruthTable;
  /** the resolved scalar settings */
  readonly params: {
    readonly width: number;
    readonly height: number;
    readonly gain: number;
    readonly readNoise: number;
    readonly bias: number;
    readonly zeroPoint: number;
    readonly pixelScale: number;
    readonly saturation: number;
    readonly fullWell: number;
  };
}

/** The default PSF: Moffat with the atmospheric-turbulence beta 4.765 (Trujillo et al. 2001), 0.7" FWHM at 0.2"/px. */
export const DEFAULT_PSF: PsfModel = { kind: 'moffat', fwhm: 3.5, beta: 4.765 };

/**
 * Add one star (flux in electrons) at 0-based target coordinates, out to where the PSF falls below `level` per pixel
 * (at least 3 FWHM, at most maxRadius).
 */
export function addStar(target: RenderTarget, x0: number, y0: number, psf: PsfModel, flux: number, level: number, maxRadius: number) {
  const prof = psfProfile(psf);
  const e = ellipseForm(psf.e1, psf.e2);
  const r = Math.min(maxRadius, prof.radiusForLost(1e-8), Math.max(3 * psf.fwhm, 3, prof.radiusForLevel(level / flux)));
  return renderRadial(target, x0, y0, prof, e, flux, r);
}

const LOST_RADIUS = new Map<number, number>();
/** Radius (in units of rHalf) outside which a Sersic profile of index n holds 1e-3 of its flux; cached per n. */
function sersicExtent(n: number): number {
  let r = LOST_RADIUS.get(n);
  if (r === undefined) {
    r = new SersicProfile(n, 1).radiusForLost(1e-3);
    LOST_RADIUS.set(n, r);
  }
  return r;
}

/** Render objects into `electrons` (w x h, already holding the sky) and fill their truth rows. */
export function renderObjects(
  electrons: Plane,
  objects: readonly ObjectSpec[],
  psfAt: PsfAt,
  noiseAt: (x: number, y: number) => number,
  cfg: { gain: number; zeroPoint: number; render?: RenderSettings },
): TruthTable {
  const truth = makeTruth(objects.length);
  const wingFraction = cfg.render?.wingFraction ?? 1e-3;
  const maxStar = cfg.render?.maxStarRadius ?? 300;
  const maxGal = cfg.render?.maxGalaxyRadius ?? 150;
  for (let k = 0; k < objects.length; k++) {
    const o = objects[k];
    const fluxAdu = o.flux ?? (o.mag !== undefined ? 10 ** (-0.4 * (o.mag - cfg.zeroPoint)) : NaN);
    if (!(fluxAdu >= 0)) throw new RangeError(`object ${k + 1} needs a flux >= 0 or a magnitude`);
    const psf = psfAt(o.x, o.y);
    const fluxE = fluxAdu * cfg.gain;
    const level = Math.max(wingFraction * noiseAt(o.x, o.y), 1e-9 * fluxE, 1e-30);
    truth.x[k] = o.x;
    truth.y[k] = o.y;
    truth.flux[k] = fluxAdu;
    truth.mag[k] = cfg.zeroPoint - 2.5 * Math.log10(fluxAdu);
    truth.fwhm[k] = psf.fwhm;
    truth.psfE1[k] = psf.e1 ?? 0;
    truth.psfE2[k] = psf.e2 ?? 0;
    let stats = { sum: 0, peak: 0 };
    if (o.type === 'star') {
      truth.type[k] = OBJ_TYPE.STAR;
      truth.e1[k] = psf.e1 ?? 0;
      truth.e2[k] = psf.e2 ?? 0;
      truth.sersicN[k] = NaN;
      truth.rHalf[k] = NaN;
      if (fluxE > 0) stats = addStar(electrons, o.x - 1, o.y - 1, psf, fluxE, level, maxStar);
    } else if (o.type === 'galaxy') {
      if (!o.sersic) throw new RangeError(`galaxy ${k + 1} has no sersic shape`);
      const s = o.sersic;
      truth.type[k] = OBJ_TYPE.GALAXY;
      truth.e1[k] = s.e1 ?? 0;
      truth.e2[k] = s.e2 ?? 0;
      truth.sersicN[k] = s.n;
      truth.rHalf[k] = s.rHalf;
      const rMax = Math.min(maxGal, s.rHalf * sersicExtent(s.n));
      if (fluxE > 0) stats = renderGalaxy(electrons, o.x - 1, o.y - 1, s, psf, fluxE, rMax, { level });
    } else {
      throw new RangeError(`object ${k + 1} has unknown type ${(o as { type: string }).type}`);
    }
    truth.fluxInImage[k] = stats.sum / cfg.gain;
    truth.peak[k] = stats.peak / cfg.gain;
  }
  return truth;
}

/**
 * Simulate a CCD image with truth. Defaults give a quick 512 x 512 test image: 0.2"/px, 0.7" seeing
 * (FWHM 3.5 px, Moffat beta 4.765), sky 1000 e-, gain 1.5 e-/ADU, read noise 5 e-, zero point 28.
 */
export function simulateCcd(opts: SimulateCcdOptions = {}): SimulatedCcd {
  const width = opts.width ?? 512;
  const height = opts.height ?? 512;
  const seed = opts.seed ?? 1;
  const visit = opts.visit ?? 0;
  const detector = opts.detector ?? 0;
  const keys = { seed, visit, detector };
  const pixelScale = opts.pixelScale ?? 0.2;
  const zeroPoint = opts.zeroPoint ?? 28;
  const gain = opts.gain ?? 1.5;
  const readNoise = opts.readNoise ?? 5;
  const bias = opts.bias ?? 0;
  const fullWell = opts.fullWell ?? Infinity;
  const saturation = opts.saturation ?? (Number.isFinite(fullWell) ? bias + fullWell / gain : Infinity);
  if (!(gain > 0) || !(readNoise >= 0)) throw new RangeError(`gain must be > 0 and readNoise >= 0`);
  const skyOpt = opts.sky ?? 1000;
  const skyE = typeof skyOpt === 'number' ? () => skyOpt : skyOpt;
  const psfOpt = opts.psf ?? DEFAULT_PSF;
  const psfAt: PsfAt = typeof psfOpt === 'function' ? psfOpt : () => psfOpt;

  // the scene: explicit objects, then random stars and galaxies from the SCENE stream
  const rng = Rng.stream(seed, visit, detector, PURPOSE.SCENE);
  const area = { width, height, margin: opts.margin ?? 0 };
  const objects: ObjectSpec[] = [...(opts.objects ?? [])];
  const stars = opts.stars ?? { count: 60, magMin: 16, magMax: 25 };
  if (stars) objects.push(...drawStars(rng, stars, area));
  const gals = opts.galaxies ?? { count: 150, magMin: 19, magMax: 26 };
  if (gals) objects.push(...drawGalaxies(rng, gals, area, pixelScale));

  // expected electrons: sky, then objects
  const electrons: Plane = { width, height, data: new Float32Array(width * height) };
  const skyPlane: Plane = { width, height, data: new Float32Array(width * height) };
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const s = skyE(i + 1, j + 1);
      electrons.data[j * width + i] = s;
      skyPlane.data[j * width + i] = s / gain + bias;
    }
  }
  const noiseAt = (x: number, y: number) => Math.sqrt(Math.max(0, skyE(x, y)) + readNoise * readNoise);
  const truth = renderObjects(electrons, objects, psfAt, noiseAt, { gain, zeroPoint, render: opts.render });

  const det = detect(electrons, {
    gain,
    readNoise,
    bias,
    saturation,
    fullWell,
    quantize: opts.quantize ?? false,
    noise: opts.noise ?? true,
    defects: opts.defects ?? {},
  }, keys);
  flagSaturated(truth, det.mask);
  const model = electrons.data; // reuse: electrons -> model ADU
  for (let i = 0; i < model.length; i++) model[i] = model[i] / gain + bias;
  return {
    image: det.image,
    model: electrons,
    sky: skyPlane,
    skyAt: (x, y) => skyE(x, y) / gain + bias,
    variance: det.variance,
    mask: det.mask,
    truth,
    params: { width, height, gain, readNoise, bias, zeroPoint, pixelScale, saturation, fullWell },
  };
}
