/**
 * The configuration: ONE table of every parameter, with SExtractor's keyword as the canonical name,
 * its kebab-case CLI option, type, default (source-extractor 2.25's built-in default where it has one)
 * and description. JSON configs, SExtractor .sex files, the CLI and --dump-config all go through it.
 * Configuration is data: parsed and validated, never evaluated.
 */
import { UserError } from '../util/errors.js';

export type ParamType = 'number' | 'int' | 'numlist' | 'bool' | 'string' | 'enum' | 'strlist';

export interface ParamDef {
  readonly key: string;
  readonly type: ParamType;
  readonly def: unknown;
  readonly describe: string;
  readonly choices?: readonly string[];
  /** CLI option name (default: the key in kebab case), or null when not on the CLI */
  readonly cli?: string | null;
  readonly alias?: string;
  /** numlist length bounds */
  readonly min?: number;
  readonly max?: number;
}

export const PARAMS: readonly ParamDef[] = [
  { key: 'CATALOG_NAME', type: 'string', def: '', describe: 'Output catalog (default: beside the input, NAME.cat.fits)', cli: 'catalog-name', alias: 'o' },
  { key: 'CATALOG_TYPE', type: 'enum', def: 'fits', choices: ['fits', 'ldac', 'csv', 'ecsv', 'parquet'], describe: 'Catalog format' },
  { key: 'PARAMETERS_NAME', type: 'string', def: '', describe: 'SExtractor .param file choosing the columns (default: all)', cli: 'params' },
  { key: 'DETECT_MINAREA', type: 'int', def: 5, describe: 'Minimum number of pixels above threshold' },
  { key: 'THRESH_TYPE', type: 'enum', def: 'relative', choices: ['relative', 'absolute'], describe: 'Threshold in units of the background RMS, or in ADU' },
  { key: 'DETECT_THRESH', type: 'number', def: 1.5, describe: 'Detection threshold (sigmas or ADU)' },
  { key: 'ANALYSIS_THRESH', type: 'number', def: 1.5, describe: 'Analysis threshold (sigmas or ADU)' },
  { key: 'FILTER_NAME', type: 'string', def: 'default', describe: "Detection filter: default (3x3 default.conv), none, gaussian:FWHM, or a .conv file", cli: 'filter' },
  { key: 'DEBLEND_NTHRESH', type: 'int', def: 32, describe: 'Number of deblending sub-thresholds' },
  { key: 'DEBLEND_MINCONT', type: 'number', def: 0.005, describe: 'Minimum contrast for deblending' },
  { key: 'CLEAN', type: 'bool', def: true, describe: 'Clean spurious detections' },
  { key: 'CLEAN_PARAM', type: 'number', def: 1.0, describe: 'Cleaning efficiency' },
  { key: 'MASK_TYPE', type: 'enum', def: 'correct', choices: ['none', 'blank', 'correct'], describe: 'Masking of neighbours for photometry' },
  { key: 'WEIGHT_TYPE', type: 'enum', def: 'none', choices: ['none', 'map_weight', 'map_var', 'map_rms'], describe: 'Weight map type' },
  { key: 'WEIGHT_IMAGE', type: 'string', def: '', describe: 'Weight map (FITS, same shape as the image; per HDU for MEFs)', cli: 'weight' },
  { key: 'MASK_IMAGE', type: 'string', def: '', describe: 'Bad-pixel mask (FITS; non-zero = bad)', cli: 'mask' },
  { key: 'PHOT_APERTURES', type: 'numlist', def: [5], min: 1, max: 64, describe: 'Aperture diameters (pixels), comma-separated' },
  { key: 'PHOT_AUTOPARAMS', type: 'numlist', def: [2.5, 3.5], min: 2, max: 2, describe: 'MAG_AUTO Kron factor, minimum radius' },
  { key: 'PHOT_FLUXFRAC', type: 'numlist', def: [0.5], min: 1, max: 16, describe: 'Flux fraction(s) for FLUX_RADIUS' },
  { key: 'SATUR_LEVEL', type: 'number', def: 50000, describe: 'Saturation level (ADU); the SATUR_KEY header keyword wins when present' },
  { key: 'SATUR_KEY', type: 'string', def: 'SATURATE', describe: 'Header keyword for the saturation level' },
  { key: 'MAG_ZEROPOINT', type: 'number', def: 0, describe: 'Magnitude zero point' },
  { key: 'GAIN', type: 'number', def: 0, describe: 'Gain (e-/ADU; 0 = infinite); the GAIN_KEY header keyword wins when present' },
  { key: 'GAIN_KEY', type: 'string', def: 'GAIN', describe: 'Header keyword for the gain' },
  { key: 'BACK_TYPE', type: 'enum', def: 'auto', choices: ['auto', 'manual'], describe: 'Background: mesh-based map or a constant' },
  { key: 'BACK_VALUE', type: 'number', def: 0, describe: 'Background value in manual mode' },
  { key: 'BACK_SIZE', type: 'numlist', def: [64], min: 1, max: 2, describe: 'Background mesh size: size or width,height' },
  { key: 'BACK_FILTERSIZE', type: 'numlist', def: [3], min: 1, max: 2, describe: 'Background filter size (meshes): size or width,height' },
  { key: 'BACK_FILTTHRESH', type: 'number', def: 0, describe: 'Threshold above which the background filter operates' },
  { key: 'PSF_FIT', type: 'bool', def: true, describe: 'Fit a PSF model and measure FLUX_PSF, SPREAD_MODEL... (skipped when no PSF column is selected)', cli: 'psf' },
  { key: 'PSF_NAME', type: 'string', def: '', describe: 'Write the PSF model (PSFEx .psf format); with several HDUs, .hduN is inserted before the extension', cli: 'psf-model' },
  { key: 'REFCAT_NAME', type: 'string', def: '', describe: 'Reference catalog (FITS or CSV with ra, dec, a magnitude): turns on astrometric and photometric calibration', cli: 'refcat' },
  { key: 'ASTROM_MAXRMS', type: 'number', def: 0.5, describe: 'Largest acceptable astrometric residual rms (arcsec); above it the fit counts as failed' },
  { key: 'CHECKIMAGE_TYPE', type: 'strlist', def: [], choices: ['background', 'background_rms', 'minus_background', 'segmentation', 'filtered', 'apertures'], describe: 'Check images to write (comma-separated)', cli: 'check-images' },
  { key: 'CHECKIMAGE_NAME', type: 'string', def: '', describe: 'Check-image path prefix (default: beside the catalog)', cli: 'check-prefix' },
];

