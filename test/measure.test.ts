/**
 * Measurement against source-extractor 2.25 on real images, isolated from detection and background:
 * source-extractor's own BACKGROUND, FILTERED and SEGMENTATION check images are turned into the detection hand-over
 * (label k of the segmentation map = its NUMBER k), our measureObjects() measures them, and every object is
 * compared with source-extractor's catalog row of the same NUMBER.
 *
 * source-extractor runs with CLEAN N (a CLEANed object leaves stale labels in its segmentation map) and a
 * 2048-line buffer (whole image in memory, so NUMBER follows detection order); everything else is its default.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/schema.js';
import type { DetectedObject } from '../src/detect/types.js';
import { measureObjects, MEASURED_COLUMNS, type MeasureConfig } from '../src/measure/index.js';
import { astropyImage, hasAstropy, hasSextractor, REPO, runPython, runSextractor, type SexRun } from './helpers/oracle.js';
import { median } from './helpers/stats.js';

const SHARED = path.resolve(REPO, '../shared/data');
const hasShared = existsSync(path.join(SHARED, 'real'));
if (!hasShared) console.warn('measure.test: ../shared/data is absent: real-image comparisons with source-extractor are SKIPPED');
if (!hasSextractor || !hasAstropy) console.warn('measure.test: source-extractor or astropy missing: comparisons SKIPPED');

const APERTURES = [5, 10, 20];
const PARAMS = MEASURED_COLUMNS.map((n) => (['FLUX_APER', 'FLUXERR_APER', 'MAG_APER', 'MAGERR_APER'].includes(n) ? `${n}(${APERTURES.length})` : n));
const CHECKS = ['BACKGROUND', 'MINIBACKGROUND', 'SEGMENTATION', 'FILTERED'];

type Col = number[];

interface Case {
  name: string;
  gain: number;
  sex: Record<string, Col | Col[]>;
  nrows: number;
  /** our catalog from our own moments */
  ours: Catalog;
  /** our catalog with source-extractor's isophotal moments handed over (as detection does), SExtractor-like 5x5 apertures */
  oursSexMoments: Catalog;
  /** rows (0-based) of isolated objects: FLAGS == 0 and SNR_WIN > 10 */
  sel: number[];
  ms: number;
}

/** source-extractor's global background RMS and thresholds, from the LDAC image header it writes. */
function ldacHeader(catFile: string): Record<string, number> {
  return JSON.parse(
    runPython(
      `import sys, json, numpy as np
from astropy.io import fits
with fits.open(sys.argv[1]) as f:
    raw = f['LDAC_IMHEAD'].data.field(0)[0]
h = fits.Header.fromstring(''.join(c.ljust(80) for c in np.asarray(raw).astype(str).tolist()))
print(json.dumps({k: h[k] for k in ['SEXBKDEV', 'SEXTHLD', 'SEXSATLV', 'SEXMGZPT', 'SEXGAIN']}))`,
      [catFile],
    ),
  );
}

