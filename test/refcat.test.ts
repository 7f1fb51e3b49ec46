/**
 * Reference catalogues: the Gaia chunks of ../shared/data/real/decam (values, row counts, selections
 * and proper-motion propagation checked against astropy), CSV / tab / blank-separated text, FITS
 * tables written by astropy (unit conversion, table choice), and one-line errors for bad input.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { UserError } from '../src/util/errors.js';
import { FitsFile } from '../src/fits/index.js';
import { celestialWcs } from '../src/astrometry/wcs.js';
import {
  propagateToEpoch,
  readRefCatalog,
  readRefCatalogs,
  selectBox,
  selectCone,
  selectInImage,
  sortByMag,
  type RefCatOptions,
} from '../src/astrometry/refcat.js';
import { hasAstropy, runPythonJson, warnNoAstropy } from './helpers/astropy.js';
import { hasShared, sharedPath, warnNoShared } from './helpers/shared.js';

warnNoShared('reference catalog tests on the Gaia chunks');
warnNoAstropy('reference catalog comparisons with astropy');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'refcat-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CHUNKS = ['chunk-03458.fits', 'chunk-03459.fits', 'chunk-03586.fits'].map((f) => sharedPath(`real/decam/${f}`));
const N2 = sharedPath('real/decam/c4d_170316_062107_ooi_z_ls9.N2.fits');

/** Exact equality treating NaN as equal. */
function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]!) && Number.isNaN(b[i]!)))) return false;
  return true;
}

function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('no error thrown');
}

