/**
 * Inputs of the focal-plane PSF tests: a simulated visit (cached under test/.cache/fp-psf/ keyed by its parameters)
 * and, per CCD, the shared per-CCD core (load -> background -> detect -> measure) run in-process, giving what the PSF
 * stage reads (background-subtracted image, rms, gain, mask, segmentation, catalog).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { cameraFromHdus } from '../../src/camera/from-wcs.js';
import type { Camera, DetectorGeom } from '../../src/camera/types.js';
import { backgroundStep, detectStep, filterStep, mapsStep, measureStep } from '../../src/pipeline/ccd.js';
import { defaultConfig } from '../../src/pipeline/config.js';
import { loadCcd } from '../../src/pipeline/load.js';
import type { FocalCcd } from '../../src/psf/focal.js';
import { loadVisitTruth, simulateVisit } from '../../src/sim/visit.js';
import type { VisitModel } from '../../src/sim/visit-model.js';

export interface FocalVisit {
  root: string;
  model: VisitModel;
  /** raw files in detector order, with the detector ids */
  raws: { file: string; id: number }[];
}

/** Simulate (or reuse) a visit under test/.cache/fp-psf/<camera>-<visit>-<scale>-<seed>[-d<densityFactor>]. */
export async function cachedVisit(cacheRoot: string, camera: string, visit: number, scale: number, seed: number, densityFactor?: number): Promise<FocalVisit> {
  const key = `${camera}-${visit}-${scale}-${seed}${densityFactor ? '-d' + densityFactor : ''}`;
  const root = path.join(cacheRoot, key);
  const truthFile = path.join(root, 'truth', String(visit), 'visit.json');
  if (!existsSync(truthFile)) {
    mkdirSync(root, { recursive: true });
    await simulateVisit({ camera, visit, outDir: root, scale, seed, densityFactor, jobs: 2 });
  }
  const model = loadVisitTruth(truthFile);
  const dir = path.join(root, 'raw', String(visit));
  const files = readdirSync(dir).filter((f) => f.endsWith('.fits')).sort();
  const ids = new Set(model.camera.detectors.map((d) => d.id));
  const raws = files.map((f) => ({ file: path.join(dir, f), id: Number(/_(\d+)\.fits$/.exec(f)![1]) }));
  for (const r of raws) if (!ids.has(r.id)) throw new Error(`unknown detector in ${r.file}`);
  return { root, model, raws };
}

/** The production camera (from the raw headers' WCS) of a visit's raw files. */
export function productionCamera(v: FocalVisit): Camera {
  return cameraFromHdus(v.raws.map((r) => ({ file: r.file, hdu: 0, id: r.id }))).camera;
}

/** Run the per-CCD core of quick mode up to measurement and return the PSF stage's inputs. */
export function ccdInputs(file: string, detector: DetectorGeom): FocalCcd {
  const c = defaultConfig();
  const ccd = loadCcd({ image: { file, hdu: 0 } }, c);
  const bg = backgroundStep(ccd, c);
  const maps = mapsStep(ccd, bg.model);
  let filtered: Float32Array | undefined;
  const det = detectStep(maps, ccd, c, bg.globalRms, (f) => (filtered = f));
  const cat = measureStep(det, filtered ?? filterStep(maps, ccd, c), maps, ccd, c, bg);
  return { detector, input: { image: maps.image, rms: maps.weightedRms ?? maps.rms, gain: ccd.gain, mask: ccd.mask, segmentation: det.segmentation, catalog: cat } };
}
