/** ALPHA_J2000/DELTA_J2000 of lsst-quick catalogs against astropy's all_pix2world at X_IMAGE/Y_IMAGE. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../src/pipeline/config.js';
import { runQuick } from '../src/quick/run.js';
import { hasAstropy, runPython } from './helpers/oracle.js';

const SHARED = path.resolve(__dirname, '../../shared/data/real');
const ok = existsSync(SHARED) && hasAstropy;
if (!ok) console.warn('SKIP quick-sky: ../shared/data or astropy missing');

describe.skipIf(!ok)('sky coordinates in quick catalogs', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sky-'));
  it.each(['photutils/M6707HH.fits', 'decam/c4d_170316_062107_ooi_z_ls9.N2.fits', 'mosaic3/k4m_160319_075112_ooi_zd_ls9.CCD3.fits'])('%s', async (f) => {
    const out = path.join(tmp, `${path.basename(f)}.cat.fits`);
    const config = { ...defaultConfig(), CATALOG_NAME: out };
    await runQuick({ input: path.join(SHARED, f), config });
    const r = JSON.parse(
      runPython(
        `import sys, json, warnings, numpy as np
warnings.simplefilter('ignore')
from astropy.io import fits
from astropy.wcs import WCS
t = fits.open(sys.argv[1])[1].data
f = fits.open(sys.argv[2])
h = [x for x in f if x.is_image and x.data is not None][0].header
ra, dec = WCS(h).all_pix2world(t['X_IMAGE'].astype(float), t['Y_IMAGE'].astype(float), 1)
d = np.hypot((ra - t['ALPHA_J2000']) * np.cos(np.radians(dec)), dec - t['DELTA_J2000']) * 3.6e6
print(json.dumps({'n': len(t), 'max_mas': float(d.max())}))`,
        [out, path.join(SHARED, f)],
      ),
    );
    expect(r.n).toBeGreaterThan(5);
    expect(r.max_mas).toBeLessThan(1);
  });
});
