/**
 * lsst-quick --refcat on a simulated full-size LSSTCam CCD (approximate raw WCS, distortion, reference
 * catalog with noise): the refit sky positions and the zero point against simulation truth.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FitsFile, readTableHdu } from '../src/fits/index.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { runQuick } from '../src/quick/run.js';
import { matchXY } from './helpers/oracle.js';

const BIN = path.resolve(__dirname, '../bin/lsst-prod.js');
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
function table(file: string): Record<string, ArrayLike<number>> {
  const f = FitsFile.open(file);
  try {
    const t = readTableHdu(f, 1);
    return Object.fromEntries(t.columns.map((c) => [c.name, c.data as ArrayLike<number>]));
  } finally {
    f.close();
  }
}

describe('quick-mode astrometric and photometric calibration against truth', () => {
  it('refits the WCS and the zero point of a 4k LSSTCam CCD', async () => {
    const repo = mkdtempSync(path.join(os.tmpdir(), 'qcal-'));
    const sim = spawnSync(process.execPath, [BIN, 'simulate', '--camera', 'lsstcam', '--visit', '5', '--repo', repo, '--detectors', '40', '--seed', '3'], { encoding: 'utf8', timeout: 300_000 });
    expect(sim.status, sim.stderr).toBe(0);
    const raw = path.join(repo, 'raw/5/raw_5_040.fits');
    const cat = path.join(repo, 'cat.fits');
    const config = { ...defaultConfig(), CATALOG_NAME: cat, REFCAT_NAME: path.join(repo, 'truth/5/refcat.fits'), PHOT_APERTURES: [12, 40] };
    const s = await runQuick({ input: raw, config });
    const h = s.hdus[0];
    expect(h.astrometry).toBe(true);
    const truthZp = JSON.parse(readFileSync(path.join(repo, 'truth/5/visit.json'), 'utf8')).photometry.zeroPoint as number;
    const ours = table(cat);
    const truth = table(path.join(repo, 'truth/5/truth_5_040.fits'));
    const m = matchXY(truth.x, truth.y, ours.XWIN_IMAGE, ours.YWIN_IMAGE, 1);
    const dsky: number[] = [];
    for (let k = 0; k < truth.x.length; k++) {
      const j = m[k];
      if (j < 0 || (truth.type as unknown as string[])[k].trim() !== 'star' || ours.FLAGS[j] !== 0 || ours.SNR_WIN[j] < 50) continue;
      const cosd = Math.cos((truth.dec[k] * Math.PI) / 180);
      dsky.push(Math.hypot((ours.ALPHAWIN_J2000[j] - truth.ra[k]) * cosd, ours.DELTAWIN_J2000[j] - truth.dec[k]) * 3600);
    }
    console.log(JSON.stringify({ stars: dsky.length, medianSkyResidualArcsec: median(dsky), astromRms: h.astromRms, refStars: h.refStars, zp: h.zeroPoint, truthZp, apcorr: h.apcorr }));
    expect(dsky.length, `${truth.x.length} truth objects, ${[...m].filter((j) => j >= 0).length} matched`).toBeGreaterThan(30);
    // 0.2"/px: 0.02 px of WCS error is 4 mas; the median includes centroid noise of SNR > 50 stars
    expect(median(dsky)).toBeLessThan(0.02);
    expect(Math.abs(h.zeroPoint! - truthZp)).toBeLessThan(0.01);
  }, 300_000);
});
