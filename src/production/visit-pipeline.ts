/**
 * The production pipeline: the shared per-CCD core (pipeline/ccd.ts) plus visit-level gathers, then the
 * per-CCD catalog in exactly lsst-quick's schema and format. Runs under the durable executor.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseParamList } from '../catalog/schema.js';
import { asciiText, writeCatalog, type CatalogFormat } from '../catalog/write.js';
import type { BackgroundModel } from '../background/index.js';
import type { Camera, Pointing } from '../camera/types.js';
import { backgroundStep, detectStep, filterStep, mapsStep, measureStep, vectorSizes, type Maps } from '../pipeline/ccd.js';
import { loadCcd, loadHeader, type CcdInput, type LoadedCcd } from '../pipeline/load.js';
import { backgroundMesh, type BackgroundMesh } from './compare-metrics.js';
import { visitBackground, visitCalibrate, visitPsf, VISIT_REDUCERS } from './visit-fits.js';
import { dumpConfig, type Config } from '../pipeline/config.js';
import type { PipelineDef, SensorContext } from '../pipeline/sensor.js';
import type { DetectionResult } from '../detect/types.js';
import { packLabels, unpackLabels } from '../image/runs.js';
import { VERSION } from '../version.js';

export interface VisitRaw {
  input: CcdInput;
  width: number;
  height: number;
}

export interface VisitJob {
  visit: string;
  /** by detector id (as a string key) */
  raws: Record<string, VisitRaw>;
  config: Config;
  /** R/out/<visit> */
  outDir: string;
  /** contents of the --params file, if any */
  params?: string;
  /** the focal plane from the raw headers (absent when no CCD has a celestial WCS: no joint fits then) */
  frame?: { camera: Camera; pointing: Pointing };
  /** Julian epoch of the exposure (MJD-OBS of the first raw header), for reference-catalogue proper motions */
  epoch?: number;
}

export interface CcdOutput {
  detector: number;
  catalog: string;
  sha256: string;
  objects: number;
  background: number;
  rms: number;
  /** PSF FWHM (pixels) of the CCD's model, NaN without one; stars used */
  psfFwhm: number;
  psfStars: number;
  /** reserve stars measured, and their size residual (robust rms of sigma_star / sigma_model - 1) */
  psfReserve: { n: number; size: number };
  /** with a reference catalog: zero point (mag), astrometric rms (arcsec), reference stars used */
  zeroPoint: number;
  astromRms: number;
  refStars: number;
  /** the background mesh grid subtracted (for the background-step comparison) */
  bgMesh: BackgroundMesh;
}

const CAT_EXT: Record<CatalogFormat, string> = { fits: '.cat.fits', ldac: '.ldac.fits', csv: '.cat.csv', ecsv: '.cat.ecsv', parquet: '.cat.parquet' };

export function ccdCatalogPath(job: VisitJob, det: number): string {
  return path.join(job.outDir, `ccd-${String(det).padStart(3, '0')}${CAT_EXT[job.config.CATALOG_TYPE as CatalogFormat]}`);
}

/** The CCD's pixels, loaded and background-subtracted on demand inside steps, dropped before every gather. */
class Pixels {
  private ccd?: LoadedCcd;
  private maps?: Maps;
  private filtered?: Float32Array;
  constructor(private readonly input: CcdInput, private readonly c: Config) {}
  /** the raw image (before any subtraction) */
  raw(): LoadedCcd {
    if (this.maps) throw new Error('internal: raw pixels asked for after background subtraction');
    return (this.ccd ??= loadCcd(this.input, this.c));
  }
  /** the image with this background model subtracted (in place), and its maps */
  subtracted(model: BackgroundModel): { ccd: LoadedCcd; maps: Maps } {
    if (!this.maps) this.maps = mapsStep(this.raw(), model);
    return { ccd: this.ccd!, maps: this.maps };
  }
  keepFiltered(f: Float32Array): void {
    this.filtered = f;
  }
  filteredImage(model: BackgroundModel): Float32Array {
    const { ccd, maps } = this.subtracted(model);
    return (this.filtered ??= filterStep(maps, ccd, this.c));
  }
  release(): void {
    this.ccd = undefined;
    this.maps = undefined;
    this.filtered = undefined;
  }
}

