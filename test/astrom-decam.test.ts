/**
 * Real data: the DECam N2 cutout (245 x 251 pixels, z band) with its Gaia chunks. The header's TPV solution
 * (the community pipeline's fit over the whole CCD) is perturbed by 30 arcsec and 0.5 degree in several
 * directions; detection, pattern matching (only three Gaia stars fall on the cutout: triangles) and the refit
 * (a similarity about the perturbed solution, the richest model three stars support) must give back the header
 * solution within 0.1 arcsec over the cutout. Oracles: astropy's all_pix2world of the header at the corners and
 * centre (real/MANIFEST.json), and on a dense grid when /usr/bin/python3 has astropy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ccdPipeline, type CcdResult } from '../src/pipeline/ccd.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { runSingle } from '../src/pipeline/single.js';
import { FitsFile } from '../src/fits/index.js';
import { angularDistance, celestialWcs, Wcs } from '../src/astrometry/wcs.js';
import { readRefCatalogs, type RefCatalog } from '../src/astrometry/refcat.js';
import { julianEpoch, solveCcdAstrometry, sourcesFromCatalog } from '../src/astrometry/fit-ccd.js';
import { deprojectPoint, projectPoint } from '../src/astrometry/match-plane.js';
import { hasAstropy, runPython, warnNoAstropy } from './helpers/astropy.js';
import { hasShared, loadManifest, sharedPath, warnNoShared } from './helpers/shared.js';

warnNoShared('the DECam N2 astrometric refit');
if (hasShared) warnNoAstropy('the dense-grid astropy comparison of the DECam refit (the MANIFEST corners are still checked)');

const REL = 'decam/c4d_170316_062107_ooi_z_ls9.N2.fits';
const N2 = sharedPath(`real/${REL}`);
const CHUNKS = ['chunk-03458.fits', 'chunk-03459.fits', 'chunk-03586.fits'].map((f) => sharedPath(`real/decam/${f}`));
const ARCSEC = 1 / 3600;
const CENTRE: [number, number] = [123, 126];

/**
 * The header solution rotated by `rotDeg` (CD matrix turned) and shifted so that the cutout centre moves by
 * 30 arcsec towards position angle `dirDeg` (east of north... here: from +xi towards +eta).
 */
function perturb(w: Wcs, dirDeg: number, rotDeg: number): Wcs {
  const p = structuredClone(w.params);
  const t = (rotDeg * Math.PI) / 180;
  const [a, b, c, d] = p.cd;
  p.cd = [Math.cos(t) * a - Math.sin(t) * c, Math.cos(t) * b - Math.sin(t) * d, Math.sin(t) * a + Math.cos(t) * c, Math.sin(t) * b + Math.cos(t) * d];
  const [r0, d0] = w.pixToSky(...CENTRE);
  const q = new Float64Array(2);
  for (let it = 0; it < 3; it++) {
    const [r1, d1] = new Wcs(p).pixToSky(...CENTRE);
    projectPoint(r1, d1, r0, d0, q);
    const dx = 30 * Math.cos((dirDeg * Math.PI) / 180) - q[0];
    const dy = 30 * Math.sin((dirDeg * Math.PI) / 180) - q[1];
    const [ra, dec] = deprojectPoint(dx, dy, p.crval[0], p.crval[1]);
    p.crval = [ra, dec];
  }
  return new Wcs(p);
}

