/**
 * Independent oracles for tests: astropy (Debian's /usr/bin/python3) and source-extractor.
 * Results are cached under test/.cache (git-ignored), keyed by the inputs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE = path.join(REPO, 'test/.cache');
export const SYS_PYTHON = '/usr/bin/python3';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

export const hasAstropy: boolean =
  existsSync(SYS_PYTHON) && spawnSync(SYS_PYTHON, ['-c', 'import astropy, numpy'], { encoding: 'utf8' }).status === 0;
export const hasSextractor: boolean = which('source-extractor');

function cacheDir(sub: string): string {
  const d = path.join(CACHE, sub);
  mkdirSync(d, { recursive: true });
  return d;
}

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);
}

/** Run a Python snippet with Debian's python3 (astropy); throws with its stderr on failure. */
export function runPython(code: string, args: string[] = []): string {
  const r = spawnSync(SYS_PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Read one image HDU with astropy, as float32 (BSCALE/BZERO applied, BLANK -> NaN as astropy does).
 * Independent of our own FITS reader: use it as the oracle for algorithm tests.
 */
export function astropyImage(file: string, hdu = 0): { width: number; height: number; data: Float32Array } {
  const abs = path.resolve(file);
  const out = path.join(cacheDir('astropy-images'), `${digest(abs, String(hdu))}.f32`);
  const meta = `${out}.json`;
  if (!existsSync(out) || !existsSync(meta)) {
    runPython(
      `import sys, json, numpy as np
from astropy.io import fits
with fits.open(sys.argv[1]) as f:
    d = np.asarray(f[int(sys.argv[2])].data, dtype='<f4')
d.tofile(sys.argv[3])
json.dump({'width': int(d.shape[1]), 'height': int(d.shape[0])}, open(sys.argv[4], 'w'))`,
      [abs, String(hdu), out, meta],
    );
  }
  const m = JSON.parse(readFileSync(meta, 'utf8'));
  const b = readFileSync(out);
  const data = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return { width: m.width, height: m.height, data };
}

/** Write a float32 image as a FITS file with astropy (for feeding simulated images to source-extractor). */
export function astropyWriteImage(file: string, img: { width: number; height: number; data: Float32Array }): void {
  const raw = `${file}.f32`;
  writeFileSync(raw, Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength));
  runPython(
    `import sys, numpy as np, os
from astropy.io import fits
d = np.fromfile(sys.argv[1], dtype='<f4').reshape(int(sys.argv[3]), int(sys.argv[2]))
fits.PrimaryHDU(d).writeto(sys.argv[4], overwrite=True)
os.remove(sys.argv[1])`,
    [raw, String(img.width), String(img.height), file],
  );
}

export interface SexRun {
  /** catalog columns by name; vector columns (e.g. FLUX_APER) as arrays of rows */
  columns: Record<string, number[] | number[][]>;
  nrows: number;
  /** paths of check images produced, by CHECKIMAGE_TYPE */
  checkImages: Record<string, string>;
}

/**
 * Run source-extractor on an image with the given config (SExtractor keyword -> value) and output columns,
 * reading the FITS_LDAC catalog back with astropy. Results are cached by (image, config, params).
 * Default config: source-extractor's built-in defaults with FILTER_NAME set to a written default.conv.
 */
export function runSextractor(
  image: string,
  params: string[],
  config: Record<string, string> = {},
  checkTypes: string[] = [],
): SexRun {
  const abs = path.resolve(image);
  const key = digest(abs, JSON.stringify(params), JSON.stringify(config), JSON.stringify(checkTypes));
  const dir = cacheDir(`sextractor/${key}`);
  const result = path.join(dir, 'result.json');
  if (!existsSync(result)) {
    const conv = path.join(dir, 'default.conv');
    writeFileSync(conv, 'CONV NORM\n# 3x3 ``all-ground\'\' convolution mask with FWHM = 2 pixels.\n1 2 1\n2 4 2\n1 2 1\n');
    writeFileSync(path.join(dir, 'cat.param'), `${params.join('\n')}\n`);
    const checks = checkTypes.map((t) => path.join(dir, `check_${t.toLowerCase()}.fits`));
    const cfg: Record<string, string> = {
      CATALOG_NAME: path.join(dir, 'cat.fits'),
      CATALOG_TYPE: 'FITS_LDAC',
      PARAMETERS_NAME: path.join(dir, 'cat.param'),
      FILTER_NAME: conv,
      VERBOSE_TYPE: 'QUIET',
      ...(checkTypes.length ? { CHECKIMAGE_TYPE: checkTypes.join(','), CHECKIMAGE_NAME: checks.join(',') } : {}),
      ...config,
    };
    const args = [abs, ...Object.entries(cfg).flatMap(([k, v]) => [`-${k}`, v])];
    const r = spawnSync('source-extractor', args, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`source-extractor failed: ${r.stderr}`);
    const json = runPython(
      `import sys, json, numpy as np
from astropy.io import fits
with fits.open(sys.argv[1]) as f:
    t = f['LDAC_OBJECTS'].data
    cols = {}
    for n in t.columns.names:
        v = np.asarray(t[n])
        cols[n] = v.astype(float).tolist()
print(json.dumps({'nrows': len(t), 'columns': cols}))`,
      [cfg.CATALOG_NAME],
    );
    const parsed = JSON.parse(json);
    parsed.checkImages = Object.fromEntries(checkTypes.map((t, i) => [t, checks[i]]));
    writeFileSync(result, JSON.stringify(parsed));
  }
  return JSON.parse(readFileSync(result, 'utf8')) as SexRun;
}

/** Find the nearest neighbour of each (x1, y1) among (x2, y2) within rmax: index or -1. O(n log n) via a grid. */
export function matchXY(x1: ArrayLike<number>, y1: ArrayLike<number>, x2: ArrayLike<number>, y2: ArrayLike<number>, rmax: number): Int32Array {
  const cell = Math.max(rmax, 1);
  const grid = new Map<string, number[]>();
  for (let j = 0; j < x2.length; j++) {
    const k = `${Math.floor(x2[j] / cell)},${Math.floor(y2[j] / cell)}`;
    let g = grid.get(k);
    if (!g) grid.set(k, (g = []));
    g.push(j);
  }
  const out = new Int32Array(x1.length).fill(-1);
  for (let i = 0; i < x1.length; i++) {
    const cx = Math.floor(x1[i] / cell);
    const cy = Math.floor(y1[i] / cell);
    let best = rmax * rmax;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++)
        for (const j of grid.get(`${cx + dx},${cy + dy}`) ?? []) {
          const d = (x1[i] - x2[j]) ** 2 + (y1[i] - y2[j]) ** 2;
          if (d <= best) {
            best = d;
            out[i] = j;
          }
        }
  }
  return out;
}

/** Read a FITS binary table with astropy: columns as float arrays (vector columns as arrays of rows). */
export function astropyTable(file: string, hdu: number | string = 1): { nrows: number; columns: Record<string, number[] | number[][]> } {
  return JSON.parse(
    runPython(
      `import sys, json, numpy as np
from astropy.io import fits
which = sys.argv[2]
with fits.open(sys.argv[1]) as f:
    t = f[int(which) if which.isdigit() else which].data
    cols = {n: np.asarray(t[n]).astype(float).tolist() for n in t.columns.names}
print(json.dumps({'nrows': len(t), 'columns': cols}).replace('NaN', 'null'))`,
      [path.resolve(file), String(hdu)],
    ),
  );
}
