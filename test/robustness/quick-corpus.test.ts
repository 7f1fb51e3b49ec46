/**
 * lsst-quick on the bad-input corpus (corpus.ts): every case runs as a child process (5 s limit, peak RSS
 * measured, two at a time). Bad input: exit 2, one stderr line naming the file and the problem, nothing
 * left in the output directory (no catalog, check image, PNG or temp file). Legal but empty images: exit 0,
 * a warning naming the file, and a catalog that astropy reads with 0 rows and exactly the columns of a
 * normal catalog. Oracles: simulation truth for the base field, source-extractor for "no sources", astropy
 * for catalog validity, cfitsio's fpack for the compressed cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { makeCorpus, type CorpusCase } from './corpus.js';
import { starField } from './fitsbytes.js';
import { expectOneLineError, expectWellBehaved, lines, listFiles, pool, runCli, tempDir, TEMP_FILE, type RunResult } from './harness.js';
import { astropyCatalogs, hasAstropy, hasSextractor, sextractorCount, type CatalogInfo } from './oracle.js';

const root = tempDir('corpus');
const inDir = path.join(root, 'in');
const cases = makeCorpus(inDir);
const runnable = cases.filter((c) => !c.skip);
for (const c of cases) if (c.skip) console.warn(`SKIPPED robustness case '${c.name}': ${c.skip}`);
if (!hasAstropy) console.warn('SKIPPED astropy checks of the empty catalogs: /usr/bin/python3 with astropy not found');
if (!hasSextractor) console.warn('SKIPPED source-extractor cross-checks: source-extractor not found');

/** Extra outputs requested on failing cases: none of them may appear. */
const extraOutputs = (c: CorpusCase, out: string): string[] =>
  c.args.includes('--jobs') ? [] : ['--check-images', 'background,segmentation', '--check-prefix', path.join(out, 'chk'), '--png', path.join(out, 'preview.png')];

interface Ran {
  r: RunResult;
  out: string;
  catalog: string;
}
const ran = new Map<string, Ran>();
let infos = new Map<string, CatalogInfo>();
let inputsBefore: string[] = [];
let reference: Ran;

