/**
 * PSFEx as an oracle: source-extractor makes a FITS_LDAC catalog with VIGNET stamps (the settings of PSFEx's
 * prepsfex.sex), psfex (built-in defaults) fits its model and writes a SNAPSHOTS check image; the FWHM of a .psf model
 * at given positions comes from test/helpers/psfex_fwhm.py (numpy/scipy, independent of src/psf). Results are cached
 * under test/.cache/psf keyed by the inputs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CACHE = path.resolve(HERE, '../.cache/psf');
const PYTHON = '/usr/bin/python3';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
export const hasPsfex: boolean = has('psfex') && has('source-extractor');
export const hasScipy: boolean = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import astropy, numpy, scipy']).status === 0;

export interface PsfexRun {
  /** the .psf model */
  psf: string;
  /** SNAPSHOTS check image: nsnap x nsnap models of size PSFAXIS1 at ((i + 1/2) / nsnap) of the image extent */
  snapshots: string;
  nsnap: number;
}

/**
 * Run source-extractor then psfex on an image. `sex` overrides source-extractor keywords (e.g. SATUR_LEVEL),
 * `psfex` psfex keywords; `cache` false reruns even when a cached result exists (for timing).
 */
export function runPsfex(image: string, sex: Record<string, string> = {}, psfex: Record<string, string> = {}, nsnap = 3, cache = true): PsfexRun {
  const key = createHash('sha256').update(JSON.stringify([path.resolve(image), sex, psfex, nsnap])).digest('hex').slice(0, 16);
  const dir = path.join(CACHE, `psfex-${key}`);
  const psf = path.join(dir, 'prepsfex.psf');
  // psfex names check images <CHECKIMAGE_NAME base>_<catalog base>.fits
  const snapshots = path.join(dir, 'snap_prepsfex.fits');
  if (cache && existsSync(psf) && existsSync(snapshots)) return { psf, snapshots, nsnap };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'default.conv'), 'CONV NORM\n1 2 1\n2 4 2\n1 2 1\n');
  writeFileSync(path.join(dir, 'prepsfex.param'), ['VIGNET(35,35)', 'X_IMAGE', 'Y_IMAGE', 'FLUX_APER', 'FLUXERR_APER', 'FLUX_RADIUS', 'ELONGATION', 'FLAGS', 'SNR_WIN'].join('\n') + '\n');
  const sexCfg: Record<string, string> = {
    CATALOG_NAME: 'prepsfex.cat', CATALOG_TYPE: 'FITS_LDAC', PARAMETERS_NAME: 'prepsfex.param', DETECT_MINAREA: '3', DETECT_THRESH: '4',
    ANALYSIS_THRESH: '4', FILTER: 'Y', FILTER_NAME: 'default.conv', PHOT_APERTURES: '15', SATUR_LEVEL: '50000', GAIN: '0', VERBOSE_TYPE: 'QUIET', ...sex,
  };
  const r1 = spawnSync('source-extractor', [path.resolve(image), ...Object.entries(sexCfg).flatMap(([k, v]) => [`-${k}`, v])], { cwd: dir, encoding: 'utf8' });
  if (r1.status !== 0) throw new Error(`source-extractor failed: ${r1.stderr}`);
  const psfexCfg: Record<string, string> = {
    CHECKPLOT_TYPE: 'NONE', CHECKIMAGE_TYPE: 'SNAPSHOTS', CHECKIMAGE_NAME: 'snap.fits', PSFVAR_NSNAP: String(nsnap), WRITE_XML: 'N', VERBOSE_TYPE: 'QUIET', ...psfex,
  };
  const r2 = spawnSync('psfex', ['prepsfex.cat', '-c', '/dev/null', ...Object.entries(psfexCfg).flatMap(([k, v]) => [`-${k}`, v])], { cwd: dir, encoding: 'utf8' });
  if (r2.status !== 0 || !existsSync(psf)) throw new Error(`psfex failed: ${r2.stderr}`);
  return { psf, snapshots, nsnap };
}

/** FWHM (image pixels) of a .psf model at positions [x, y] (model context units), by the independent Python oracle. */
export function psfexFwhm(psf: string, positions: [number, number][]): number[] {
  const r = spawnSync(PYTHON, [path.join(HERE, 'psfex_fwhm.py'), psf, ...positions.flat().map(String)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psfex_fwhm.py failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { fwhm: number[] }).fwhm;
}

/** A .psf model evaluated at a position by Python/astropy with PSFEx's polynomial convention (image per sample, row-major). */
export function psfexModelAt(psf: string, x: number, y: number): { size: number; data: number[] } {
  const code = `import sys, json, numpy as np
sys.path.insert(0, ${JSON.stringify(HERE)})
from astropy.io import fits
from psfex_fwhm import model_at
with fits.open(sys.argv[1]) as f:
    h = f['PSF_DATA'].header
    mask = np.asarray(f['PSF_DATA'].data['PSF_MASK'][0], dtype=float)
if mask.ndim == 2:
    mask = mask[None]
img = model_at(h, mask, float(sys.argv[2]), float(sys.argv[3]))
print(json.dumps({'size': int(img.shape[1]), 'data': img.ravel().tolist()}))`;
  const r = spawnSync(PYTHON, ['-c', code, psf, String(x), String(y)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
