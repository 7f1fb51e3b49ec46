/** Our FITS_LDAC catalogs are read by SCAMP (Debian's scamp): detections loaded, field centre from LDAC_IMHEAD. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../src/pipeline/config.js';
import { runQuick } from '../src/quick/run.js';

const hasScamp = spawnSync('sh', ['-c', 'command -v scamp && command -v source-extractor']).status === 0;
if (!hasScamp) console.warn('SKIP catalog-ldac-scamp: scamp is not installed');
const SAMPLE = path.resolve(__dirname, '../data/samples/sim-ccd.fits');

describe.skipIf(!hasScamp)('FITS_LDAC read by scamp', () => {
  it('loads our detections and the image WCS', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ldac-'));
    const cat = path.join(dir, 'sample.ldac.fits');
    const s = await runQuick({ input: SAMPLE, config: { ...defaultConfig(), CATALOG_NAME: cat, CATALOG_TYPE: 'ldac' } });
    const scamp = (f: string) => spawnSync('scamp', [f, '-ASTREF_CATALOG', 'NONE', '-SOLVE_ASTROM', 'N', '-SOLVE_PHOTOM', 'N', '-CHECKPLOT_TYPE', 'NONE', '-WRITE_XML', 'N', '-VERBOSE_TYPE', 'NORMAL'], { cwd: dir, encoding: 'utf8' });
    const r = scamp(cat);
    const out = r.stdout + r.stderr;
    // Debian's scamp 2.10 crashes (SIGSEGV) after loading when run without a reference catalog, on
    // source-extractor's own LDAC files too: the oracle is that it ends the same way on both.
    const sexCat = path.join(dir, 'sex.ldac.fits');
    const params = path.join(dir, 'scamp.param');
    writeFileSync(params, 'XWIN_IMAGE\nYWIN_IMAGE\nERRAWIN_IMAGE\nERRBWIN_IMAGE\nERRTHETAWIN_IMAGE\nFLUX_AUTO\nFLUXERR_AUTO\nFLAGS\n');
    spawnSync('source-extractor', [SAMPLE, '-CATALOG_TYPE', 'FITS_LDAC', '-CATALOG_NAME', sexCat, '-PARAMETERS_NAME', params, '-FILTER', 'N', '-VERBOSE_TYPE', 'QUIET'], { cwd: dir });
    const ref = scamp(sexCat);
    expect(r.status, out).toBe(ref.status);
    expect(r.signal).toBe(ref.signal);
    const refLoaded = Number(/(\d+) detections loaded/.exec(ref.stdout + ref.stderr)?.[1]);
    const loaded = Number(/(\d+) detections loaded/.exec(out)?.[1]);
    expect(loaded).toBeGreaterThan(10);
    expect(loaded).toBeLessThanOrEqual(s.hdus[0].objects);
    if (Number.isFinite(refLoaded)) expect(Math.abs(loaded - refLoaded)).toBeLessThanOrEqual(Math.max(3, 0.1 * refLoaded));
    // the field centre scamp derives from LDAC_IMHEAD: CRVAL 150.1, 2.2 at the image centre (10:00:24, +02:12:00)
    expect(out).toMatch(/10:00:2[34]\.\d+ \+02:1[12]:\d/);
  });
});
