/**
 * Files of a simulated visit under the repository root R:
 *   R/raw/<visit>/raw_<visit>_<det>.fits      16-bit raw CCD (BZERO 32768), approximate TAN WCS in the header
 *   R/truth/<visit>/truth_<visit>_<det>.fits  per-CCD truth table (1-based pixel positions like X_IMAGE)
 *   R/truth/<visit>/refcat.fits               reference catalogue (ra, dec, phot_g_mean_mag with noise)
 *   R/truth/<visit>/visit.json                the visit model (visit-model.ts) with per-detector summaries
 *   R/truth/<visit>/mask_<visit>_<det>.fits   (optional) 8-bit defect mask, SIM_MASK bits of detector.ts
 * <det> is the detector id zero-padded to 3 digits. Every file is written atomically (temp file + rename).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../catalog/write.js';
import { Header } from '../fits/header.js';
import { buildTable } from '../fits/table-write.js';
import { imageHdu, writeFits } from '../fits/write.js';
import { checkVisit } from '../production/ids.js';
import { UserError } from '../util/errors.js';
import type { SimulatedCcd } from './visit-ccd.js';
import type { DetectorTruthSummary, VisitModel } from './visit-model.js';
import type { SkyStar } from './visit-scene.js';
import { nominalWcs } from './visit-truth.js';

/** Paths (relative to the repository) of a detector's raw, truth and mask files. */
export function visitPaths(visit: string, det: number): { raw: string; truth: string; mask: string } {
  const v = checkVisit(visit);
  const d = String(det).padStart(3, '0');
  return { raw: path.join('raw', v, `raw_${v}_${d}.fits`), truth: path.join('truth', v, `truth_${v}_${d}.fits`), mask: path.join('truth', v, `mask_${v}_${d}.fits`) };
}

/** The truth directory of a visit, relative to the repository. */
export function truthDir(visit: string): string {
  return path.join('truth', checkVisit(visit));
}

/** Calendar date of a modified Julian date (ISO 8601, milliseconds). */
function isoDate(mjd: number): string {
  return new Date(Math.round((mjd - 40587) * 86400000)).toISOString().replace('Z', '');
}

/** The raw header: observation keywords and the approximate WCS (nominal pointing, rigid geometry, no distortion). */
export function rawHeader(m: VisitModel, ccd: SimulatedCcd): Header {
  const det = ccd.det;
  const w = nominalWcs(m, det);
  const h = new Header();
  const f = (k: string, v: number, c: string) => h.set(k, v, c, 'float');
  h.set('ORIGIN', 'lsst-pipe simulate', 'simulated raw exposure');
  h.set('TELESCOP', m.camera.name.toUpperCase());
  h.set('INSTRUME', m.camera.name.toUpperCase());
  h.set('IMAGETYP', 'object');
  h.set('VISIT', /^\d{1,15}$/.test(m.visit) ? Number(m.visit) : m.visit, 'visit id');
  h.set('DETECTOR', det.id, 'detector id');
  h.set('DETNAME', det.name, 'detector name');
  h.set('FILTER', m.filter);
  f('MJD-OBS', m.mjd, 'start of exposure (MJD, UTC)');
  h.set('DATE-OBS', isoDate(m.mjd), 'start of exposure (UTC)');
  f('EXPTIME', m.exptime, 'exposure time (s)');
  f('GAIN', m.photometry.gain, 'e-/ADU');
  f('SATURATE', m.photometry.saturation, 'saturation level (ADU)');
  f('RDNOISE', m.photometry.readNoise, 'read noise (e-)');
  h.set('BUNIT', 'adu');
  f('RA', m.nominal.ra, 'telescope pointing RA (deg)');
  f('DEC', m.nominal.dec, 'telescope pointing Dec (deg)');
  f('ROTPA', m.nominal.rotation, 'rotator position angle (deg)');
  h.set('WCSAXES', 2);
  h.set('CTYPE1', 'RA---TAN');
  h.set('CTYPE2', 'DEC--TAN');
  h.set('CUNIT1', 'deg');
  h.set('CUNIT2', 'deg');
  f('CRVAL1', w.crval[0], 'nominal pointing');
  f('CRVAL2', w.crval[1], 'nominal pointing');
  f('CRPIX1', w.crpix[0], 'optical axis (pixels)');
  f('CRPIX2', w.crpix[1], 'optical axis (pixels)');
  f('CD1_1', w.cd[0], 'deg/pixel');
  f('CD1_2', w.cd[1], 'deg/pixel');
  f('CD2_1', w.cd[2], 'deg/pixel');
  f('CD2_2', w.cd[3], 'deg/pixel');
  h.set('RADESYS', 'ICRS');
  f('EQUINOX', 2000, '');
  h.set('SIMSEED', m.seed, 'simulation seed');
  f('SIMSCALE', m.scale, 'detector size scale factor');
  h.add({ key: 'COMMENT', comment: 'Simulated raw CCD: approximate WCS (nominal pointing, no distortion); truth under truth/.' });
  return h;
}

