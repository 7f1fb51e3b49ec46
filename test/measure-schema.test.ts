/**
 * The catalog schema (src/catalog/schema.ts) against what source-extractor 2.25 itself writes: for every column
 * the measurement fills, the FITS_LDAC catalog's TFORM, TUNIT, TDISP and TTYPE comment (its description) must be
 * the schema's. Also the schema's own rules: vector widths, array types, .param parsing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocColumn, CATALOG_SCHEMA, columnSpec, parseParamList, printfToTdisp, vectorWidth } from '../src/catalog/schema.js';
import { MEASURED_COLUMNS } from '../src/measure/index.js';
import { hasAstropy, hasSextractor, REPO, runPython, runSextractor } from './helpers/oracle.js';

const SHARED = path.resolve(REPO, '../shared/data');
const image = path.join(SHARED, 'real/sep/image.fits');
const canRun = existsSync(image) && hasSextractor && hasAstropy;
if (!canRun) console.warn('measure-schema.test: ../shared/data, source-extractor or astropy missing: the LDAC header comparison is SKIPPED');

describe('catalog schema', () => {
  it('lists every measured column once, with a valid type, unit and display format', () => {
    const names = CATALOG_SCHEMA.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of ['ALPHA_J2000', 'DELTA_J2000', 'EXT_NUMBER']) expect(columnSpec(n)?.source).not.toBe('measure');
    expect(columnSpec('alpha_j2000')?.unit).toBe('deg');
    for (const c of CATALOG_SCHEMA) {
      expect(['J', 'I', 'E', 'D']).toContain(c.tform);
      expect(c.description.length).toBeGreaterThan(5);
      expect(c.tdisp).toBe(printfToTdisp(c.format));
    }
    expect(MEASURED_COLUMNS.length).toBeGreaterThan(60);
  });

  it('sizes vector columns and picks the array type from TFORM', () => {
    const sizes = { nApertures: 3, nFluxFrac: 2 };
    const aper = columnSpec('FLUX_APER')!;
    expect(vectorWidth(aper, sizes)).toBe(3);
    expect(vectorWidth(columnSpec('FLUX_RADIUS')!, sizes)).toBe(2);
    expect(vectorWidth(columnSpec('X_IMAGE')!, sizes)).toBe(1);
    expect(allocColumn(aper, 10, sizes)).toBeInstanceOf(Float32Array);
    expect(allocColumn(aper, 10, sizes).length).toBe(30);
    expect(allocColumn(columnSpec('XWIN_IMAGE')!, 4, sizes)).toBeInstanceOf(Float64Array);
    expect(allocColumn(columnSpec('FLAGS')!, 4, sizes)).toBeInstanceOf(Int32Array);
  });

  it('parses SExtractor .param lists and rejects unknown names', () => {
    const sel = parseParamList('NUMBER\n# comment\nX_IMAGE, Y_IMAGE  FLUX_APER(2)\n  mag_auto # trailing\n');
    expect(sel.map((s) => s.spec.name)).toEqual(['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'FLUX_APER', 'MAG_AUTO']);
    expect(sel[3].count).toBe(2);
    expect(() => parseParamList('NUMBER\nNO_SUCH_PARAM')).toThrow(/NO_SUCH_PARAM/);
    expect(() => parseParamList('X_IMAGE(3)')).toThrow(/not a vector/);
    expect(printfToTdisp('%+11.7f')).toBe('F11.7');
    expect(printfToTdisp('%10d')).toBe('I10');
    expect(printfToTdisp('%12.7g')).toBe('G12.7');
    expect(printfToTdisp('%18.10e')).toBe('E18.10');
  });
});

describe.skipIf(!canRun)("catalog schema vs source-extractor's FITS_LDAC output", () => {
  it('TFORM, TUNIT, TDISP and descriptions match for every measured column (and ALPHA/DELTA_J2000, EXT_NUMBER)', () => {
    const names = [...MEASURED_COLUMNS, 'EXT_NUMBER', 'ALPHA_J2000', 'DELTA_J2000', 'ALPHAWIN_J2000', 'DELTAWIN_J2000'];
    const params = names.map((n) => (columnSpec(n)!.vector === 'scalar' ? n : `${n}(3)`));
    // a check image is requested only to learn the run's cache directory (where cat.fits is)
    const run = runSextractor(image, params, { PHOT_APERTURES: '5,10,20', PHOT_FLUXFRAC: '0.2,0.5,0.8' }, ['SEGMENTATION']);
    const catFile = path.join(path.dirname(run.checkImages.SEGMENTATION), 'cat.fits');
    const cols: { name: string; format: string; unit: string | null; disp: string | null; comment: string }[] = JSON.parse(
      runPython(
        `import sys, json
from astropy.io import fits
h = fits.getheader(sys.argv[1], 'LDAC_OBJECTS')
print(json.dumps([{'name': h['TTYPE%d' % i], 'format': h['TFORM%d' % i], 'unit': h.get('TUNIT%d' % i), 'disp': h.get('TDISP%d' % i),
                   'comment': h.comments['TTYPE%d' % i]} for i in range(1, h['TFIELDS'] + 1)]))`,
        [catFile],
      ),
    );
    expect(cols.length).toBe(names.length);
    for (const c of cols) {
      const spec = columnSpec(c.name)!;
      const width = spec.vector === 'scalar' ? 1 : 3;
      expect(`${c.name} ${c.format}`).toBe(`${spec.name} ${width}${spec.tform}`);
      expect(`${c.name} ${c.unit ?? ''}`).toBe(`${spec.name} ${spec.unit}`);
      expect(`${c.name} ${c.disp}`).toBe(`${spec.name} ${spec.tdisp}`);
      // the TTYPE comment is the description, cut at the end of the 80-character card
      expect(c.comment.length, c.name).toBeGreaterThan(10);
      expect(`${c.name} ${spec.description.slice(0, c.comment.length)}`).toBe(`${c.name} ${c.comment}`);
    }
  });
});