async function visitSensor(ctx: SensorContext<VisitJob>): Promise<CcdOutput> {
  const job = ctx.config;
  const raw = job.raws[String(ctx.detector)];
  if (!raw) throw new Error(`detector ${ctx.detector} is not part of visit ${job.visit}`);
  const c = job.config;
  const geom = job.frame?.camera.detectors.find((d) => d.id === ctx.detector);
  const px = new Pixels(raw.input, c);
  const header = loadHeader(raw.input);
  // A suspended CCD holds its detections and catalog, never images: pixels are released before each gather
  // and re-read by the next step that needs them (a replayed step does not).
  const gather = <S, R>(name: string, summary: S): Promise<R> => {
    px.release();
    return ctx.gather<S, R>(name, summary);
  };

  // background: the CCD's mesh statistics, then the focal-plane model of the whole visit
  const local = await ctx.step('background', () => backgroundStep(px.raw(), c));
  const bg = await visitBackground(ctx, gather, local, geom);
  let det: DetectionResult | undefined = await ctx.step('detect', () => {
    const { ccd, maps } = px.subtracted(bg.model);
    return detectStep(maps, ccd, c, bg.globalRms, (f) => px.keepFiltered(f));
  });
  const measured = await ctx.step('measure', () => {
    const { ccd, maps } = px.subtracted(bg.model);
    return measureStep(det!, px.filteredImage(bg.model), maps, ccd, c, bg);
  });
  // past measurement only the segmentation is needed (PSF stamps mask neighbours), run-length packed: a CCD
  // suspended at a gather keeps its catalog and well under a byte per pixel
  const objects = det.objects.length;
  const packed = packLabels(det.segmentation);
  det = undefined;
  // PSF: one model over the focal plane
  const psf = c.PSF_FIT ? await visitPsf(ctx, gather, { measured, segmentation: () => unpackLabels(packed), bg, geom, pixels: (m) => px.subtracted(m), width: raw.width, height: raw.height }) : undefined;
  const catalog = psf ? { ...measured, ...psf.columns } : measured;
  // astrometry and photometric calibration over the whole visit
  const calib = c.REFCAT_NAME ? await visitCalibrate(ctx, gather, { catalog, header, geom, width: raw.width, height: raw.height }) : undefined;
  const final = calib?.catalog ?? catalog;
  const file = ccdCatalogPath(job, ctx.detector);
  const written = await ctx.step('write', async () => {
    const select = job.params ? parseParamList(job.params) : undefined;
    await writeCatalog(file, c.CATALOG_TYPE as CatalogFormat, [{ extNumber: 1, catalog: final, sizes: vectorSizes(c), imageHeader: header, tableCards: calib?.cards }], {
      select,
      provenance: {
        SOFTWARE: 'lsst-prod',
        SOFTVERS: VERSION,
        VISIT: job.visit,
        DETECTOR: String(ctx.detector),
        // location-independent provenance: a frozen CCD re-run elsewhere writes the same bytes
        INPUT: asciiText(path.basename(raw.input.image.file)),
        INHDU: String(raw.input.image.hdu),
        CONFIG: asciiText(JSON.stringify({ ...JSON.parse(dumpConfig(c)), ...(c.REFCAT_NAME ? { REFCAT_NAME: path.basename(c.REFCAT_NAME as string) } : {}) })),
      },
    });
    return { sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
  });
  return {
    detector: ctx.detector,
    catalog: path.basename(file),
    sha256: written.sha256,
    objects,
    background: bg.globalBackground,
    rms: bg.globalRms,
    psfFwhm: psf && !psf.problem ? psf.fwhm : NaN,
    psfStars: psf?.nStars ?? 0,
    psfReserve: psf?.reserve ?? { n: 0, size: NaN },
    zeroPoint: calib?.zeroPoint ?? NaN,
    astromRms: calib?.astrometryOk ? calib.rmsArcsec : NaN,
    refStars: calib?.nStars ?? 0,
    bgMesh: backgroundMesh(bg.model, bg.globalRms),
  };
}

/**
 * Bytes of working memory per CCD pixel while a CCD runs its steps: the image, background, RMS and
 * subtracted maps, filtered image, segmentation and blanking maps (float32/int32), plus margins.
 */
export const BYTES_PER_PIXEL = 48;
/**
 * Suspended at a gather a CCD holds its catalog (~120 columns: about 0.1 byte per CCD pixel at LSSTCam depth, 0.6
 * in dense fields) and its run-length packed segmentation (well under 0.1 byte per pixel); images are released
 * before every gather.
 */
export const SUSPENDED_BYTES_PER_PIXEL = 0.5;

export const visitPipeline: PipelineDef<VisitJob, CcdOutput> = {
  name: 'visit',
  sensor: visitSensor,
  reducers: VISIT_REDUCERS,
  estimateBytes: (det, job) => {
    const r = job.raws[String(det)];
    return r ? r.width * r.height * BYTES_PER_PIXEL : 0;
  },
  suspendedBytes: (det, job) => {
    const r = job.raws[String(det)];
    return r ? r.width * r.height * SUSPENDED_BYTES_PER_PIXEL : 0;
  },
};