/** Write a detector's raw file, truth table and (optionally) defect mask; returns its summary for visit.json. */
export function writeCcd(root: string, m: VisitModel, ccd: SimulatedCcd, withMask = false): DetectorTruthSummary {
  const p = visitPaths(m.visit, ccd.det.id);
  mkdirSync(path.join(root, path.dirname(p.raw)), { recursive: true });
  mkdirSync(path.join(root, path.dirname(p.truth)), { recursive: true });
  writeFits(path.join(root, p.raw), [imageHdu(ccd.pixels, { width: ccd.det.width, header: rawHeader(m, ccd) })]);
  const r = ccd.rows;
  const col = <T>(f: (row: (typeof r)[number]) => T) => r.map(f);
  const t = buildTable(
    [
      { name: 'id', data: Int32Array.from(col((o) => o.id)) },
      { name: 'type', data: col((o) => o.type), repeat: 6 },
      { name: 'x', data: Float64Array.from(col((o) => o.x)), unit: 'pix' },
      { name: 'y', data: Float64Array.from(col((o) => o.y)), unit: 'pix' },
      { name: 'ra', data: Float64Array.from(col((o) => o.ra)), unit: 'deg' },
      { name: 'dec', data: Float64Array.from(col((o) => o.dec)), unit: 'deg' },
      { name: 'flux', data: Float64Array.from(col((o) => o.flux)), unit: 'adu' },
      { name: 'mag', data: Float64Array.from(col((o) => o.mag)), unit: 'mag' },
      { name: 'fwhm', data: Float32Array.from(col((o) => o.fwhm)), unit: 'pix' },
      { name: 'e1', data: Float32Array.from(col((o) => o.e1)) },
      { name: 'e2', data: Float32Array.from(col((o) => o.e2)) },
      { name: 'r_half', data: Float32Array.from(col((o) => o.rHalf)), unit: 'pix' },
      { name: 'sersic_n', data: Float32Array.from(col((o) => o.sersicN)) },
      { name: 'shape_e1', data: Float32Array.from(col((o) => o.shapeE1)) },
      { name: 'shape_e2', data: Float32Array.from(col((o) => o.shapeE2)) },
      { name: 'in_refcat', data: col((o) => o.inRefcat) },
      { name: 'saturated', data: col((o) => o.saturated) },
      { name: 'peak', data: Float32Array.from(col((o) => o.peak)), unit: 'adu' },
    ],
    { extname: 'TRUTH', nrows: r.length },
  );
  t.header.set('VISIT', m.visit);
  t.header.set('DETECTOR', ccd.det.id);
  t.header.set('DETNAME', ccd.det.name);
  t.header.set('MAGZERO', m.photometry.zeroPoint, 'mag = MAGZERO - 2.5 log10(flux ADU)', 'float');
  writeFits(path.join(root, p.truth), [t]);
  if (withMask) {
    const mh = new Header();
    mh.add({ key: 'COMMENT', comment: 'Defect mask bits: 1 bad column, 2 hot pixel, 4 cosmic ray, 8 ADC saturation, 16 bleed.' });
    writeFits(path.join(root, p.mask), [imageHdu(ccd.mask, { width: ccd.det.width, header: mh })]);
  }
  const stars = r.filter((o) => o.type === 'star');
  return {
    id: ccd.det.id,
    name: ccd.det.name,
    raw: p.raw,
    truth: p.truth,
    stars: stars.length,
    galaxies: r.length - stars.length,
    refcatStars: stars.filter((o) => o.inRefcat).length,
    saturatedStars: stars.filter((o) => o.saturated).length,
    cosmics: ccd.cosmics,
    hotPixels: ccd.hotPixels,
    badColumns: ccd.badColumns,
    ...(withMask ? { mask: p.mask } : {}),
  };
}