function prepare(rel: string, gain: number): Case {
  const file = path.join(SHARED, 'real', rel);
  const run: SexRun = runSextractor(file, PARAMS, { PHOT_APERTURES: APERTURES.join(','), GAIN: String(gain), CLEAN: 'N', MEMORY_BUFSIZE: '2048' }, CHECKS);
  const hdr = ldacHeader(path.join(path.dirname(run.checkImages.SEGMENTATION), 'cat.fits'));
  const img = astropyImage(file);
  const back = astropyImage(run.checkImages.BACKGROUND);
  const filt = astropyImage(run.checkImages.FILTERED);
  const segF = astropyImage(run.checkImages.SEGMENTATION);
  const { width, height } = img;
  const n = width * height;
  const sub = new Float32Array(n);
  for (let p = 0; p < n; p++) sub[p] = img.data[p] - back.data[p];
  const seg = new Int32Array(n);
  const counts = new Int32Array(run.nrows + 1);
  for (let p = 0; p < n; p++) {
    seg[p] = segF.data[p];
    counts[seg[p]]++;
  }
  const lists = Array.from({ length: run.nrows + 1 }, (_, k) => new Int32Array(counts[k]));
  const fill = new Int32Array(run.nrows + 1);
  for (let p = 0; p < n; p++) if (seg[p] > 0) lists[seg[p]][fill[seg[p]]++] = p;
  // pixels SExtractor blanks while measuring neighbours: everything above its (constant) detection threshold
  const detected = new Uint8Array(n);
  for (let p = 0; p < n; p++) detected[p] = filt.data[p] > hdr.SEXTHLD ? 1 : 0;
  const C = run.columns as Record<string, Col>;
  const objects = (withMoments: boolean): DetectedObject[] =>
    Array.from({ length: run.nrows }, (_, i) => ({
      pixels: lists[i + 1],
      threshold: hdr.SEXTHLD,
      peak: 0,
      peakIndex: 0,
      // the only FLAGS bit known at detection that measurement cannot recompute: "blended"
      flags: C.FLAGS[i] & 2,
      ...(withMoments
        ? {
            moments: {
              mx: C.X_IMAGE[i] - 1,
              my: C.Y_IMAGE[i] - 1,
              mx2: C.X2_IMAGE[i],
              my2: C.Y2_IMAGE[i],
              mxy: C.XY_IMAGE[i],
              a: C.A_IMAGE[i],
              b: C.B_IMAGE[i],
              theta: C.THETA_IMAGE[i],
              cxx: C.CXX_IMAGE[i],
              cyy: C.CYY_IMAGE[i],
              cxy: C.CXY_IMAGE[i],
              abcor: 1,
              fdflux: 0,
              fdnpix: 0,
            },
          }
        : {}),
    }));
  const mini = astropyImage(run.checkImages.MINIBACKGROUND);
  // BACK_SIZE 64 (source-extractor's default)
  const backgroundMesh = { nx: mini.width, ny: mini.height, bw: 64, bh: 64, level: mini.data };
  const images = { image: { width, height, data: sub }, background: back, backgroundMesh, filtered: filt, detected };
  const config: MeasureConfig = {
    gain,
    saturLevel: hdr.SEXSATLV,
    magZeropoint: hdr.SEXMGZPT,
    apertures: APERTURES,
    backgroundRms: hdr.SEXBKDEV,
  };
  const t0 = performance.now();
  const ours = measureObjects({ objects: objects(false), segmentation: seg }, images, config);
  const ms = performance.now() - t0;
  const oursSexMoments = measureObjects({ objects: objects(true), segmentation: seg }, images, { ...config, apertureSubsampling: 5 });
  const sel: number[] = [];
  for (let i = 0; i < run.nrows; i++) if (C.FLAGS[i] === 0 && C.SNR_WIN[i] > 10) sel.push(i);
  return { name: rel, gain, sex: run.columns, nrows: run.nrows, ours, oursSexMoments, sel, ms };
}


/** Values of column `name` (element k of vectors) for rows `rows`: ours and source-extractor's. */
function pair(c: Case, cat: Catalog, name: string, rows: number[], k = 0): [number[], number[]] {
  const o = cat[name];
  const width = o.length / c.nrows;
  const s = c.sex[name];
  return [rows.map((i) => o[i * width + k]), rows.map((i) => (Array.isArray(s[i]) ? (s[i] as Col)[k] : (s[i] as number)))];
}

const absDiffs = (a: number[], b: number[]): number[] => a.map((v, i) => Math.abs(v - b[i]));
const ratios = (a: number[], b: number[]): number[] => a.map((v, i) => v / b[i]);
const fracWithin = (r: number[], tol: number): number => r.filter((v) => Math.abs(v - 1) <= tol).length / r.length;

interface Row {
  [k: string]: string | number;
}
const table: Row[] = [];

const CASES: [string, number][] = [
  ['sep/image.fits', 4],
  ['sextractor/galaxies.fits', 4],
  ['photutils/M6707HH.fits', 4],
  ['astropy/M13_blue_0001.fits', 4],
  ['sep/image.fits', 0],
  ['sextractor/galaxies.fits', 0],
];

