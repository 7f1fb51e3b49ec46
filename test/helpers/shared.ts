/**
 * Location of the shared real-data folder (../shared/data relative to the repository root) and a
 * `hasShared` flag: tests that need it use `describe.skipIf(!hasShared)` and call warnNoShared().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/helpers/shared.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared/data, resolved from the repository root. */
export const sharedData = path.resolve(repoRoot, '../shared/data');
export const realData = path.join(sharedData, 'real');
export const hasShared = fs.existsSync(path.join(realData, 'MANIFEST.json'));

/** Absolute path of a file under ../shared/data. */
export function sharedPath(rel: string): string {
  return path.join(sharedData, rel);
}

/** Print a visible message when shared data are missing (call at module level of a test file). */
export function warnNoShared(what: string): void {
  if (!hasShared) console.warn(`SKIPPED ${what}: ${sharedData} not found (shared real data absent)`);
}

/** One HDU entry of real/MANIFEST.json (astropy oracle). Pixel statistics are over finite pixels. */
export interface ManifestHdu {
  index: number;
  type: string;
  name: string;
  compression?: string;
  /** numpy order: [NAXIS2, NAXIS1]. */
  shape?: number[];
  bitpix?: number;
  bzero?: number | null;
  bscale?: number | null;
  n_nonfinite?: number;
  sum?: number;
  min?: number;
  max?: number;
  first?: number;
  last?: number;
  /** Pixel at 1-based (x=2, y=2), i.e. data[1 * width + 1]. */
  pixel_2_2?: number;
  nrows?: number;
  columns?: [string, string][];
  wcs?: { ctype: string[]; pixel_1based: number[][]; world_deg: number[][] };
}

/** Parse JSON that may contain bare NaN / Infinity / -Infinity tokens (as Python's json writes). */
export function parsePythonJson<T>(text: string): T {
  const marked = text.replace(/("(?:[^"\\]|\\.)*")|\b(-?Infinity|NaN)\b/g, (m, str: string | undefined, tok: string | undefined) =>
    str !== undefined ? str : `"__${tok}__"`,
  );
  return JSON.parse(marked, (_k, v) => {
    if (v === '__NaN__') return NaN;
    if (v === '__Infinity__') return Infinity;
    if (v === '__-Infinity__') return -Infinity;
    return v;
  }) as T;
}

/** real/MANIFEST.json: relative file path -> HDU entries. */
export function loadManifest(): Record<string, ManifestHdu[]> {
  return parsePythonJson(fs.readFileSync(path.join(realData, 'MANIFEST.json'), 'utf8'));
}