describe.skipIf(!hasShared)('DECam N2: refit from a perturbed header WCS', () => {
  let run: CcdResult;
  let header: Wcs;
  let epoch: number;
  let refcat: RefCatalog;
  let grid: { pix: [number, number][]; sky: [number, number][] } | undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'astrom-decam-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  beforeAll(async () => {
    run = await runSingle(ccdPipeline, 'decam', 0, { input: { image: { file: N2, hdu: 1 } }, config: defaultConfig() });
    const f = FitsFile.open(N2);
    header = celestialWcs(f.hdus[1].header)!;
    epoch = julianEpoch(f.hdus[0].header.getNumber('MJD-OBS')!);
    f.close();
    refcat = readRefCatalogs(CHUNKS);
    if (hasAstropy) {
      const pix: [number, number][] = [];
      for (let j = 0; j <= 10; j++) for (let i = 0; i <= 10; i++) pix.push([0.5 + 24.5 * i, 0.5 + 25.1 * j]);
      const file = path.join(tmp, 'pix.json');
      fs.writeFileSync(file, JSON.stringify(pix));
      const code = [
        'import json, sys, warnings',
        'from astropy.io import fits',
        'from astropy.wcs import WCS',
        'warnings.simplefilter("ignore")',
        'w = WCS(fits.getheader(sys.argv[1], 1))',
        'sky = w.all_pix2world(json.load(open(sys.argv[2])), 1)',
        'print(json.dumps(sky.tolist()))',
      ].join('\n');
      grid = { pix, sky: JSON.parse(runPython(code, [N2, file])) as [number, number][] };
    }
  }, 120_000);

  const cases: [number, number][] = [
    [0, 0.5],
    [90, -0.5],
    [180, 0.5],
    [270, -0.5],
    [45, -0.5],
    [225, 0.5],
  ];
  it.each(cases)('30 arcsec towards %d deg and %d deg of rotation: refit within 0.1 arcsec of the header TPV solution', (dir, rot) => {
    const start = perturb(header, dir, rot);
    const oracle = loadManifest()[REL].find((h) => h.index === 1)!.wcs!;
    // the starting point is off by 30 arcsec at the centre and more at the corners
    let startMin = Infinity;
    oracle.pixel_1based.forEach(([x, y], k) => {
      const [ra, dec] = start.pixToSky(x, y);
      startMin = Math.min(startMin, angularDistance(ra, dec, oracle.world_deg[k][0], oracle.world_deg[k][1]) / ARCSEC);
    });
    expect(startMin).toBeGreaterThan(29);
    // three Gaia stars on the cutout: patterns are triangles, verified by all three
    const r = solveCcdAstrometry(sourcesFromCatalog(run.catalog), run.width, run.height, start, refcat, { epoch, minSpokes: 2, minMatches: 3 });
    expect(r.ok, r.reason).toBe(true);
    expect(r.model).toBe('similarity');
    expect(r.nUsed).toBe(3);
    expect(r.rms).toBeLessThan(0.05);
    let maxCorner = 0;
    oracle.pixel_1based.forEach(([x, y], k) => {
      const [ra, dec] = r.wcs.pixToSky(x, y);
      maxCorner = Math.max(maxCorner, angularDistance(ra, dec, oracle.world_deg[k][0], oracle.world_deg[k][1]) / ARCSEC);
    });
    expect(maxCorner).toBeLessThan(0.1);
    if (grid) {
      let maxGrid = 0;
      grid.pix.forEach(([x, y], k) => {
        const [ra, dec] = r.wcs.pixToSky(x, y);
        maxGrid = Math.max(maxGrid, angularDistance(ra, dec, grid!.sky[k][0], grid!.sky[k][1]) / ARCSEC);
      });
      expect(maxGrid).toBeLessThan(0.1);
      console.log(`perturbation ${dir} deg / ${rot} deg: refit rms ${(r.rms * 1000).toFixed(1)} mas; max difference from the header TPV solution ${(maxGrid * 1000).toFixed(1)} mas (grid), ${(maxCorner * 1000).toFixed(1)} mas (corners)`);
    }
  });

  it('without the refit (shift only) the rotation error would remain: the test discriminates', () => {
    const start = perturb(header, 0, 0.5);
    const [ra, dec] = start.pixToSky(1, 1);
    const [rb, db] = header.pixToSky(1, 1);
    const [rc, dc] = start.pixToSky(...CENTRE);
    const [rd, dd] = header.pixToSky(...CENTRE);
    // corner displacement minus centre displacement: the rotation alone moves the corners by > 0.3 arcsec
    const q = new Float64Array(2);
    const q2 = new Float64Array(2);
    projectPoint(ra, dec, rb, db, q);
    projectPoint(rc, dc, rd, dd, q2);
    expect(Math.hypot(q[0] - q2[0], q[1] - q2[1])).toBeGreaterThan(0.3);
  });
});