export type Config = Record<string, unknown>;

const BY_KEY = new Map(PARAMS.map((p) => [p.key, p]));
/** SExtractor keywords accepted in .sex files but without effect here (documented in the README). */
const SEX_IGNORED = new Set(['DETECT_TYPE', 'DETECT_MAXAREA', 'FILTER_THRESH', 'RESCALE_WEIGHTS', 'WEIGHT_GAIN', 'WEIGHT_THRESH', 'FLAG_IMAGE', 'FLAG_TYPE', 'DGEO_TYPE', 'DGEO_IMAGE', 'PHOT_PETROPARAMS', 'PHOT_AUTOAPERS', 'MAG_GAMMA', 'PIXEL_SCALE', 'SEEING_FWHM', 'STARNNW_NAME', 'BACKPHOTO_TYPE', 'BACKPHOTO_THICK', 'MEMORY_OBJSTACK', 'MEMORY_PIXSTACK', 'MEMORY_BUFSIZE', 'ASSOC_NAME', 'ASSOC_DATA', 'ASSOC_PARAMS', 'ASSOCCOORD_TYPE', 'ASSOC_RADIUS', 'ASSOC_TYPE', 'ASSOCSELEC_TYPE', 'VERBOSE_TYPE', 'HEADER_SUFFIX', 'WRITE_XML', 'XML_NAME', 'XSL_URL', 'NTHREADS', 'FITS_UNSIGNED', 'INTERP_MAXXLAG', 'INTERP_MAXYLAG', 'INTERP_TYPE', 'PSF_NAME', 'PSF_NMAX', 'PATTERN_TYPE', 'SOM_NAME', 'FILTER']);

export function cliName(p: ParamDef): string | null {
  if (p.cli === null) return null;
  return p.cli ?? p.key.toLowerCase().replace(/_/g, '-');
}

export function defaultConfig(): Config {
  const c: Config = {};
  for (const p of PARAMS) c[p.key] = Array.isArray(p.def) ? [...p.def] : p.def;
  return c;
}

