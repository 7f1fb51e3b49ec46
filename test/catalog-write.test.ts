import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeCatalog, type CatalogFormat, type HduCatalog } from '../src/catalog/write.js';
import { allocColumn, columnSpec, parseParamList } from '../src/catalog/schema.js';
import { Header } from '../src/fits/header.js';
import { hasAstropy, runPython } from './helpers/oracle.js';

// A two-HDU catalog with known values; astropy (independent) reads every format back.
function makeHdus(): HduCatalog[] {
  const sizes = { nApertures: 3, nFluxFrac: 1 };
  return [1, 2].map((ext) => {
    const n = ext === 1 ? 4 : 2;
    const cat: HduCatalog['catalog'] = {};
    for (const name of ['NUMBER', 'X_IMAGE', 'FLUX_APER', 'FLAGS', 'MAG_AUTO']) {
      const spec = columnSpec(name)!;
      const col = allocColumn(spec, n, sizes);
      for (let i = 0; i < col.length; i++) col[i] = name === 'NUMBER' ? Math.floor(i) + 1 : name === 'FLAGS' ? i % 3 : ext * 100 + i * 1.25 + 0.1;
      cat[name] = col;
    }
    const imageHeader = new Header().set('NAXIS1', 100).set('NAXIS2', 50).set('OBJECT', `ccd ${ext}`);
    return { extNumber: ext, catalog: cat, sizes, imageHeader };
  });
}

const readBack = `
import sys, json, warnings, numpy as np
warnings.simplefilter('error')  # a checksum mismatch is a warning in astropy: make it fail
from astropy.table import Table
from astropy.io import fits
fmt, f = sys.argv[1], sys.argv[2]
if fmt in ('fits', 'ldac'):
    out = {}
    with fits.open(f, checksum=True) as h:
        names = [x.name for x in h]
        tabs = [x for x in h if x.name in ('OBJECTS', 'LDAC_OBJECTS')]
        out['names'] = names
        out['rows'] = [len(t.data) for t in tabs]
        out['cols'] = tabs[0].columns.names
        out['flux_aper'] = np.asarray(tabs[0].data['FLUX_APER'], dtype=float).tolist()
        out['x'] = np.asarray(tabs[1].data['X_IMAGE'], dtype=float).tolist()
        if fmt == 'ldac':
            card = h['LDAC_IMHEAD'].data['Field Header Card'][0]
            hdr = fits.Header.fromstring(''.join(c.ljust(80) for c in card))  # astropy strips trailing blanks
            out['naxis1'] = hdr['NAXIS1']
            out['object'] = hdr['OBJECT']
        else:
            out['unit'] = tabs[0].columns['X_IMAGE'].unit
            out['ext'] = np.asarray(tabs[1].data['EXT_NUMBER']).tolist()
    print(json.dumps(out))
else:
    t = Table.read(f, format='ascii.ecsv' if fmt == 'ecsv' else 'ascii.csv')
    print(json.dumps({'cols': t.colnames, 'rows': [len(t)], 'x': [float(v) for v in t['X_IMAGE']],
        'flux_aper_2': [float(v) for v in t['FLUX_APER_2']], 'ext': [int(v) for v in t['EXT_NUMBER']],
        'unit': str(t['X_IMAGE'].unit) if t['X_IMAGE'].unit else None}))
`;

describe.skipIf(!hasAstropy)('catalog writers (read back by astropy)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cat-'));
  const hdus = makeHdus();
  const x2 = Array.from(hdus[1].catalog.X_IMAGE);

  it.each(['fits', 'ldac'] as CatalogFormat[])('%s', async (fmt) => {
    const f = path.join(dir, `c.${fmt}.fits`);
    await writeCatalog(f, fmt, hdus, { provenance: { SOFTWARE: 'lsst-pipe' } });
    const r = JSON.parse(runPython(readBack, [fmt, f]));
    expect(r.rows).toEqual([4, 2]);
    expect(r.x).toEqual(x2);
    expect(r.flux_aper[1]).toEqual(Array.from(hdus[0].catalog.FLUX_APER.slice(3, 6)).map((v) => Math.fround(v)));
    if (fmt === 'ldac') {
      expect(r.names).toEqual(['PRIMARY', 'LDAC_IMHEAD', 'LDAC_OBJECTS', 'LDAC_IMHEAD', 'LDAC_OBJECTS']);
      expect(r.naxis1).toBe(100);
      expect(r.object).toBe('ccd 1');
    } else {
      expect(r.cols[0]).toBe('EXT_NUMBER');
      expect(r.ext).toEqual([2, 2]);
      expect(r.unit).toBe('pixel');
    }
  });

  it.each(['csv', 'ecsv'] as CatalogFormat[])('%s', async (fmt) => {
    const f = path.join(dir, `c.${fmt}`);
    await writeCatalog(f, fmt, hdus, { select: parseParamList('X_IMAGE\nFLUX_APER(2)\nNUMBER') });
    const r = JSON.parse(runPython(readBack, [fmt, f]));
    expect(r.cols).toEqual(['EXT_NUMBER', 'X_IMAGE', 'FLUX_APER_1', 'FLUX_APER_2', 'NUMBER']);
    expect(r.rows).toEqual([6]);
    // float32 columns are printed with the shortest text that reads back as the same float32
    expect(r.x.slice(4).map(Math.fround)).toEqual(x2);
    expect(r.ext).toEqual([1, 1, 1, 1, 2, 2]);
    expect(Math.fround(r.flux_aper_2[0])).toBe(hdus[0].catalog.FLUX_APER[1]);
    if (fmt === 'ecsv') expect(r.unit).toBe('pix'); // astropy's canonical spelling of 'pixel'
  });

  it('parquet (read back by hyparquet)', async () => {
    const f = path.join(dir, 'c.parquet');
    await writeCatalog(f, 'parquet', hdus);
    const { parquetReadObjects } = await import('hyparquet');
    const b = readFileSync(f);
    const rows = await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
    expect(rows.length).toBe(6);
    expect(rows[5].X_IMAGE).toBe(x2[1]);
    expect(rows[0].FLUX_APER_3).toBe(Math.fround(hdus[0].catalog.FLUX_APER[2]));
    expect(rows[4].EXT_NUMBER).toBe(2);
    rmSync(dir, { recursive: true, force: true });
  });
});