describe.skipIf(!hasShared || !hasSextractor || !hasAstropy)('measurement vs source-extractor 2.25 (same detections)', () => {
  describe.each(CASES)('%s GAIN=%d', (rel, gain) => {
    let c: Case;
    const get = (): Case => (c ??= prepare(rel, gain));

    it('has enough isolated SNR > 10 objects to compare', () => {
      const cs = get();
      expect(cs.sel.length).toBeGreaterThanOrEqual(10);
    });

    it('positions: isophotal and windowed barycentres', () => {
      const cs = get();
      for (const name of ['X_IMAGE', 'Y_IMAGE', 'XWIN_IMAGE', 'YWIN_IMAGE']) {
        const d = absDiffs(...pair(cs, cs.ours, name, cs.sel));
        expect(median(d), name).toBeLessThan(0.01); // acceptance
        expect(Math.max(...d), name).toBeLessThan(1e-3); // reached: float32 output rounding
      }
      for (const name of ['XMIN_IMAGE', 'YMIN_IMAGE', 'XMAX_IMAGE', 'YMAX_IMAGE', 'XPEAK_IMAGE', 'YPEAK_IMAGE', 'ISOAREA_IMAGE', 'ISOAREAF_IMAGE', 'NITER_WIN']) {
        const [o, s] = pair(cs, cs.ours, name, cs.sel);
        expect(o.filter((v, i) => v !== s[i]).length / o.length, name).toBeLessThanOrEqual(0.01);
      }
    });

    it('shapes: second moments, A/B/THETA, windowed moments, FWHM', () => {
      const cs = get();
      for (const name of ['X2_IMAGE', 'Y2_IMAGE', 'A_IMAGE', 'B_IMAGE', 'ELONGATION', 'CXX_IMAGE', 'CYY_IMAGE', 'X2WIN_IMAGE', 'Y2WIN_IMAGE', 'AWIN_IMAGE', 'BWIN_IMAGE', 'FWHM_IMAGE']) {
        const r = ratios(...pair(cs, cs.ours, name, cs.sel));
        expect(fracWithin(r, 1e-4), name).toBeGreaterThanOrEqual(0.99);
      }
      const dth = absDiffs(...pair(cs, cs.ours, 'THETA_IMAGE', cs.sel));
      expect(Math.max(...dth)).toBeLessThan(0.01);
    });

    it('photometry: FLUX_ISO, FLUX_APER (exact overlap), FLUX_AUTO, KRON_RADIUS, FLUX_RADIUS, FLUX_MAX, SNR_WIN', () => {
      const cs = get();
      const rIso = ratios(...pair(cs, cs.ours, 'FLUX_ISO', cs.sel));
      expect(Math.abs(median(rIso) - 1)).toBeLessThan(0.005); // acceptance
      expect(fracWithin(rIso, 0.02)).toBeGreaterThanOrEqual(0.9); // acceptance
      expect(fracWithin(rIso, 1e-5)).toBe(1); // reached
      const row: Row = { image: cs.name, GAIN: cs.gain, n: cs.sel.length, 'ISO med': median(rIso).toFixed(6) };
      APERTURES.forEach((d, k) => {
        const r = ratios(...pair(cs, cs.ours, 'FLUX_APER', cs.sel, k));
        expect(Math.abs(median(r) - 1), `aperture ${d}`).toBeLessThan(0.005); // acceptance
        expect(fracWithin(r, 0.02), `aperture ${d}`).toBeGreaterThanOrEqual(0.9); // acceptance
        row[`APER${d} med`] = median(r).toFixed(5);
        row[`APER${d} <2%`] = fracWithin(r, 0.02).toFixed(3);
      });
      const rAuto = ratios(...pair(cs, cs.ours, 'FLUX_AUTO', cs.sel));
      expect(Math.abs(median(rAuto) - 1)).toBeLessThan(0.02); // acceptance
      expect(fracWithin(rAuto, 1e-4)).toBeGreaterThanOrEqual(0.99); // reached
      row['AUTO med'] = median(rAuto).toFixed(6);
      row['AUTO <1e-4'] = fracWithin(rAuto, 1e-4).toFixed(3);
      for (const name of ['KRON_RADIUS', 'FLUX_RADIUS', 'FLUX_MAX', 'SNR_WIN', 'FLUX_WIN']) {
        const r = ratios(...pair(cs, cs.ours, name, cs.sel));
        expect(fracWithin(r, 1e-4), name).toBeGreaterThanOrEqual(0.99);
        row[`${name} <1e-4`] = fracWithin(r, 1e-4).toFixed(3);
      }
      const magAuto = absDiffs(...pair(cs, cs.ours, 'MAG_AUTO', cs.sel));
      expect(median(magAuto)).toBeLessThan(1e-4);
      row['|dX| med'] = median(absDiffs(...pair(cs, cs.ours, 'X_IMAGE', cs.sel))).toExponential(1);
      row['|dXWIN| med'] = median(absDiffs(...pair(cs, cs.ours, 'XWIN_IMAGE', cs.sel))).toExponential(1);
      row['ms'] = Math.round(cs.ms);
      table.push(row);
    });

    it('errors: FLUXERR_*, MAGERR_*, ERRA/B/THETA(WIN)', () => {
      const cs = get();
      for (const name of ['FLUXERR_ISO', 'FLUXERR_AUTO', 'FLUXERR_WIN', 'MAGERR_ISO', 'MAGERR_AUTO', 'ERRA_IMAGE', 'ERRB_IMAGE', 'ERRAWIN_IMAGE', 'ERRBWIN_IMAGE']) {
        const r = ratios(...pair(cs, cs.ours, name, cs.sel));
        expect(fracWithin(r, 1e-3), name).toBeGreaterThanOrEqual(0.99);
      }
      // exact vs sub-sampled pixel areas change the aperture variance by at most ~1%
      APERTURES.forEach((d, k) => {
        const r = ratios(...pair(cs, cs.ours, 'FLUXERR_APER', cs.sel, k));
        expect(fracWithin(r, 0.01), `aperture ${d}`).toBe(1);
      });
      // error-ellipse angles are only defined for elongated error ellipses
      for (const [th, a, b] of [['ERRTHETA_IMAGE', 'ERRA_IMAGE', 'ERRB_IMAGE'], ['ERRTHETAWIN_IMAGE', 'ERRAWIN_IMAGE', 'ERRBWIN_IMAGE']]) {
        const [A, B] = [pair(cs, cs.ours, a, cs.sel)[1], pair(cs, cs.ours, b, cs.sel)[1]];
        const rows = cs.sel.filter((_, j) => A[j] > 1.1 * B[j]);
        const d = absDiffs(...pair(cs, cs.ours, th, rows)).map((v) => Math.min(v, 180 - v));
        if (rows.length) expect(Math.max(...d), th).toBeLessThan(0.5);
      }
    });

    it('FLAGS, FLAGS_WIN, BACKGROUND, THRESHOLD', () => {
      const cs = get();
      const F = cs.sex.FLAGS as Col;
      const W = cs.sex.FLAGS_WIN as Col;
      // all non-blended objects (blended ones have deblending-dependent moments)
      const nb = Array.from({ length: cs.nrows }, (_, i) => i).filter((i) => (F[i] & 2) === 0);
      const flagEq = nb.filter((i) => cs.ours.FLAGS[i] === F[i]).length / nb.length;
      const winEq = nb.filter((i) => cs.ours.FLAGS_WIN[i] === W[i]).length / nb.length;
      expect(flagEq).toBeGreaterThanOrEqual(0.99);
      expect(winEq).toBeGreaterThanOrEqual(0.99);
      const rb = ratios(...pair(cs, cs.ours, 'BACKGROUND', cs.sel));
      expect(fracWithin(rb, 1e-6)).toBe(1); // bilinear interpolation of the mesh grid, as SExtractor
      const [to, ts] = pair(cs, cs.ours, 'THRESHOLD', cs.sel);
      expect(to.every((v, i) => Math.abs(v - ts[i]) <= 1e-5 * ts[i])).toBe(true);
    });

    it("with source-extractor's own isophotal moments and 5x5 apertures, ALL objects (blended too) match", () => {
      const cs = get();
      const all = Array.from({ length: cs.nrows }, (_, i) => i);
      for (const name of ['FLUX_AUTO', 'FLUXERR_AUTO', 'KRON_RADIUS', 'FLUX_RADIUS', 'XWIN_IMAGE', 'SNR_WIN']) {
        const r = ratios(...pair(cs, cs.oursSexMoments, name, all));
        expect(fracWithin(r, 1e-3), name).toBeGreaterThanOrEqual(0.99);
      }
      APERTURES.forEach((d, k) => {
        const [o, s] = pair(cs, cs.oursSexMoments, 'FLUX_APER', all, k);
        const [, e] = pair(cs, cs.oursSexMoments, 'FLUXERR_APER', all, k);
        const ok = o.filter((v, i) => Math.abs(v - s[i]) <= 1e-4 * Math.abs(s[i]) + 1e-3 * e[i]).length / o.length;
        expect(ok, `aperture ${d}`).toBeGreaterThanOrEqual(0.99);
      });
      const F = cs.sex.FLAGS as Col;
      expect(all.filter((i) => cs.oursSexMoments.FLAGS[i] === F[i]).length / all.length).toBeGreaterThanOrEqual(0.99);
    });
  });

  it('prints the comparison table', () => {
    expect(table.length).toBe(CASES.length);
    const cols = Object.keys(table[0]);
    const lines = [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...table.map((r) => `| ${cols.map((k) => r[k]).join(' | ')} |`)];
    console.log(`measurement vs source-extractor 2.25 (isolated objects FLAGS=0, SNR_WIN>10; ratios ours/SExtractor)\n${lines.join('\n')}`);
  });
});
