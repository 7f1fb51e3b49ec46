/**
 * Acceptance of quick mode against source-extractor 2.25, run with the same settings on real images:
 * detection completeness both ways, positions, isophotal/aperture/Kron fluxes, and the background map.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, coerce, PARAMS } from '../src/pipeline/config.js';
import { runQuick } from '../src/quick/run.js';
import { astropyImage, astropyTable, hasAstropy, hasSextractor, matchXY, runSextractor } from './helpers/oracle.js';
import { median } from './helpers/stats.js';

const SHARED = path.resolve(__dirname, '../../shared/data/real');
const hasShared = existsSync(SHARED);
if (!hasShared) console.warn('SKIP quick-vs-sextractor: ../shared/data is absent');
if (!hasSextractor || !hasAstropy) console.warn('SKIP quick-vs-sextractor: source-extractor or astropy missing');

const PARAMS_LIST = ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'XWIN_IMAGE', 'YWIN_IMAGE', 'FLUX_ISO', 'FLUXERR_ISO', 'FLUX_APER(3)', 'FLUXERR_APER(3)', 'FLUX_AUTO', 'FLUXERR_AUTO', 'KRON_RADIUS', 'FLAGS'];

interface Case {
  name: string;
  file: string;
  sex: Record<string, string>;
  ours: Record<string, unknown>;
}
const CASES: Case[] = [
  { name: 'sep/image.fits', file: 'sep/image.fits', sex: {}, ours: {} },
  {
    name: 'sextractor/galaxies.fits (+weight)',
    file: 'sextractor/galaxies.fits',
    sex: { WEIGHT_TYPE: 'MAP_WEIGHT', WEIGHT_IMAGE: path.join(SHARED, 'sextractor/galaxies.weight.fits') },
    ours: { WEIGHT_TYPE: 'map_weight', WEIGHT_IMAGE: path.join(SHARED, 'sextractor/galaxies.weight.fits') },
  },
  { name: 'photutils/M6707HH.fits', file: 'photutils/M6707HH.fits', sex: {}, ours: {} },
  { name: 'astropy/M13_blue_0001.fits', file: 'astropy/M13_blue_0001.fits', sex: {}, ours: {} },
];

const frac = (a: number[], f: (v: number) => boolean) => a.filter(f).length / Math.max(1, a.length);

const table: string[] = [];

describe.skipIf(!hasShared || !hasSextractor || !hasAstropy)('lsst-quick against source-extractor', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qvs-'));
  const common = { PHOT_APERTURES: '5,10,20', GAIN: '4.0' };

  it.each(CASES)('$name', async (cs) => {
    const img = path.join(SHARED, cs.file);
    const sex = runSextractor(img, PARAMS_LIST, { ...common, ...cs.sex }, ['BACKGROUND']);
    const config = defaultConfig();
    const set = (k: string, v: unknown) => (config[k] = coerce(PARAMS.find((p) => p.key === k)!, v, 'test'));
    set('PHOT_APERTURES', '5,10,20');
    set('GAIN', 4.0);
    for (const [k, v] of Object.entries(cs.ours)) set(k, v);
    set('CHECKIMAGE_TYPE', 'background');
    const out = path.join(tmp, `${path.basename(cs.file)}.cat.fits`);
    set('CATALOG_NAME', out);
    set('CHECKIMAGE_NAME', path.join(tmp, path.basename(cs.file).replace(/\.fits$/, '')));
    const paramFile = path.join(tmp, 'p.param');
    writeFileSync(paramFile, PARAMS_LIST.join('\n'));
    set('PARAMETERS_NAME', paramFile);
    await runQuick({ input: img, config });
    const ours = astropyTable(out, 1).columns as Record<string, number[]>;
    const S = sex.columns as Record<string, number[]>;

    // completeness both ways for SNR > 10 objects
    const snr = (c: Record<string, number[]>, i: number) => c.FLUX_ISO[i] / c.FLUXERR_ISO[i];
    const sIdx = S.X_IMAGE.map((_, i) => i).filter((i) => snr(S, i) > 10);
    const oIdx = ours.X_IMAGE.map((_, i) => i).filter((i) => snr(ours, i) > 10);
    const m1 = matchXY(sIdx.map((i) => S.X_IMAGE[i]), sIdx.map((i) => S.Y_IMAGE[i]), ours.X_IMAGE, ours.Y_IMAGE, 1);
    const m2 = matchXY(oIdx.map((i) => ours.X_IMAGE[i]), oIdx.map((i) => ours.Y_IMAGE[i]), S.X_IMAGE, S.Y_IMAGE, 1);
    const sexMatched = frac([...m1], (j) => j >= 0);
    const oursMatched = frac([...m2], (j) => j >= 0);

    // matched isolated objects (FLAGS 0 in both)
    const dx: number[] = [], rIso: number[] = [], rAper: number[] = [], rAuto: number[] = [];
    sIdx.forEach((i, k) => {
      const j = m1[k];
      if (j < 0 || S.FLAGS[i] !== 0 || ours.FLAGS[j] !== 0) return;
      dx.push(Math.abs(S.X_IMAGE[i] - ours.X_IMAGE[j]));
      rIso.push(ours.FLUX_ISO[j] / S.FLUX_ISO[i]);
      for (let a = 0; a < 3; a++) rAper.push((ours.FLUX_APER as unknown as number[][])[j][a] / (S.FLUX_APER as unknown as number[][])[i][a]);
      rAuto.push(ours.FLUX_AUTO[j] / S.FLUX_AUTO[i]);
    });
    const sb = astropyImage(sex.checkImages.BACKGROUND);
    const ob = astropyImage(path.join(tmp, `${path.basename(cs.file).replace(/\.fits$/, '')}.background.fits`));
    let bgMax = 0;
    for (let i = 0; i < sb.data.length; i++) bgMax = Math.max(bgMax, Math.abs(ob.data[i] - sb.data[i]) / Math.abs(sb.data[i]));

    const row = {
      image: cs.name,
      sex: S.NUMBER.length,
      ours: ours.NUMBER.length,
      sexMatched,
      oursMatched,
      isolated: dx.length,
      dxMed: median(dx),
      isoMed: median(rIso) - 1,
      iso2pc: frac(rIso, (r) => Math.abs(r - 1) < 0.02),
      aperMed: median(rAper) - 1,
      aper2pc: frac(rAper, (r) => Math.abs(r - 1) < 0.02),
      autoMed: median(rAuto) - 1,
      bgMax,
    };
    table.push(
      `| ${row.image} | ${row.sex} | ${row.ours} | ${(100 * sexMatched).toFixed(1)}% | ${(100 * oursMatched).toFixed(1)}% | ${row.isolated} | ${row.dxMed.toFixed(4)} | ${(100 * row.isoMed).toFixed(2)}% / ${(100 * row.iso2pc).toFixed(0)}% | ${(100 * row.aperMed).toFixed(2)}% / ${(100 * row.aper2pc).toFixed(0)}% | ${(100 * row.autoMed).toFixed(2)}% | ${(100 * bgMax).toFixed(3)}% |`,
    );
    console.log(JSON.stringify(row));
    expect(sexMatched).toBeGreaterThanOrEqual(0.97);
    expect(oursMatched).toBeGreaterThanOrEqual(0.97);
    expect(row.dxMed).toBeLessThan(0.01);
    expect(Math.abs(row.isoMed)).toBeLessThan(0.005);
    expect(row.iso2pc).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(row.aperMed)).toBeLessThan(0.005);
    expect(row.aper2pc).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(row.autoMed)).toBeLessThan(0.02);
    expect(bgMax).toBeLessThan(0.005);
  });

  it('prints the README table', () => {
    console.log(
      ['| image | SExtractor objects | ours | SEx matched (SNR>10) | ours matched | isolated | median dX (px) | FLUX_ISO median / within 2% | FLUX_APER median / within 2% | FLUX_AUTO median | background max diff |', '|---|---|---|---|---|---|---|---|---|---|---|', ...table].join('\n'),
    );
  });
});