beforeAll(async () => {
  inputsBefore = listFiles(inDir);
  const all = [{ name: '__reference', args: ['good.fits'], outcome: 'ok' } as CorpusCase, ...runnable];
  await pool(all, 2, async (c, i) => {
    const out = path.join(root, `out-${i}`);
    mkdirSync(out);
    const catalog = path.join(out, 'cat.fits');
    const extra = c.outcome === 'error' ? extraOutputs(c, out) : [];
    const r = await runCli('lsst-quick', [...c.args, '-o', catalog, ...extra], { cwd: inDir });
    ran.set(c.name, { r, out, catalog });
  });
  reference = ran.get('__reference')!;
  if (hasAstropy) {
    const cats = [...ran.values()].filter((x) => x.r.code === 0).map((x) => x.catalog);
    infos = new Map(astropyCatalogs(cats).map((i) => [i.file, i]));
  }
}, 180_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lsst-quick: the base field (reference for the other cases)', () => {
  it('finds the 12 simulated stars at their true positions', async () => {
    const { r } = reference;
    expectWellBehaved(r, 'good.fits');
    expect(r.code).toBe(0);
    const out = tempDir('ref');
    try {
      const csv = path.join(out, 'cat.csv');
      const r2 = await runCli('lsst-quick', ['good.fits', '-o', csv, '--catalog-type', 'csv'], { cwd: inDir });
      expect(r2.code).toBe(0);
      const [head, ...rows] = readFileSync(csv, 'utf8').trim().split('\n');
      const cols = head.split(',');
      const ix = cols.indexOf('X_IMAGE');
      const iy = cols.indexOf('Y_IMAGE');
      const found = rows.map((l) => l.split(',').map(Number)).map((v) => ({ x: v[ix] - 1, y: v[iy] - 1 }));
      const truth = starField(200, 160, { seed: 7, stars: 12, sky: 1000, noise: 10 }).stars;
      expect(found.length).toBe(truth.length);
      for (const s of truth) {
        const d = Math.min(...found.map((f) => Math.hypot(f.x - s.x, f.y - s.y)));
        expect(d, `star at (${s.x.toFixed(2)}, ${s.y.toFixed(2)})`).toBeLessThan(0.3);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasAstropy)('writes a catalog astropy verifies, with 12 rows', () => {
    const info = infos.get(reference.catalog)!;
    expect(info.ok, info.error).toBe(true);
    expect(info.tables!.length).toBe(1);
    expect(info.tables![0].nrows).toBe(12);
    expect(info.tables![0].columns.length).toBeGreaterThan(20);
  });

  it.skipIf(!hasSextractor)('source-extractor agrees on the premises: 12 sources in the base field, none in the noise field', () => {
    expect(sextractorCount(path.join(inDir, 'good.fits'))).toBe(12);
    expect(sextractorCount(path.join(inDir, 'noise.fits'))).toBe(0);
  });
});

describe('lsst-quick: bad input gives exit 2, one line naming the file, nothing written', () => {
  it.each(cases.filter((c) => c.outcome === 'error').map((c) => [c.name, c] as const))('%s', (_n, c) => {
    if (c.skip) return console.warn(`SKIPPED '${c.name}': ${c.skip}`);
    const { r, out } = ran.get(c.name)!;
    const line = expectOneLineError(r, 'lsst-quick', c.name, c.blame ?? c.args[0], c.problem);
    expect(line).not.toMatch(/no decoder available/); // a compressed case must reach the decoder
    expect(listFiles(out), `${c.name}: files left in the output directory`).toEqual([]);
    expect(r.stdout).toBe('');
  });
});

describe('lsst-quick: legal images with nothing to find give an empty catalog and a warning', () => {
  it.each(cases.filter((c) => c.outcome === 'empty').map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const { r, out, catalog } = ran.get(c.name)!;
    expectWellBehaved(r, c.name);
    expect(r.code, r.stderr).toBe(0);
    const warn = lines(r.stderr).filter((l) => l.startsWith('lsst-quick: warning: '));
    expect(warn.length, r.stderr).toBe(1);
    expect(warn[0]).toContain(`${c.args[0]}: HDU 0: `);
    expect(warn[0]).toMatch(c.problem!);
    expect(warn[0]).toMatch(/catalog is empty/);
    expect(listFiles(out)).toEqual(['cat.fits']);
    if (!hasAstropy) return;
    const info = infos.get(catalog)!;
    expect(info.ok, info.error).toBe(true);
    expect(info.tables!.length).toBe(1);
    expect(info.tables![0].nrows).toBe(0);
    // every column of a normal catalog, same names, same order, same formats
    expect(info.tables![0].columns).toEqual(infos.get(reference.catalog)!.tables![0].columns);
  });
});

describe('lsst-quick: legal odd inputs are processed', () => {
  it('3x100000 image: a valid catalog, well within time and memory', () => {
    const { r, catalog } = ran.get('3x100000 image')!;
    expectWellBehaved(r, 'thin');
    expect(r.code, r.stderr).toBe(0);
    if (hasAstropy) expect(infos.get(catalog)!.ok, infos.get(catalog)!.error).toBe(true);
  });

  it('MEF with an empty primary, an image and a table: the image is processed, the table ignored', () => {
    const { r, catalog } = ran.get('MEF: empty primary, image, table')!;
    expectWellBehaved(r, 'mef');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    if (!hasAstropy) return;
    const info = infos.get(catalog)!;
    expect(info.ok, info.error).toBe(true);
    expect(info.tables!.map((t) => t.nrows)).toEqual([12]);
  });
});

describe('lsst-quick: bad pixels inside a normal field', () => {
  it.skipIf(!hasAstropy)('80 NaN pixels: the 12 sources are still found', () => {
    const { r, catalog } = ran.get('field with 80 NaN pixels')!;
    expectWellBehaved(r, 'some-nan');
    expect(r.code, r.stderr).toBe(0);
    expect(infos.get(catalog)!.tables![0].nrows).toBe(12);
  });

  // +Inf pixels are excluded from the mesh statistics like NaN; source-extractor finds the same 12 sources.
  it.skipIf(!hasAstropy || !hasSextractor)('80 +Inf pixels: the 12 sources are still found, as by source-extractor', () => {
    const { r, catalog } = ran.get('field with 80 +Inf pixels')!;
    expectWellBehaved(r, 'some-inf');
    expect(r.code, r.stderr).toBe(0);
    expect(sextractorCount(path.join(inDir, 'some-inf.fits'))).toBe(12);
    expect(infos.get(catalog)!.tables![0].nrows).toBe(12);
  });
});

describe('lsst-quick: nothing partial, no temporary files', () => {
  it('the input directory is unchanged after every case', () => {
    expect(listFiles(inDir)).toEqual(inputsBefore);
  });

  it('no temporary file anywhere after all runs', () => {
    expect(listFiles(root).filter((f) => TEMP_FILE.test(f))).toEqual([]);
  });

  it('with the default output beside the input, a failure leaves only the input there', async () => {
    const d = tempDir('beside');
    try {
      for (const f of ['trunc-data.fits', 'bitpix7.fits']) copyFileSync(path.join(inDir, f), path.join(d, f));
      for (const f of ['trunc-data.fits', 'bitpix7.fits']) {
        const r = await runCli('lsst-quick', [f], { cwd: d });
        expectOneLineError(r, 'lsst-quick', f, f);
      }
      expect(listFiles(d)).toEqual(['bitpix7.fits', 'trunc-data.fits']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('a stack trace appears only with --debug', async () => {
    const r = await runCli('lsst-quick', ['bitpix7.fits', '-o', path.join(root, 'dbg.cat.fits'), '--debug'], { cwd: inDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\s+at /m);
    expect(r.stderr).toMatch(/lsst-quick: error: bitpix7\.fits, HDU 0: invalid BITPIX 7/);
  });
});