/** Write the reference catalogue; returns its path relative to the repository. */
export function writeRefcat(root: string, m: VisitModel, stars: readonly SkyStar[]): string {
  const rel = path.join(truthDir(m.visit), 'refcat.fits');
  mkdirSync(path.join(root, truthDir(m.visit)), { recursive: true });
  const t = buildTable(
    [
      { name: 'source_id', data: Int32Array.from(stars.map((s) => s.id)) },
      { name: 'ra', data: Float64Array.from(stars.map((s) => s.refRa)), unit: 'deg' },
      { name: 'dec', data: Float64Array.from(stars.map((s) => s.refDec)), unit: 'deg' },
      { name: 'ra_error', data: Float32Array.from(stars.map((s) => s.posErrMas)), unit: 'mas' },
      { name: 'dec_error', data: Float32Array.from(stars.map((s) => s.posErrMas)), unit: 'mas' },
      { name: 'phot_g_mean_mag', data: Float32Array.from(stars.map((s) => s.refMag)), unit: 'mag' },
      { name: 'phot_g_mean_mag_error', data: Float32Array.from(stars.map((s) => s.magErr)), unit: 'mag' },
    ],
    { extname: 'REFCAT', nrows: stars.length },
  );
  t.header.set('VISIT', m.visit);
  t.header.add({ key: 'COMMENT', comment: 'Simulated reference catalogue: true positions and magnitudes plus catalogue noise.' });
  writeFits(path.join(root, rel), [t]);
  return rel;
}

/**
 * Write visit.json (the model with the detector summaries, sorted by id). When the file already holds the same
 * simulation (identical model), the summaries of detectors simulated earlier are kept, so a visit can be made in
 * several runs; a different simulation under the same visit id is refused (its raws would be mixed with ours).
 */
export function writeVisitJson(root: string, m: VisitModel, detectors: readonly DetectorTruthSummary[]): string {
  const rel = path.join(truthDir(m.visit), 'visit.json');
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  const merged = new Map<number, DetectorTruthSummary>();
  checkVisitJson(root, m);
  if (existsSync(file)) for (const d of (JSON.parse(readFileSync(file, 'utf8')) as VisitModel).detectors) merged.set(d.id, d);
  for (const d of detectors) merged.set(d.id, d);
  const sorted = [...merged.values()].sort((a, b) => a.id - b.id);
  writeFileAtomic(file, `${JSON.stringify({ ...m, detectors: sorted }, null, 1)}\n`);
  return rel;
}

/** Refuse early (before writing anything) when the repository holds another simulation of this visit id. */
export function checkVisitJson(root: string, m: VisitModel): void {
  const file = path.join(root, truthDir(m.visit), 'visit.json');
  if (!existsSync(file)) return;
  const old = JSON.parse(readFileSync(file, 'utf8')) as VisitModel;
  if (JSON.stringify({ ...old, detectors: [] }) !== JSON.stringify({ ...m, detectors: [] })) {
    throw new UserError(`${file}: visit ${m.visit} was simulated with other parameters (camera, scale or seed): use another visit id or repository`);
  }
}
