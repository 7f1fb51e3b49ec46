/**
 * Quick mode: every image HDU of a FITS file is one CCD, run through the shared CCD coroutine with
 * gathers resolved locally; one catalog for the file, optional check images and a PNG preview.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { runPool } from '../util/pool.js';
import { writePsfex } from '../psf/io.js';
import path from 'node:path';
import { FitsFile, type Hdu } from '../fits/index.js';
import { readImage } from '../fits/index.js';
import { parseParamList, type ParamSelection } from '../catalog/schema.js';
import { asciiText, writeCatalog, type CatalogFormat, type HduCatalog } from '../catalog/write.js';
import { ccdPipeline, type CcdJob, type CcdResult } from '../pipeline/ccd.js';
import { dumpConfig, type Config } from '../pipeline/config.js';
import { runSingle } from '../pipeline/single.js';
import type { HduRef } from '../pipeline/load.js';
import { UserError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { CheckImageCollector } from './check-images.js';

export interface QuickOptions {
  input: string;
  config: Config;
  png?: string;
  /** worker threads over HDUs (1: in this thread; check images always run in this thread) */
  jobs?: number;
  onHduDone?: (done: number, total: number) => void;
}

export interface QuickSummary {
  input: string;
  catalog: string;
  format: CatalogFormat;
  hdus: { ext: number; hdu: number; width: number; height: number; objects: number; background: number; rms: number; astrometry?: boolean; astromRms?: number; refStars?: number; zeroPoint?: number; zeroPointErr?: number; apcorr?: number }[];
  checkImages: string[];
  png?: string;
  /** one line each, '<file>: HDU <n>: <problem>' (HDUs that gave an empty catalog) */
  warnings: string[];
  seconds: number;
}

const EXT: Record<CatalogFormat, string> = { fits: '.cat.fits', ldac: '.ldac.fits', csv: '.cat.csv', ecsv: '.cat.ecsv', parquet: '.cat.parquet' };

/** Image HDUs with 2-D data (plain or tile-compressed), in file order. */
export function imageHdus(file: FitsFile): Hdu[] {
  return file.hdus.filter((h) => (h.type === 'image' && h.axes.length >= 2 && h.dataByteLength > 0) || h.type === 'compressed-image');
}

function stripFitsExt(p: string): string {
  return p.replace(/\.(fits|fit|fts)(\.gz|\.fz)?$/i, '').replace(/\.fz$/i, '');
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function pairedHdus(what: string, file: string, n: number): Hdu[] {
  const f = FitsFile.open(file);
  try {
    const hdus = imageHdus(f);
    if (hdus.length !== n) throw new UserError(`${file}: the ${what} has ${hdus.length} image HDUs, the input has ${n}`);
    return hdus;
  } finally {
    f.close();
  }
}

/** A path that must be an existing regular file (a directory would fail later with no file name). */
function requireFile(p: string): void {
  let st;
  try {
    st = statSync(p);
  } catch {
    return; // let the opener report ENOENT/EACCES with the file name
  }
  if (st.isDirectory()) throw new UserError(`${p}: is a directory, not a FITS file`);
}

function requireDir(what: string, p: string): void {
  if (!existsSync(path.dirname(path.resolve(p)))) throw new UserError(`${p}: the ${what} directory does not exist`);
}

function readPixels(ref: HduRef): Float32Array {
  const f = FitsFile.open(ref.file);
  try {
    return readImage(f, ref.hdu, { as: 'float32' }).data as Float32Array;
  } finally {
    f.close();
  }
}

/** Why an HDU gave no objects: one line for the warning (reads the pixels again: only for empty HDUs). */
function whyEmpty(image: HduRef, weight: HduRef | undefined, r: CcdResult, minArea: number): string {
  const d = readPixels(image);
  let finite = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) continue; // NaN or infinite
    finite++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (finite === 0) return 'no finite pixels (all NaN or infinite)';
  if (weight) {
    const w = readPixels(weight);
    let usable = 0;
    for (let i = 0; i < w.length; i++) if (w[i] > 0 && w[i] < Infinity) usable++;
    if (usable === 0) return `the weight map ${weight.file} (HDU ${weight.hdu}) has no usable pixel (all zero, negative or not finite)`;
  }
  if (d.length < minArea) return `only ${d.length} pixel(s), fewer than DETECT_MINAREA ${minArea}`;
  if (min >= r.saturLevel) return `every pixel is saturated (>= ${r.saturLevel})`;
  if (min === max) return `constant image (every finite pixel is ${min})`;
  return 'no sources above the detection threshold';
}