describe.skipIf(!hasShared || !hasAstropy)('Gaia chunks vs astropy', () => {
  const ref = runPythonJson<{ n: number[]; ra: number[]; dec: number[]; mag: number[]; pmra: number[]; pmdec: number[]; epoch: number[] }>(
    `
import json, sys, numpy as np
from astropy.io import fits
cols = {k: [] for k in ('ra', 'dec', 'phot_g_mean_mag', 'pmra', 'pmdec', 'ref_epoch')}
n = []
for f in sys.argv[1:]:
    t = fits.open(f)[1].data
    n.append(len(t))
    for k in cols: cols[k] += [float(v) for v in np.asarray(t[k], dtype=float)]
print(json.dumps({'n': n, 'ra': cols['ra'], 'dec': cols['dec'], 'mag': cols['phot_g_mean_mag'], 'pmra': cols['pmra'], 'pmdec': cols['pmdec'], 'epoch': cols['ref_epoch']}))
`,
    CHUNKS,
  );
  const all = readRefCatalogs(CHUNKS);

  it('row counts per chunk and detected columns', () => {
    expect(ref.n).toEqual([1, 0, 148]);
    expect(CHUNKS.map((f) => readRefCatalog(f).n)).toEqual(ref.n);
    expect(all.n).toBe(149);
    expect(all.columns).toEqual({ ra: 'ra', dec: 'dec', mag: 'phot_g_mean_mag', pmra: 'pmra', pmdec: 'pmdec', epoch: 'ref_epoch' });
  });

  it('every value equals astropy (chunk order, then row order; NaN proper motions kept)', () => {
    expect(sameArray(all.ra, ref.ra)).toBe(true);
    expect(sameArray(all.dec, ref.dec)).toBe(true);
    expect(sameArray(all.mag, ref.mag)).toBe(true);
    expect(sameArray(all.pmra!, ref.pmra)).toBe(true);
    expect(sameArray(all.pmdec!, ref.pmdec)).toBe(true);
    expect(sameArray(all.epoch!, ref.epoch)).toBe(true);
    expect(ref.pmra.some(Number.isNaN)).toBe(true);
    expect(all.ra[0]).toBe(186.63146510466373);
  });

  it('cone and box selections equal astropy/numpy masks, in catalogue order', () => {
    const sel = runPythonJson<{ cone: number[]; box: number[]; boxWrap: number[] }>(
      `
import json, sys, numpy as np
from astropy.coordinates import SkyCoord
import astropy.units as u
ra = np.array(json.loads(sys.argv[1])); dec = np.array(json.loads(sys.argv[2]))
sep = SkyCoord(ra * u.deg, dec * u.deg).separation(SkyCoord(186.75 * u.deg, 25.5 * u.deg)).deg
box = (ra >= 186.7) & (ra <= 186.8) & (dec >= 25.4) & (dec <= 25.6)
print(json.dumps({'cone': np.nonzero(sep <= 0.08)[0].tolist(), 'box': np.nonzero(box)[0].tolist(), 'boxWrap': np.nonzero((ra >= 186.85) | (ra <= 186.7))[0].tolist()}))
`,
      [JSON.stringify(Array.from(all.ra)), JSON.stringify(Array.from(all.dec))],
    );
    const cone = selectCone(all, 186.75, 25.5, 0.08);
    expect(sel.cone.length).toBeGreaterThan(20);
    expect(Array.from(cone.ra)).toEqual(sel.cone.map((i) => all.ra[i]));
    expect(Array.from(cone.mag)).toEqual(sel.cone.map((i) => all.mag[i]));
    const box = selectBox(all, 186.7, 186.8, 25.4, 25.6);
    expect(Array.from(box.ra)).toEqual(sel.box.map((i) => all.ra[i]));
    // raMin > raMax: the box wraps through RA = 0 (here: everything outside 186.7..186.85)
    const wrap = selectBox(all, 186.85, 186.7, -90, 90);
    expect(Array.from(wrap.ra)).toEqual(sel.boxWrap.map((i) => all.ra[i]));
  });

  it('sources on the DECam N2 cutout match astropy world2pix, with pixel positions', () => {
    const f = FitsFile.open(N2);
    const wcs = celestialWcs(f.hdu(1).header)!;
    f.close();
    const on = selectInImage(all, wcs, 5);
    const px = runPythonJson<{ idx: number[]; x: number[]; y: number[] }>(
      `
import json, sys, numpy as np, warnings
warnings.simplefilter('ignore')
from astropy.io import fits
from astropy.wcs import WCS
w = WCS(fits.open(sys.argv[1])[1].header)
ra = np.array(json.loads(sys.argv[2])); dec = np.array(json.loads(sys.argv[3]))
x, y = w.all_world2pix(ra, dec, 1, tolerance=1e-10)
m = (x >= -4.5) & (x <= 245 + 5.5) & (y >= -4.5) & (y <= 251 + 5.5)
print(json.dumps({'idx': np.nonzero(m)[0].tolist(), 'x': x[m].tolist(), 'y': y[m].tolist()}))
`,
      [N2, JSON.stringify(Array.from(all.ra)), JSON.stringify(Array.from(all.dec))],
    );
    expect(px.idx.length).toBeGreaterThan(0);
    expect(Array.from(on.cat.ra)).toEqual(px.idx.map((i) => all.ra[i]));
    for (let k = 0; k < px.idx.length; k++) {
      expect(Math.abs(on.x[k]! - px.x[k]!)).toBeLessThan(1e-6);
      expect(Math.abs(on.y[k]! - px.y[k]!)).toBeLessThan(1e-6);
    }
  });

  it('proper-motion propagation to 2025.5 agrees with astropy apply_space_motion within 1e-5 mas', () => {
    const moved = propagateToEpoch(all, 2025.5);
    const ast = runPythonJson<{ ra: number[]; dec: number[] }>(
      `
import json, sys, numpy as np, warnings
warnings.simplefilter('ignore')
from astropy.coordinates import SkyCoord
from astropy.time import Time
import astropy.units as u
a = [np.array(json.loads(s), dtype=float) for s in sys.argv[1:6]]
ra, dec, pmra, pmdec, ep = a
ok = np.isfinite(pmra)
# Rectilinear space motion at a fixed 10 pc (small velocities: negligible light-time terms), no radial
# velocity. Without a distance ERFA assumes an extreme one whose light-time terms shift positions by ~0.05 mas.
c = SkyCoord(ra=ra[ok]*u.deg, dec=dec[ok]*u.deg, pm_ra_cosdec=pmra[ok]*u.mas/u.yr, pm_dec=pmdec[ok]*u.mas/u.yr,
             distance=10*u.pc, radial_velocity=0*u.km/u.s, obstime=Time(ep[ok], format='jyear'))
c2 = c.apply_space_motion(new_obstime=Time(2025.5, format='jyear'))
r = ra.copy(); d = dec.copy(); r[ok] = c2.ra.deg; d[ok] = c2.dec.deg
print(json.dumps({'ra': r.tolist(), 'dec': d.tolist()}))
`,
      [all.ra, all.dec, all.pmra!, all.pmdec!, all.epoch!].map((a) => JSON.stringify(Array.from(a, (v) => (Number.isNaN(v) ? null : v)))),
    );
    let worst = 0;
    let movedMax = 0;
    for (let i = 0; i < all.n; i++) {
      const dra = (moved.ra[i]! - ast.ra[i]!) * Math.cos((all.dec[i]! * Math.PI) / 180);
      worst = Math.max(worst, Math.hypot(dra, moved.dec[i]! - ast.dec[i]!) * 3.6e6);
      movedMax = Math.max(movedMax, Math.abs(moved.dec[i]! - all.dec[i]!) * 3.6e6);
    }
    expect(movedMax).toBeGreaterThan(100); // the test moves stars by > 0.1 arcsec
    console.log(`proper motions: largest difference from astropy ${worst.toExponential(2)} mas (stars moved up to ${movedMax.toFixed(0)} mas)`);
    expect(worst).toBeLessThan(1e-5);
    expect(moved.epoch![0]).toBe(2025.5);
  });

  it('sortByMag: brightest first, stable, NaN last (numpy stable argsort)', () => {
    const sorted = sortByMag(all);
    const order = runPythonJson<number[]>(
      `import json, sys, numpy as np; m = np.array(json.loads(sys.argv[1]), dtype=float); print(json.dumps(np.argsort(m, kind='stable').tolist()))`,
      [JSON.stringify(Array.from(all.mag, (v) => (Number.isNaN(v) ? null : v)))],
    );
    expect(Array.from(sorted.ra)).toEqual(order.map((i) => all.ra[i]));
  });
});

