/**
 * Independent oracles of the robustness harness: astropy (catalog validity, column lists, row counts)
 * and source-extractor (how many sources an image really holds). Each reports its absence so that
 * tests can skip visibly.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './harness.js';

const PY = '/usr/bin/python3';

export const hasAstropy = existsSync(PY) && spawnSync(PY, ['-c', 'import astropy.io.fits'], { encoding: 'utf8' }).status === 0;
export const hasSextractor = spawnSync('source-extractor', ['-v'], { encoding: 'utf8' }).error === undefined;

export interface TableInfo {
  index: number;
  name: string;
  nrows: number;
  columns: [string, string][];
}

export interface CatalogInfo {
  file: string;
  ok: boolean;
  error?: string;
  tables?: TableInfo[];
}

/** astropy's view of FITS catalogs (one python process for all files). */
export function astropyCatalogs(files: string[]): CatalogInfo[] {
  if (!files.length) return [];
  const r = spawnSync(PY, [path.join(repoRoot, 'test/robustness/catalogs.py')], { input: JSON.stringify(files), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`catalogs.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as CatalogInfo[];
}

/** Number of sources source-extractor finds in the first image HDU with its default settings. */
export function sextractorCount(image: string): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rob-sex-'));
  try {
    writeFileSync(path.join(dir, 'p.param'), 'NUMBER\nX_IMAGE\nY_IMAGE\n');
    const conv = '/usr/share/source-extractor/default.conv';
    if (existsSync(conv)) copyFileSync(conv, path.join(dir, 'default.conv'));
    else writeFileSync(path.join(dir, 'default.conv'), 'CONV NORM\n1 2 1\n2 4 2\n1 2 1\n');
    const cat = path.join(dir, 'out.cat');
    const r = spawnSync('source-extractor', [image, '-c', '/dev/null', '-PARAMETERS_NAME', 'p.param', '-FILTER_NAME', 'default.conv', '-CATALOG_NAME', cat, '-CATALOG_TYPE', 'ASCII_HEAD', '-VERBOSE_TYPE', 'QUIET'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`source-extractor failed on ${image}: ${r.stderr}`);
    return readFileSync(cat, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