/** Validate and normalise one value (from JSON, a .sex file or the CLI); `where` names the source. */
export function coerce(p: ParamDef, v: unknown, where: string): unknown {
  const bad = (why: string): never => {
    throw new UserError(`${where}: ${p.key} ${why}`);
  };
  const num = (x: unknown): number => {
    const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN;
    if (!Number.isFinite(n)) bad(`needs a number, got ${JSON.stringify(x)}`);
    return n;
  };
  switch (p.type) {
    case 'number':
      return num(v);
    case 'int': {
      const n = num(v);
      if (!Number.isInteger(n) || n < 0) bad(`needs a non-negative integer, got ${JSON.stringify(v)}`);
      return n;
    }
    case 'numlist': {
      const parts = Array.isArray(v) ? v : typeof v === 'number' ? [v] : typeof v === 'string' ? v.split(',').filter((s) => s.trim()) : bad('needs a list of numbers');
      const list = (parts as unknown[]).map(num);
      if (list.length < (p.min ?? 1) || list.length > (p.max ?? Infinity)) bad(`needs ${p.min === p.max ? p.min : `${p.min} to ${p.max}`} numbers, got ${list.length}`);
      return list;
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^(y|yes|t|true|1)$/i.test(v)) return true;
      if (typeof v === 'string' && /^(n|no|f|false|0)$/i.test(v)) return false;
      return bad(`needs Y or N, got ${JSON.stringify(v)}`);
    case 'string':
      if (typeof v !== 'string') bad(`needs a string, got ${JSON.stringify(v)}`);
      return v;
    case 'enum': {
      const s = typeof v === 'string' ? v.toLowerCase() : bad(`needs one of ${p.choices!.join(', ')}`);
      if (!p.choices!.includes(s)) bad(`must be one of ${p.choices!.join(', ')}, got '${v}'`);
      return s;
    }
    case 'strlist': {
      const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : bad('needs a list');
      return (list as unknown[]).map((s) => {
        const x = typeof s === 'string' ? s.toLowerCase() : bad('needs a list of names');
        if (p.choices && !p.choices.includes(x)) bad(`entries must be among ${p.choices.join(', ')}, got '${s}'`);
        return x;
      });
    }
  }
}

/** Merge a JSON config object (SExtractor keys; unknown keys and wrong types are errors). */
export function applyJson(base: Config, obj: unknown, where: string): Config {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new UserError(`${where}: a JSON config must be an object`);
  const out = { ...base };
  for (const [k, v] of Object.entries(obj)) {
    const p = BY_KEY.get(k.toUpperCase());
    if (!p) throw new UserError(`${where}: unknown config key '${k}'`);
    out[p.key] = coerce(p, v, where);
  }
  return out;
}

/** SExtractor keyword values that differ in spelling from ours. */
function fromSex(key: string, value: string): [string, string] | undefined {
  switch (key) {
    case 'CATALOG_TYPE': {
      const t = value.toUpperCase();
      return ['CATALOG_TYPE', t === 'FITS_LDAC' ? 'ldac' : t.startsWith('FITS') ? 'fits' : t === 'ASCII_VOTABLE' ? 'ecsv' : 'csv'];
    }
    case 'CHECKIMAGE_TYPE': {
      const map: Record<string, string> = { BACKGROUND: 'background', BACKGROUND_RMS: 'background_rms', '-BACKGROUND': 'minus_background', SEGMENTATION: 'segmentation', FILTERED: 'filtered', APERTURES: 'apertures' };
      const list = value.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s && s !== 'NONE');
      return ['CHECKIMAGE_TYPE', list.map((s) => map[s] ?? s.toLowerCase()).join(',')];
    }
    case 'WEIGHT_TYPE':
    case 'THRESH_TYPE':
    case 'BACK_TYPE':
    case 'MASK_TYPE':
      return [key, value.toLowerCase()];
    default:
      return undefined;
  }
}

/** Parse a SExtractor .sex configuration file onto a base config. */
export function applySex(base: Config, text: string, where: string): Config {
  const out = { ...base };
  let filterOn = true;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^([A-Z0-9_]+)\s*(.*)$/i.exec(line);
    if (!m) throw new UserError(`${where}:${i + 1}: cannot parse '${raw.trim()}'`);
    const key = m[1].toUpperCase();
    const value = m[2].trim();
    if (key === 'FILTER') {
      filterOn = coerce({ key, type: 'bool', def: true, describe: '' }, value, `${where}:${i + 1}`) as boolean;
      continue;
    }
    const mapped = fromSex(key, value) ?? [key, value];
    const p = BY_KEY.get(mapped[0]);
    if (!p) {
      if (SEX_IGNORED.has(key)) continue;
      throw new UserError(`${where}:${i + 1}: unknown SExtractor keyword '${key}'`);
    }
    if (value === '' && p.type !== 'string' && p.type !== 'strlist') continue;
    out[p.key] = coerce(p, mapped[1], `${where}:${i + 1}`);
  }
  if (!filterOn) out.FILTER_NAME = 'none';
  return out;
}

/** The config as a stable JSON text (keys in table order): --dump-config, provenance headers, digests. */
export function dumpConfig(c: Config): string {
  const o: Record<string, unknown> = {};
  for (const p of PARAMS) o[p.key] = c[p.key];
  return JSON.stringify(o, null, 2);
}