describe('text catalogues', () => {
  const write = (name: string, text: string): string => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it('CSV with VizieR-style names, comments, quotes and missing values', () => {
    const f = write(
      'vizier.csv',
      '# comment line\n"RAJ2000","DEJ2000","Vmag","pmRA","pmDE","name"\n10.5,-20.25,12.5,3.5,-1.25,"a, b"\n\n# another comment\n359.99,89.9,,NaN,null,"c ""d"""\n',
    );
    const c = readRefCatalog(f, { epoch: 2000 });
    expect(c.n).toBe(2);
    expect(c.columns).toEqual({ ra: 'RAJ2000', dec: 'DEJ2000', mag: 'Vmag', pmra: 'pmRA', pmdec: 'pmDE' });
    expect(Array.from(c.ra)).toEqual([10.5, 359.99]);
    expect(Array.from(c.dec)).toEqual([-20.25, 89.9]);
    expect(Array.from(c.mag)).toEqual([12.5, NaN]);
    expect(Array.from(c.pmra!)).toEqual([3.5, NaN]);
    expect(Array.from(c.epoch!)).toEqual([2000, 2000]);
    // no proper motion: position unchanged
    expect(propagateToEpoch(c, 2020).ra[1]).toBe(359.99);
  });

  it('tab- and blank-separated files, explicit column names', () => {
    const t = readRefCatalog(write('t.tsv', 'alpha_col\tdelta_col\tK\n1\t2\t3\n4\t5\t6\n'), { ra: 'ALPHA_COL', dec: 'delta_col', mag: 'k' });
    expect([Array.from(t.ra), Array.from(t.dec), Array.from(t.mag)]).toEqual([[1, 4], [2, 5], [3, 6]]);
    const b = readRefCatalog(write('b.txt', 'ra dec gmag\n  1.5   2.5  17.0\n3.5 -4.5 18.0\n'));
    expect([Array.from(b.ra), Array.from(b.dec), Array.from(b.mag)]).toEqual([[1.5, 3.5], [2.5, -4.5], [17, 18]]);
    expect(b.pmra).toBeUndefined();
  });

  it.each<[string, string, RefCatOptions, RegExp]>([
    ['missing dec', 'ra,mag\n1,2\n', {}, /nodec\.csv: reference catalog has no declination column \(looked for dec, de, /],
    ['missing magnitude', 'ra,dec,flux\n1,2,3\n', {}, /reference catalog has no magnitude column/],
    ['explicit column absent', 'ra,dec,mag\n1,2,3\n', { mag: 'rmag' }, /no column 'rmag' for the magnitude \(columns: ra, dec, mag\)/],
    ['bad number', 'ra,dec,mag\n1,2,3\n1,x2,3\n', {}, /line 3: column 'dec': 'x2' is not a number/],
    ['short row', 'ra,dec,mag\n1,2\n', {}, /line 2: 2 fields, the header has 3/],
    ['pmra without pmdec', 'ra,dec,mag,pmra\n1,2,3,4\n', {}, /has 'pmra' but no proper motion in Dec column/],
    ['declination in radians', 'ra,dec,mag\n1,2,3\n1,95,3\n', {}, /row 2: declination 95 is outside \[-90, 90\]/],
    ['empty file', '# nothing\n\n', {}, /empty catalog: no header line/],
  ])('%s -> one-line UserError naming the file', (name, text, opts, re) => {
    const file = write(name === 'missing dec' ? 'nodec.csv' : `${name.replace(/\W+/g, '_')}.csv`, text);
    const msg = userError(() => readRefCatalog(file, opts));
    expect(msg).toMatch(re);
    expect(msg.startsWith(file)).toBe(true);
  });

  it('gzip-compressed CSV', () => {
    const f = path.join(tmp, 'cat.csv.gz');
    fs.writeFileSync(f, zlib.gzipSync('ra,dec,mag\n1.25,-3.5,20\n'));
    const c = readRefCatalog(f);
    expect([c.n, c.ra[0], c.dec[0], c.mag[0]]).toEqual([1, 1.25, -3.5, 20]);
  });

  it('proper motions without an epoch cannot be propagated', () => {
    const c = readRefCatalog(write('noepoch.csv', 'ra,dec,mag,pmra,pmdec\n1,2,3,4,5\n'));
    expect(userError(() => propagateToEpoch(c, 2020))).toMatch(/proper motions but no epoch/);
  });

  it('a file that does not exist', () => {
    expect(userError(() => readRefCatalog(path.join(tmp, 'nope.csv')))).toMatch(/nope\.csv: cannot read: ENOENT/);
  });
});

describe.skipIf(!hasAstropy)('FITS tables written by astropy', () => {
  const file = path.join(tmp, 'ldac-like.fits');
  const noTable = path.join(tmp, 'image.fits');
  runPythonJson(
    `
import json, sys, numpy as np
from astropy.io import fits
from astropy.table import Table
meta = fits.BinTableHDU.from_columns([fits.Column(name='FIELD_HEADER_CARD', format='80A', array=np.array(['x'] * 3))], name='LDAC_IMHEAD')
t = fits.BinTableHDU.from_columns([
    fits.Column(name='X_WORLD', format='E', unit='rad', array=np.radians([10.0, 20.0, 30.0]).astype(np.float32)),
    fits.Column(name='Y_WORLD', format='D', unit='deg', array=[-1.0, 0.0, 1.0]),
    fits.Column(name='MAG_AUTO', format='J', array=[15, 16, 17]),
    fits.Column(name='VEC', format='2D', array=np.zeros((3, 2))),
], name='LDAC_OBJECTS')
fits.HDUList([fits.PrimaryHDU(), meta, t]).writeto(sys.argv[1], overwrite=True)
fits.PrimaryHDU(np.zeros((4, 4), dtype=np.float32)).writeto(sys.argv[2], overwrite=True)
print('null')
`,
    [file, noTable],
  );

  it('finds the table with coordinates, converts radians, reads integer magnitudes', () => {
    const c = readRefCatalog(file);
    expect(c.columns).toEqual({ ra: 'X_WORLD', dec: 'Y_WORLD', mag: 'MAG_AUTO' });
    const ra = Array.from(c.ra);
    [10, 20, 30].forEach((v, i) => expect(ra[i]).toBeCloseTo(v, 4));
    expect(Array.from(c.dec)).toEqual([-1, 0, 1]);
    expect(Array.from(c.mag)).toEqual([15, 16, 17]);
    expect(readRefCatalog(file, { hdu: 'LDAC_OBJECTS' }).n).toBe(3);
    const gz = `${file}.gz`;
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(file)));
    expect(Array.from(readRefCatalog(gz).mag)).toEqual([15, 16, 17]);
  });

  it('bad FITS input gives one-line errors naming the file', () => {
    expect(userError(() => readRefCatalog(file, { hdu: 1 }))).toMatch(/ldac-like\.fits: reference catalog has no right ascension column/);
    expect(userError(() => readRefCatalog(file, { mag: 'VEC' }))).toMatch(/column 'VEC' is a vector column/);
    expect(userError(() => readRefCatalog(noTable))).toMatch(/image\.fits: no binary table in the file/);
    expect(userError(() => readRefCatalog(noTable, { hdu: 0 }))).toMatch(/HDU 0 is a image, not a binary table/);
    expect(userError(() => readRefCatalog(file, { hdu: 7 }))).toMatch(/ldac-like\.fits: no HDU 7/);
    const truncated = path.join(tmp, 'truncated.fits');
    fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, 4000));
    expect(userError(() => readRefCatalog(truncated))).toMatch(/^\S*truncated\.fits: /);
  });
});
