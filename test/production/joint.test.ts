/**
 * The visit-level joint fits against quick mode CCD by CCD, on simulated LSSTCam and DECam visits with truth,
 * through `lsst-prod compare visit N` as users run it (dist/, `npm run build`). The acceptance figures of the
 * joint-fit issue are asserted here and printed (the README quotes them).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompareResult, CompareRow } from '../../src/production/compare.js';

const BIN = path.resolve(__dirname, '../../bin/lsst-prod.js');
const run = (args: string[], timeout = 600_000) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'joint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Simulate, ingest with the reference catalogue, compare; returns the comparison and the printed table. */
function compare(camera: string, scale: number, visit: string, seed: number): { r: CompareResult; table: string } {
  const repo = path.join(tmp, camera);
  const sim = run(['simulate', '--camera', camera, '--visit', visit, '--repo', repo, '--scale', String(scale), '--seed', String(seed), '--jobs', '2']);
  expect(sim.status, sim.stderr).toBe(0);
  const raws = readdirSync(path.join(repo, 'raw', visit)).sort().map((f) => path.join(repo, 'raw', visit, f));
  const ing = run(['ingest', '--repo', repo, ...raws, '--refcat', path.join(repo, 'truth', visit, 'refcat.fits')]);
  expect(ing.status, ing.stderr).toBe(0);
  const json = path.join(tmp, `${camera}.json`);
  const c = run(['compare', 'visit', visit, '--repo', repo, '--jobs', '2', '--json', json]);
  expect(c.status, c.stderr).toBe(0);
  return { r: JSON.parse(readFileSync(json, 'utf8')) as CompareResult, table: c.stdout };
}

const finite = (v: number) => Number.isFinite(v);
/** JSON turns NaN into null */
const fx = (v: number | null, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
const rmsOf = (rows: CompareRow[], k: keyof CompareRow): number => {
  const v = rows.map((r) => r[k] as number).filter(finite);
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
};

function checkAcceptance(name: string, r: CompareResult, table: string): void {
  const o = r.overall;
  const few = r.rows.filter((x) => x.refStars < 10);
  const sparse = r.rows.filter((x) => x.psfStars < 15);
  console.log(
    `${name}: ${o.ccds} CCDs; matched ${(100 * o.matched).toFixed(2)}%, aperture ratio ${fx(o.apertureRatio, 5)}; ` +
      `astrometry vs truth quick ${fx(o.astromTruthQuick, 1)} mas (fails on ${o.quickAstromFailures}), prod ${fx(o.astromTruthProd, 1)} mas; ` +
      `CCDs < 10 ref stars: ${few.length}, quick ${fx(rmsOf(few, 'astromTruthQuick'), 1)} mas, prod ${fx(rmsOf(few, 'astromTruthProd'), 1)} mas; ` +
      `PSF reserve size residual (median over CCDs) quick ${fx(o.psfSizeQuick, 4)}, prod ${fx(o.psfSizeProd, 4)}, CCDs < 15 stars (${sparse.length}) quick ${fx(o.psfSizeQuickSparse, 4)}, prod ${fx(o.psfSizeProdSparse, 4)}; ` +
      `PSF FWHM vs truth quick ${fx(o.psfTruthQuick, 4)}, prod ${fx(o.psfTruthProd, 4)}, CCDs < 15 stars quick ${fx(o.psfTruthQuickSparse, 4)}, prod ${fx(o.psfTruthProdSparse, 4)}; ` +
      `background step quick ${fx(o.bgStepQuick, 3)}, prod ${fx(o.bgStepProd, 3)} sigma; ` +
      `zero point prod - truth ${(o.zpProd - o.zpTruth).toFixed(4)} mag, quick scatter ${fx(o.zpQuickScatter, 4)} mag`,
  );
  expect(r.simulated).toBe(true);
  expect(table).toMatch(/zero point: prod/);
  // detections and fluxes agree
  expect(o.matched).toBeGreaterThanOrEqual(0.99);
  expect(Math.abs(o.apertureRatio - 1)).toBeLessThan(0.003);
  // astrometry: every CCD has a WCS close to truth; at least 2x better than quick where reference stars are few
  for (const x of r.rows) expect(x.astromTruthProd, `detector ${x.detector}`).toBeLessThan(1000);
  if (few.length) expect(rmsOf(few, 'astromTruthProd')).toBeLessThan(0.5 * rmsOf(few, 'astromTruthQuick'));
  // PSF: reserve-star size residuals no worse than quick's over the visit (per CCD they are noise-limited: 1 to 10
  // reserve stars each); the model against truth better everywhere, and at least 2x where a CCD has < 15 stars
  expect(o.psfSizeProd).toBeLessThanOrEqual(o.psfSizeQuick * 1.1);
  expect(o.psfTruthProd).toBeLessThan(o.psfTruthQuick);
  if (sparse.length) expect(o.psfTruthProdSparse).toBeLessThan(0.5 * o.psfTruthQuickSparse);
  // background: no seams
  expect(o.bgStepProd).toBeLessThanOrEqual(0.1);
  expect(o.bgStepProd).toBeLessThan(o.bgStepQuick);
  // zero point
  expect(Math.abs(o.zpProd - o.zpTruth)).toBeLessThanOrEqual(0.005);
}

describe('lsst-prod compare: joint fits against quick mode CCD by CCD', () => {
  it('LSSTCam (189 CCDs at scale 0.125)', () => {
    const { r, table } = compare('lsstcam', 0.125, '100', 3);
    expect(r.rows).toHaveLength(189);
    checkAcceptance('LSSTCam', r, table);
  }, 900_000);

  it('DECam (62 CCDs at scale 0.25)', () => {
    const { r, table } = compare('decam', 0.25, '200', 5);
    expect(r.rows).toHaveLength(62);
    checkAcceptance('DECam', r, table);
  }, 900_000);
});