export async function runQuick(o: QuickOptions): Promise<QuickSummary> {
  const t0 = performance.now();
  const c = o.config;
  requireFile(o.input);
  const file = FitsFile.open(o.input);
  let hdus: Hdu[];
  try {
    hdus = imageHdus(file);
  } finally {
    file.close();
  }
  if (hdus.length === 0) throw new UserError(`${o.input}: no image HDU with data`);
  const warnings: string[] = [];
  const weightFile = (c.WEIGHT_IMAGE as string) || undefined;
  const maskFile = (c.MASK_IMAGE as string) || undefined;
  if (weightFile && c.WEIGHT_TYPE === 'none') c.WEIGHT_TYPE = 'map_weight';
  if (!weightFile && c.WEIGHT_TYPE !== 'none') throw new UserError(`WEIGHT_TYPE ${c.WEIGHT_TYPE} needs a weight map (--weight FILE)`);
  if (weightFile) requireFile(weightFile);
  if (maskFile) requireFile(maskFile);
  const weights = weightFile ? pairedHdus('weight map', weightFile, hdus.length) : undefined;
  const masks = maskFile ? pairedHdus('mask', maskFile, hdus.length) : undefined;
  let select: ParamSelection[] | undefined;
  if (c.PARAMETERS_NAME) {
    const pf = c.PARAMETERS_NAME as string;
    let text: string;
    try {
      text = readFileSync(pf, 'utf8');
    } catch {
      throw new UserError(`${pf}: cannot read the parameter file`);
    }
    try {
      select = parseParamList(text);
    } catch (e) {
      throw new UserError(`${pf}: ${(e as Error).message}`);
    }
  }
  // PSF fitting only when a PSF column is wanted or the model is to be written
  if (c.PSF_FIT && select && !select.some((p) => p.spec.source === 'psf') && !c.PSF_NAME) c.PSF_FIT = false;
  if (c.PSF_NAME && !c.PSF_FIT) throw new UserError('--psf-model needs PSF fitting (--psf)');
  const format = c.CATALOG_TYPE as CatalogFormat;
  const catalogPath = (c.CATALOG_NAME as string) || `${stripFitsExt(o.input)}${EXT[format]}`;
  requireDir('output', catalogPath);
  if (o.png) requireDir('PNG', o.png);
  const checks = new CheckImageCollector(c.CHECKIMAGE_TYPE as string[], (c.CHECKIMAGE_NAME as string) || path.join(path.dirname(catalogPath), path.basename(stripFitsExt(o.input))),
    c.PHOT_APERTURES as number[],
  );
  if (checks.types.length && c.CHECKIMAGE_NAME) requireDir('check-image', c.CHECKIMAGE_NAME as string);

  const ref = (f: string, hh: Hdu): HduRef => ({ file: f, hdu: hh.index });
  const jobs: CcdJob[] = hdus.map((h, k) => ({
    input: { image: ref(o.input, h), weight: weights && ref(weightFile!, weights[k]), mask: masks && ref(maskFile!, masks[k]) },
    config: c,
  }));
  let done = 0;
  let res: CcdResult[];
  if ((o.jobs ?? 1) > 1 && hdus.length > 1 && !checks.types.length) {
    try {
      res = await runPool<{ ext: number; job: CcdJob }, CcdResult>(
        new URL(`./hdu-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
        jobs.map((job, k) => ({ ext: k + 1, job })),
        o.jobs!,
        () => o.onHduDone?.(++done, hdus.length),
        ({ ext, job }) => runSingle(ccdPipeline, 'quick', ext, job),
      );
    } catch (e) {
      // errors cross the thread boundary as {name, message}: user-facing ones stay user-facing
      const err = e as Error;
      if (err.name === 'UserError' || err.name === 'FitsError') throw new UserError(err.message);
      throw e;
    }
  } else {
    res = [];
    for (const [k, job] of jobs.entries()) {
      res.push(await runSingle(ccdPipeline, 'quick', k + 1, job, { onStep: (name, v) => checks.onStep(k, name, v) }));
      o.onHduDone?.(++done, hdus.length);
    }
  }
  res.forEach((r, k) => {
    if (r.nObjects === 0) warnings.push(`${o.input}: HDU ${hdus[k].index}: ${whyEmpty(jobs[k].input.image, jobs[k].input.weight, r, c.DETECT_MINAREA as number)}; the catalog is empty`);
  });
  const results: HduCatalog[] = res.map((r, k) => ({ extNumber: k + 1, catalog: r.catalog, sizes: r.sizes, imageHeader: hdus[k].header, tableCards: r.calib?.cards }));
  results.forEach((r, k) => checks.finishHdu(k, r));
  const summary: QuickSummary['hdus'] = res.map((r, k) => ({ ext: k + 1, hdu: hdus[k].index, width: r.width, height: r.height, objects: r.nObjects, background: r.background, rms: r.rms, ...(r.calib ? { astrometry: r.calib.astrometryOk, astromRms: r.calib.rmsArcsec, refStars: r.calib.nStars, zeroPoint: r.calib.zeroPoint, zeroPointErr: r.calib.zeroPointErr, apcorr: r.calib.apcorr } : {}) }));
  for (const [k, r] of res.entries()) {
    if (!r.psf || r.nObjects === 0) continue;
    if (r.psf.problem) warnings.push(`${o.input}: HDU ${hdus[k].index}: no PSF model (${r.psf.problem}); PSF columns are NaN`);
    else if (c.PSF_NAME && r.psf.model) {
      const name = res.length > 1 ? (c.PSF_NAME as string).replace(/(\.[^./]*)?$/, `.hdu${hdus[k].index}$1`) : (c.PSF_NAME as string);
      writePsfex(name, r.psf.model);
    }
  }
  const provenance = {
    SOFTWARE: 'lsst-quick',
    SOFTVERS: VERSION,
    INPUT: asciiText(path.resolve(o.input)),
    INSHA256: await sha256File(o.input),
    CONFIG: asciiText(JSON.stringify(JSON.parse(dumpConfig(c)))),
  };
  await writeCatalog(catalogPath, format, results, { select, provenance });
  const written = checks.write();
  let png: string | undefined;
  if (o.png) {
    const { renderPreview } = await import('../render/preview.js');
    await renderPreview(o.input, hdus[0].index, results[0].catalog, o.png);
    png = o.png;
  }
  return { input: o.input, catalog: catalogPath, format, hdus: summary, checkImages: written, png, warnings, seconds: (performance.now() - t0) / 1000 };
}
