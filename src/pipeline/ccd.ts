/**
 * The per-CCD algorithm core, written once as a durable sensor coroutine (see sensor.ts):
 * load -> background -> detect -> measure. Quick mode runs it with gathers resolved over one CCD;
 * production runs it under the executor. Visit-level gathers plug in between the steps.
 */
import { estimateBackground, interpolate, subtractBackground, weightedNoise, type BackgroundModel } from '../background/index.js';
import { detectSources, filterImage } from '../detect/detect.js';
import type { DetectionResult } from '../detect/types.js';
import { measureObjects } from '../measure/index.js';
import { celestialWcs } from '../astrometry/wcs.js';
import type { Catalog, VectorSizes } from '../catalog/schema.js';
import { makePlane, type Plane } from '../image/types.js';
import type { Config } from './config.js';
import type { PipelineDef, SensorContext } from './sensor.js';
import { loadCcd, type CcdInput, type LoadedCcd } from './load.js';
import { calibrateStep, type Calibration } from './calibrate.js';
import { fitPsfCcd, starsOf, type CcdPsfInput } from '../psf/fit.js';
import { reserveResiduals, type ReserveResiduals } from '../psf/validate.js';
import type { PsfModel } from '../psf/model.js';

export interface CcdJob {
  input: CcdInput;
  config: Config;
}

export interface CcdResult {
  catalog: Catalog;
  sizes: VectorSizes;
  width: number;
  height: number;
  /** SExtractor's "Background: X RMS: Y" */
  background: number;
  rms: number;
  gain: number;
  saturLevel: number;
  nObjects: number;
  calib?: Omit<Calibration, 'catalog'>;
  psf?: Omit<PsfStepResult, 'columns'>;
}

const cfgNum = (c: Config, k: string) => c[k] as number;
const cfgList = (c: Config, k: string) => c[k] as number[];
const pair = (v: number[]): number | [number, number] => (v.length === 1 ? v[0] : [v[0], v[1]]);

export function backgroundOptions(c: Config) {
  return {
    backSize: pair(cfgList(c, 'BACK_SIZE')),
    filterSize: pair(cfgList(c, 'BACK_FILTERSIZE')),
    filterThresh: cfgNum(c, 'BACK_FILTTHRESH'),
    type: c.BACK_TYPE as 'auto' | 'manual',
    value: cfgNum(c, 'BACK_VALUE'),
  };
}

/** Background model of a CCD: the small mesh grid that is persisted (the full maps are re-interpolated). */
export function backgroundStep(ccd: LoadedCcd, c: Config): { model: BackgroundModel; globalBackground: number; globalRms: number } {
  const bg = estimateBackground(ccd.image, backgroundOptions(c), {
    weight: ccd.weight,
    weightType: ccd.weightType,
    mask: ccd.mask ? { width: ccd.image.width, height: ccd.image.height, data: ccd.mask } : undefined,
  });
  return { model: bg.model, globalBackground: bg.globalBackground, globalRms: bg.globalRms };
}

export interface Maps {
  /** full-resolution background and noise maps: interpolated on first use (check images, PSF), then kept */
  readonly background: Plane;
  readonly rms: Plane;
  /** background-subtracted image */
  image: Plane;
  /** per-pixel noise from the weight map (rescaled), when there is one */
  weightedRms?: Plane;
}

/**
 * Full-resolution maps from the persisted model: cheap to recompute, so never persisted.
 * The background is subtracted IN PLACE (one image plane less): afterwards ccd.image.data is maps.image.data.
 */
export function mapsStep(ccd: LoadedCcd, model: BackgroundModel): Maps {
  const sub = subtractBackground(ccd.image, model, ccd.image.data);
  const weightedRms = ccd.weight ? weightedNoise(ccd.weight, ccd.weightType ?? 'weight', model.weightScale) : undefined;
  let background: Plane | undefined;
  let rms: Plane | undefined;
  return {
    get background() {
      return (background ??= interpolate(model, 'background'));
    },
    get rms() {
      return (rms ??= interpolate(model, 'rms'));
    },
    image: makePlane(ccd.image.width, ccd.image.height, sub),
    weightedRms,
  };
}

function detectOptions(ccd: LoadedCcd, c: Config) {
  return {
    filter: c.FILTER_NAME as string,
    thresh: cfgNum(c, 'DETECT_THRESH'),
    threshType: c.THRESH_TYPE as 'relative' | 'absolute',
    minArea: cfgNum(c, 'DETECT_MINAREA'),
    deblendNthresh: cfgNum(c, 'DEBLEND_NTHRESH'),
    deblendMincont: cfgNum(c, 'DEBLEND_MINCONT'),
    clean: c.CLEAN as boolean,
    cleanParam: cfgNum(c, 'CLEAN_PARAM'),
    // with a weight map, threshold as SExtractor does (filtered variance map, no area correction)
    weightThreshold: 'sextractor' as const,
    mask: ccd.mask ? { width: ccd.image.width, height: ccd.image.height, data: ccd.mask } : undefined,
  };
}

