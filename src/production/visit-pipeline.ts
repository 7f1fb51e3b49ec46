/**
 * The production pipeline: the shared per-CCD core (pipeline/ccd.ts) plus visit-level gathers, then the
 * per-CCD catalog in exactly lsst-quick's schema and format. Runs under the durable executor.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseParamList } from '../catalog/schema.js';
import { asciiText, writeCatalog, type CatalogFormat } from '../catalog/write.js';
import { ccdCore, vectorSizes } from '../pipeline/ccd.js';
import { dumpConfig, type Config } from '../pipeline/config.js';
import type { CcdInput } from '../pipeline/load.js';
import { isFailed, type PipelineDef, type Reducer, type SensorContext } from '../pipeline/sensor.js';
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
}

export interface BackgroundSummary {
  level: number;
  rms: number;
  npix: number;
}

export interface VisitBackground {
  /** pixel-weighted mean of the CCD levels, and the median CCD rms */
  level: number;
  rms: number;
  ccds: number;
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
  /** with a reference catalog: zero point (mag), astrometric rms (arcsec), reference stars used */
  zeroPoint: number;
  astromRms: number;
  refStars: number;
}

const CAT_EXT: Record<CatalogFormat, string> = { fits: '.cat.fits', ldac: '.ldac.fits', csv: '.cat.csv', ecsv: '.cat.ecsv', parquet: '.cat.parquet' };

export function ccdCatalogPath(job: VisitJob, det: number): string {
  return path.join(job.outDir, `ccd-${String(det).padStart(3, '0')}${CAT_EXT[job.config.CATALOG_TYPE as CatalogFormat]}`);
}

const backgroundReducer: Reducer<BackgroundSummary, VisitBackground> = (summaries) => {
  let sum = 0;
  let npix = 0;
  const rms: number[] = [];
  for (const { summary } of summaries) {
    if (isFailed(summary)) continue;
    sum += summary.level * summary.npix;
    npix += summary.npix;
    rms.push(summary.rms);
  }
  rms.sort((a, b) => a - b);
  const m = rms.length;
  return { level: npix ? sum / npix : NaN, rms: m ? (m % 2 ? rms[(m - 1) / 2] : 0.5 * (rms[m / 2 - 1] + rms[m / 2])) : NaN, ccds: m };
};

async function visitSensor(ctx: SensorContext<VisitJob>): Promise<CcdOutput> {
  const job = ctx.config;
  const raw = job.raws[String(ctx.detector)];
  if (!raw) throw new Error(`detector ${ctx.detector} is not part of visit ${job.visit}`);
  const c = job.config;
  // Keep only what is needed after the gather, so a coroutine suspended there holds a catalog, not images.
  const core = await ccdCore(ctx, raw.input, c).then((k) => ({
    catalog: k.catalog,
    header: k.ccd.header,
    background: k.bg.globalBackground,
    rms: k.bg.globalRms,
    npix: k.ccd.image.width * k.ccd.image.height,
    objects: k.det.objects.length,
    psfFwhm: k.psf && !k.psf.problem ? k.psf.fwhm : NaN,
    psfStars: k.psf?.nStars ?? 0,
    zeroPoint: k.calib?.zeroPoint ?? NaN,
    astromRms: k.calib?.astrometryOk ? k.calib.rmsArcsec : NaN,
    refStars: k.calib?.nStars ?? 0,
    cards: k.calib?.cards,
  }));
  // Visit-level background statistics (a mergeable summary: sums and counts). The focal-plane
  // background model of the joint-fit issue replaces this reducer without changing the executor.
  await ctx.gather<BackgroundSummary, VisitBackground>('background', { level: core.background, rms: core.rms, npix: core.npix });
  const file = ccdCatalogPath(job, ctx.detector);
  const written = await ctx.step('write', async () => {
    const select = job.params ? parseParamList(job.params) : undefined;
    await writeCatalog(file, c.CATALOG_TYPE as CatalogFormat, [{ extNumber: 1, catalog: core.catalog, sizes: vectorSizes(c), imageHeader: core.header, tableCards: core.cards }], {
      select,
      provenance: {
        SOFTWARE: 'lsst-prod',
        SOFTVERS: VERSION,
        VISIT: job.visit,
        DETECTOR: String(ctx.detector),
        // location-independent provenance: a frozen CCD re-run elsewhere writes the same bytes
        INPUT: asciiText(path.basename(raw.input.image.file)),
        INHDU: String(raw.input.image.hdu),
        CONFIG: asciiText(JSON.stringify(JSON.parse(dumpConfig(c)))),
      },
    });
    return { sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
  });
  return {
    detector: ctx.detector,
    catalog: path.basename(file),
    sha256: written.sha256,
    objects: core.objects,
    background: core.background,
    rms: core.rms,
    psfFwhm: core.psfFwhm,
    psfStars: core.psfStars,
    zeroPoint: core.zeroPoint,
    astromRms: core.astromRms,
    refStars: core.refStars,
  };
}

/**
 * Bytes of working memory per CCD pixel while a CCD runs its steps: the image, background, RMS and
 * subtracted maps, filtered image, segmentation and blanking maps (float32/int32), plus margins.
 */
export const BYTES_PER_PIXEL = 48;
/**
 * Suspended at a gather a CCD holds its catalog (~120 columns): about 0.1 byte per CCD pixel at LSSTCam depth
 * (1 object / 7000 px), 0.6 in dense fields (1 / 1000 px). bench/prod: 189 suspended 4k CCDs add ~0.7 GB.
 */
export const SUSPENDED_BYTES_PER_PIXEL = 0.25;

export const visitPipeline: PipelineDef<VisitJob, CcdOutput> = {
  name: 'visit',
  sensor: visitSensor,
  reducers: { background: backgroundReducer },
  estimateBytes: (det, job) => {
    const r = job.raws[String(det)];
    return r ? r.width * r.height * BYTES_PER_PIXEL : 0;
  },
  suspendedBytes: (det, job) => {
    const r = job.raws[String(det)];
    return r ? r.width * r.height * SUSPENDED_BYTES_PER_PIXEL : 0;
  },
};
