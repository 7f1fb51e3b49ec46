/**
 * The visit-level joint fits of production, as sensor fragments (per-CCD summaries, gathers, per-CCD results)
 * and the reducers that run centrally: focal-plane background, focal-plane PSF, full-visit astrometry and
 * the visit zero point.
 */
import type { BackgroundModel } from '../background/index.js';
import type { DetectorGeom } from '../camera/types.js';
import type { Catalog } from '../catalog/schema.js';
import type { DetectionResult } from '../detect/types.js';
import type { Header } from '../fits/header.js';
import { calibrateStep, type Calibration } from '../pipeline/calibrate.js';
import { psfReserveStats, psfStep, type backgroundStep, type Maps, type PsfStepResult } from '../pipeline/ccd.js';
import type { LoadedCcd } from '../pipeline/load.js';
import { isFailed, type Reducer, type SensorContext } from '../pipeline/sensor.js';
import type { VisitJob } from './visit-pipeline.js';

export type Gather = <S, R>(name: string, summary: S) => Promise<R>;
type Ctx = SensorContext<VisitJob>;
export type CcdBackground = ReturnType<typeof backgroundStep>;

export interface BackgroundSummary {
  level: number;
  rms: number;
  npix: number;
}

export interface VisitBackground {
  level: number;
  rms: number;
  ccds: number;
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

export async function visitBackground(_ctx: Ctx, gather: Gather, local: CcdBackground, _geom: DetectorGeom | undefined): Promise<CcdBackground> {
  await gather<BackgroundSummary, VisitBackground>('background', { level: local.globalBackground, rms: local.globalRms, npix: local.model.width * local.model.height });
  return local;
}

export interface VisitPsfInput {
  measured: Catalog;
  det: DetectionResult;
  bg: CcdBackground;
  geom: DetectorGeom | undefined;
  pixels: (model: BackgroundModel) => { ccd: LoadedCcd; maps: Maps };
}

export type VisitPsfResult = Omit<PsfStepResult, 'model'> & { reserve: { n: number; size: number } };

export async function visitPsf(ctx: Ctx, _gather: Gather, i: VisitPsfInput): Promise<VisitPsfResult> {
  const c = ctx.config.config;
  return ctx.step('psf', () => {
    const { ccd, maps } = i.pixels(i.bg.model);
    const r = psfStep(i.measured, i.det, maps, ccd, c, ctx.detector);
    const reserve = psfReserveStats(r.model, { ...i.measured, ...r.columns }, i.det, maps, ccd);
    return { columns: r.columns, problem: r.problem, fwhm: r.fwhm, nStars: r.nStars, reserve };
  });
}

export interface VisitCalibrateInput {
  catalog: Catalog;
  header: Header;
  geom: DetectorGeom | undefined;
  width: number;
  height: number;
}

export async function visitCalibrate(ctx: Ctx, _gather: Gather, i: VisitCalibrateInput): Promise<Calibration> {
  const c = ctx.config.config;
  const ccd = { header: i.header, image: { width: i.width, height: i.height } } as LoadedCcd;
  return ctx.step('calibrate', () => calibrateStep(i.catalog, ccd, c));
}

export const VISIT_REDUCERS: Record<string, Reducer<any, any, VisitJob>> = {
  background: backgroundReducer,
};