/**
 * Detection; the filtered image is dropped from the result (recomputed by filterStep: cheaper than storing it)
 * and handed to `keepFiltered` for a filter step in the same process.
 */
export function detectStep(maps: Maps, ccd: LoadedCcd, c: Config, globalRms: number, keepFiltered?: (f: Float32Array) => void): DetectionResult {
  const { filtered, ...det } = detectSources(maps.image, maps.weightedRms ?? globalRms, detectOptions(ccd, c));
  if (filtered) keepFiltered?.(filtered);
  return det;
}

/** The filtered detection image, exactly as detection computed it. */
export function filterStep(maps: Maps, ccd: LoadedCcd, c: Config): Float32Array {
  return filterImage(maps.image, detectOptions(ccd, c));
}

/**
 * ALPHA_J2000/DELTA_J2000 from the header's celestial WCS at the isophotal barycentre (X_IMAGE, Y_IMAGE),
 * when the WCS is ICRS or FK5 (J2000); an invalid WCS is a FitsError naming the file and the problem.
 */
export function addSkyCoordinates(cat: Catalog, ccd: LoadedCcd): void {
  const wcs = celestialWcs(ccd.header);
  if (!wcs || !/^(ICRS|FK5)$/.test(wcs.radesys)) return;
  const n = cat.NUMBER.length;
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  wcs.pixToSkyArrays(cat.X_IMAGE, cat.Y_IMAGE, ra, dec, n);
  cat.ALPHA_J2000 = ra;
  cat.DELTA_J2000 = dec;
}

export function measureStep(det: DetectionResult, filtered: Float32Array, maps: Maps, ccd: LoadedCcd, c: Config, bg: { model: BackgroundModel; globalRms: number }): Catalog {
  const globalRms = bg.globalRms;
  let variance: Plane | undefined;
  if (maps.weightedRms) {
    const r = maps.weightedRms.data;
    const v = new Float32Array(r.length);
    for (let i = 0; i < r.length; i++) v[i] = r[i] * r[i];
    variance = makePlane(r.length === 0 ? 0 : maps.weightedRms.width, maps.weightedRms.height, v);
  }
  const auto = cfgList(c, 'PHOT_AUTOPARAMS');
  const cat = measureObjects(
    det,
    {
      image: maps.image,
      // BACKGROUND and the saturation test use SExtractor's bilinear interpolation of the mesh grid
      backgroundMesh: { nx: bg.model.nx, ny: bg.model.ny, bw: bg.model.bw, bh: bg.model.bh, level: bg.model.level },
      filtered: makePlane(maps.image.width, maps.image.height, filtered),
      variance,
      mask: ccd.mask,
    },
    {
      gain: ccd.gain,
      saturLevel: ccd.saturLevel,
      magZeropoint: cfgNum(c, 'MAG_ZEROPOINT'),
      apertures: cfgList(c, 'PHOT_APERTURES'),
      autoParams: [auto[0], auto[1]],
      fluxFrac: cfgList(c, 'PHOT_FLUXFRAC'),
      maskType: (c.MASK_TYPE as string).toUpperCase() as 'NONE' | 'BLANK' | 'CORRECT',
      backgroundRms: globalRms,
      threshSigma: c.THRESH_TYPE === 'relative' ? cfgNum(c, 'ANALYSIS_THRESH') : undefined,
    },
  );
  addSkyCoordinates(cat, ccd);
  return cat;
}

export interface CcdCore {
  ccd: LoadedCcd;
  bg: ReturnType<typeof backgroundStep>;
  maps: Maps;
  det: DetectionResult;
  filtered: Float32Array;
  catalog: Catalog;
  /** with a reference catalog: the fitted WCS and zero point (cards for the catalog header) */
  calib?: Calibration;
  psf?: PsfStepResult;
}

export interface PsfStepResult {
  columns: Record<string, Float32Array | Float64Array | Int32Array>;
  /** the model (PSFEx-compatible), absent when none could be made */
  model?: PsfModel;
  problem?: string;
  fwhm: number;
  nStars: number;
}

/** The PSF fit's view of a CCD: its background-subtracted image, noise (the weight map's when there is one), catalog. */
export function psfInput(cat: Catalog, segmentation: Int32Array, maps: Maps, ccd: LoadedCcd): CcdPsfInput {
  return { image: maps.image, rms: maps.weightedRms ?? maps.rms, gain: ccd.gain, mask: ccd.mask, segmentation, catalog: cat };
}

/** PSF model of the CCD (its stars, polynomial in CCD pixels) and PSF photometry of every source. */
export function psfStep(cat: Catalog, det: Pick<DetectionResult, 'segmentation'>, maps: Maps, ccd: LoadedCcd, c: Config, detector: number): PsfStepResult {
  const r = fitPsfCcd(
    psfInput(cat, det.segmentation, maps, ccd),
    { magZeropoint: cfgNum(c, 'MAG_ZEROPOINT'), select: { seed: detector } },
  );
  return { columns: { ...r.columns }, model: r.model, problem: r.problem, fwhm: r.selection.fwhm, nStars: r.selection.stars.length };
}

/**
 * Reserve-star validation of a PSF model on this CCD (rows with PSF_STAR == 2): stars measured and the robust rms
 * of their size residual (sqrt(median^2 + scatter^2) of sigma_star / sigma_model - 1, see psf/validate.ts).
 */
export function psfReserveStats(model: PsfModel | undefined, cat: Catalog, det: Pick<DetectionResult, 'segmentation'>, maps: Maps, ccd: LoadedCcd): { n: number; size: number } {
  const star = cat.PSF_STAR;
  if (!model || !star) return { n: 0, size: NaN };
  const rows: number[] = [];
  for (let i = 0; i < star.length; i++) if (star[i] === 2) rows.push(i);
  if (!rows.length) return { n: 0, size: NaN };
  return reserveSummary(reserveResiduals(model, starsOf(psfInput(cat, det.segmentation, maps, ccd), rows)));
}

/** Stars measured and the robust rms of the size residual (sqrt(median^2 + scatter^2)) of reserve-star residuals. */
export function reserveSummary(r: ReserveResiduals | undefined): { n: number; size: number } {
  if (!r) return { n: 0, size: NaN };
  const s = r.stats.size;
  return { n: r.n, size: Math.hypot(s.median, s.scatter) };
}

/** The per-CCD steps shared by quick mode and production. Large intermediates cheap to recompute are not persisted. */
export async function ccdCore(ctx: SensorContext<unknown>, input: CcdInput, c: Config): Promise<CcdCore> {
  const ccd = await ctx.step('load', () => loadCcd(input, c), { persist: false });
  const bg = await ctx.step('background', () => backgroundStep(ccd, c));
  const maps = await ctx.step('maps', () => mapsStep(ccd, bg.model), { persist: false });
  // the filtered image of a detection run here (not replayed from the store) is reused, not recomputed
  let detFiltered: Float32Array | undefined;
  const det = await ctx.step('detect', () => detectStep(maps, ccd, c, bg.globalRms, (f) => (detFiltered = f)));
  const filtered = await ctx.step('filter', () => detFiltered ?? filterStep(maps, ccd, c), { persist: false });
  const measured = await ctx.step('measure', () => measureStep(det, filtered, maps, ccd, c, bg));
  const psf = c.PSF_FIT ? await ctx.step('psf', () => psfStep(measured, det, maps, ccd, c, ctx.detector)) : undefined;
  const catalog = psf ? { ...measured, ...psf.columns } : measured;
  const calib = c.REFCAT_NAME ? await ctx.step('calibrate', () => calibrateStep(catalog, ccd, c)) : undefined;
  return { ccd, bg, maps, det, filtered, catalog: calib?.catalog ?? catalog, calib, psf };
}

export function vectorSizes(c: Config): VectorSizes {
  return { nApertures: cfgList(c, 'PHOT_APERTURES').length, nFluxFrac: cfgList(c, 'PHOT_FLUXFRAC').length };
}

function withoutCatalog({ catalog: _catalog, ...rest }: Calibration): Omit<Calibration, 'catalog'> {
  return rest;
}

/** The quick-mode CCD coroutine: the shared core, no visit-level gathers. */
export async function ccdSensor(ctx: SensorContext<CcdJob>): Promise<CcdResult> {
  const c = ctx.config.config;
  const { ccd, bg, det, catalog, calib, psf } = await ccdCore(ctx, ctx.config.input, c);
  return {
    catalog,
    sizes: vectorSizes(c),
    width: ccd.image.width,
    height: ccd.image.height,
    background: bg.globalBackground,
    rms: bg.globalRms,
    gain: ccd.gain,
    saturLevel: ccd.saturLevel,
    nObjects: det.objects.length,
    calib: calib && withoutCatalog(calib),
    psf: psf && { model: psf.model, problem: psf.problem, fwhm: psf.fwhm, nStars: psf.nStars },
  };
}

export const ccdPipeline: PipelineDef<CcdJob, CcdResult> = {
  name: 'ccd',
  sensor: ccdSensor,
  reducers: {},
  estimateBytes: () => 0,
};
