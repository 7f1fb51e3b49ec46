/**
 * The ONE source of truth for the output catalog schema.
 *
 * Every catalog column the pipeline can produce is listed here with SExtractor 2.25's name, FITS binary-table
 * type (TFORM letter), vector-size rule, unit (TUNIT), description (SExtractor's own wording, as printed by
 * `source-extractor -dp`), display format (printf and FITS TDISP) and UCD. Catalog writers (FITS, LDAC, CSV, ECSV,
 * Parquet) and `--params` column selection read it; the measurement code (src/measure) fills the columns.
 *
 * In-memory representation (used by everyone):
 *  - a catalog is a `Catalog` = Record<column name, typed array>, all columns of the same row count n;
 *    `NUMBER` is always present, so n = catalog.NUMBER.length;
 *  - the array type follows the TFORM letter: 'D' -> Float64Array, 'E' -> Float32Array, 'J' and 'I' -> Int32Array
 *    ('I' values fit in 16 bits; writers narrow them);
 *  - vector columns (FLUX_APER, FLUX_RADIUS, ...) are flat row-major arrays of n * width values: row i holds
 *    values [i * width, (i + 1) * width). The width comes from `vectorWidth(spec, sizes)` (number of apertures,
 *    number of flux fractions) and always equals column.length / n when n > 0.
 */

/** FITS binary-table type letters used by the catalog: 32-bit int, 16-bit int, float32, float64. */
export type TForm = 'J' | 'I' | 'E' | 'D';

/** How many values a column holds per row: one, one per PHOT_APERTURES diameter, one per PHOT_FLUXFRAC fraction. */
export type VectorRule = 'scalar' | 'apertures' | 'fluxfrac';

/** Which stage fills the column: src/measure, the astrometry (WCS) stage, or the pipeline driver. */
export type ColumnSource = 'measure' | 'astrometry' | 'pipeline' | 'psf';

export interface ColumnSpec {
  readonly name: string;
  readonly tform: TForm;
  readonly vector: VectorRule;
  /** TUNIT ('' when dimensionless) */
  readonly unit: string;
  /** SExtractor's description of the parameter */
  readonly description: string;
  /** printf-style display format, as in SExtractor's ASCII catalogs */
  readonly format: string;
  /** FITS TDISP equivalent of `format` */
  readonly tdisp: string;
  /** IVOA UCD, as SExtractor writes in VOTable output */
  readonly ucd: string;
  readonly source: ColumnSource;
}

export type CatalogColumn = Float64Array | Float32Array | Int32Array;
/** A columnar catalog: see the module comment for the layout of vector columns. */
export type Catalog = Record<string, CatalogColumn>;

/** Sizes that fix the width of vector columns. */
export interface VectorSizes {
  readonly nApertures: number;
  readonly nFluxFrac: number;
}

type Row = [name: string, tform: TForm, vector: VectorRule, unit: string, format: string, ucd: string, description: string];

const M = 'measure';
// prettier-ignore
const MEASURE_ROWS: Row[] = [
  ['NUMBER', 'J', 'scalar', '', '%10d', 'meta.record', 'Running object number'],
  ['FLAGS', 'I', 'scalar', '', '%3d', 'meta.code.qual', 'Extraction flags'],
  ['FLAGS_WIN', 'I', 'scalar', '', '%3d', 'meta.code.qual', 'Flags for WINdowed parameters'],
  ['X_IMAGE', 'E', 'scalar', 'pixel', '%11.4f', 'pos.cartesian.x;pos.barycenter;instr.det;meta.main', 'Object position along x'],
  ['Y_IMAGE', 'E', 'scalar', 'pixel', '%11.4f', 'pos.cartesian.y;pos.barycenter;instr.det;meta.main', 'Object position along y'],
  ['XPEAK_IMAGE', 'J', 'scalar', 'pixel', '%10d', 'pos.cartesian.x', 'x-coordinate of the brightest pixel'],
  ['YPEAK_IMAGE', 'J', 'scalar', 'pixel', '%10d', 'pos.cartesian.y', 'y-coordinate of the brightest pixel'],
  ['XMIN_IMAGE', 'J', 'scalar', 'pixel', '%10d', 'pos.cartesian.x;stat.min', 'Minimum x-coordinate among detected pixels'],
  ['YMIN_IMAGE', 'J', 'scalar', 'pixel', '%10d', 'pos.cartesian.y;stat.min', 'Minimum y-coordinate among detected pixels'],
  ['XMAX_IMAGE', 'J', 'scalar', 'pixel', '%10d', 'pos.cartesian.x;stat.max', 'Maximum x-coordinate among detected pixels'],
  ['YMAX_IMAGE', 'J', 'scalar', 'pixel', '%10d', 'pos.cartesian.y;stat.max', 'Maximum y-coordinate among detected pixels'],
  ['X2_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det', 'Variance along x'],
  ['Y2_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det', 'Variance along y'],
  ['XY_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det', 'Covariance between x and y'],
  ['CXX_IMAGE', 'E', 'scalar', 'pixel**(-2)', '%15.7e', 'src.impactParam;instr.det', 'Cxx object ellipse parameter'],
  ['CYY_IMAGE', 'E', 'scalar', 'pixel**(-2)', '%15.7e', 'src.impactParam;instr.det', 'Cyy object ellipse parameter'],
  ['CXY_IMAGE', 'E', 'scalar', 'pixel**(-2)', '%15.7e', 'src.impactParam;instr.det', 'Cxy object ellipse parameter'],
  ['A_IMAGE', 'E', 'scalar', 'pixel', '%9.3f', 'phys.size.smajAxis;instr.det;meta.main', 'Profile RMS along major axis'],
  ['B_IMAGE', 'E', 'scalar', 'pixel', '%9.3f', 'phys.size.sminAxis;instr.det;meta.main', 'Profile RMS along minor axis'],
  ['THETA_IMAGE', 'E', 'scalar', 'deg', '%6.2f', 'pos.posAng;instr.det;meta.main', 'Position angle (CCW/x)'],
  ['ELONGATION', 'E', 'scalar', '', '%8.3f', 'src.ellipticity;arith.ratio;instr.det', 'A_IMAGE/B_IMAGE'],
  ['ELLIPTICITY', 'E', 'scalar', '', '%8.3f', 'src.ellipticity;instr.det', '1 - B_IMAGE/A_IMAGE'],
  ['ERRX2_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'stat.variance;pos.errorEllipse;instr.det', 'Variance of position along x'],
  ['ERRY2_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'stat.variance;pos.errorEllipse;instr.det', 'Variance of position along y'],
  ['ERRXY_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'stat.covariance;pos.errorEllipse;instr.det', 'Covariance of position between x and y'],
  ['ERRA_IMAGE', 'E', 'scalar', 'pixel', '%9.5f', 'stat.stdev;stat.max;pos.errorEllipse;instr.det;meta.main', 'RMS position error along major axis'],
  ['ERRB_IMAGE', 'E', 'scalar', 'pixel', '%9.5f', 'stat.stdev;stat.min;pos.errorEllipse;instr.det;meta.main', 'RMS position error along minor axis'],
  ['ERRTHETA_IMAGE', 'E', 'scalar', 'deg', '%6.2f', 'pos.posAng;pos.errorEllipse;instr.det;meta.main', 'Error ellipse position angle (CCW/x)'],
  ['XWIN_IMAGE', 'D', 'scalar', 'pixel', '%11.4f', 'pos.cartesian.x;instr.det', 'Windowed position estimate along x'],
  ['YWIN_IMAGE', 'D', 'scalar', 'pixel', '%11.4f', 'pos.cartesian.y;instr.det', 'Windowed position estimate along y'],
  ['X2WIN_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det', 'Windowed variance along x'],
  ['Y2WIN_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det', 'Windowed variance along y'],
  ['XYWIN_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det', 'Windowed covariance between x and y'],
  ['AWIN_IMAGE', 'E', 'scalar', 'pixel', '%9.3f', 'phys.size.smajAxis;instr.det', 'Windowed profile RMS along major axis'],
  ['BWIN_IMAGE', 'E', 'scalar', 'pixel', '%9.3f', 'phys.size.sminAxis;instr.det', 'Windowed profile RMS along minor axis'],
  ['THETAWIN_IMAGE', 'E', 'scalar', 'deg', '%6.2f', 'pos.posAng;instr.det', 'Windowed position angle (CCW/x)'],
  ['ERRX2WIN_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'stat.variance;pos.errorEllipse;instr.det', 'Variance of windowed pos along x'],
  ['ERRY2WIN_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'stat.variance;pos.errorEllipse;instr.det', 'Variance of windowed pos along y'],
  ['ERRXYWIN_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'stat.covariance;pos.errorEllipse;instr.det', 'Covariance of windowed pos between x and y'],
  ['ERRAWIN_IMAGE', 'E', 'scalar', 'pixel', '%9.5f', 'stat.stdev;stat.max;pos.errorEllipse;instr.det', 'RMS windowed pos error along major axis'],
  ['ERRBWIN_IMAGE', 'E', 'scalar', 'pixel', '%9.5f', 'stat.stdev;stat.min;pos.errorEllipse;instr.det', 'RMS windowed pos error along minor axis'],
  ['ERRTHETAWIN_IMAGE', 'E', 'scalar', 'deg', '%6.2f', 'pos.posAng;pos.errorEllipse;instr.det', 'Windowed error ellipse pos angle (CCW/x)'],
  ['NITER_WIN', 'I', 'scalar', '', '%3d', 'meta.number', 'Number of iterations for WIN centering'],
  ['ISOAREA_IMAGE', 'J', 'scalar', 'pixel**2', '%9d', 'phys.area', 'Isophotal area above Analysis threshold'],
  ['ISOAREAF_IMAGE', 'J', 'scalar', 'pixel**2', '%9d', 'phys.area', 'Isophotal area (filtered) above Detection threshold'],
  ['FLUX_ISO', 'E', 'scalar', 'count', '%12.7g', 'phot.flux', 'Isophotal flux'],
  ['FLUXERR_ISO', 'E', 'scalar', 'count', '%12.7g', 'stat.stdev;phot.flux', 'RMS error for isophotal flux'],
  ['MAG_ISO', 'E', 'scalar', 'mag', '%8.4f', 'phot.mag', 'Isophotal magnitude'],
  ['MAGERR_ISO', 'E', 'scalar', 'mag', '%8.4f', 'stat.stdev;phot.mag', 'RMS error for isophotal magnitude'],
  ['FLUX_APER', 'E', 'apertures', 'count', '%12.7g', 'phot.flux', 'Flux vector within fixed circular aperture(s)'],
  ['FLUXERR_APER', 'E', 'apertures', 'count', '%12.7g', 'stat.stdev;phot.flux', 'RMS error vector for aperture flux(es)'],
  ['MAG_APER', 'E', 'apertures', 'mag', '%8.4f', 'phot.mag', 'Fixed aperture magnitude vector'],
  ['MAGERR_APER', 'E', 'apertures', 'mag', '%8.4f', 'stat.stdev;phot.mag', 'RMS error vector for fixed aperture mag.'],
  ['FLUX_AUTO', 'E', 'scalar', 'count', '%12.7g', 'phot.flux;meta.main', 'Flux within a Kron-like elliptical aperture'],
  ['FLUXERR_AUTO', 'E', 'scalar', 'count', '%12.7g', 'stat.stdev;phot.flux;meta.main', 'RMS error for AUTO flux'],
  ['MAG_AUTO', 'E', 'scalar', 'mag', '%8.4f', 'phot.mag;meta.main', 'Kron-like elliptical aperture magnitude'],
  ['MAGERR_AUTO', 'E', 'scalar', 'mag', '%8.4f', 'stat.stdev;phot.mag;meta.main', 'RMS error for AUTO magnitude'],
  ['KRON_RADIUS', 'E', 'scalar', '', '%5.2f', 'arith.factor;arith.ratio', 'Kron apertures in units of A or B'],
  ['FLUX_WIN', 'E', 'scalar', 'count', '%12.7g', 'phot.flux', 'Gaussian-weighted flux'],
  ['FLUXERR_WIN', 'E', 'scalar', 'count', '%12.7g', 'stat.stdev;phot.flux', 'RMS error for WIN flux'],
  ['MAG_WIN', 'E', 'scalar', 'mag', '%8.4f', 'phot.mag', 'Gaussian-weighted magnitude'],
  ['MAGERR_WIN', 'E', 'scalar', 'mag', '%8.4f', 'stat.stdev;phot.mag', 'RMS error for MAG_WIN'],
  ['SNR_WIN', 'E', 'scalar', '', '%10.4g', 'stat.snr', 'Gaussian-weighted SNR'],
  ['FLUX_RADIUS', 'E', 'fluxfrac', 'pixel', '%10.3f', 'phys.size.radius;instr.det', 'Fraction-of-light radii'],
  ['FWHM_IMAGE', 'E', 'scalar', 'pixel', '%8.2f', 'phys.size.diameter;instr.det.psf', 'FWHM assuming a gaussian core'],
  ['FLUX_MAX', 'E', 'scalar', 'count', '%12.7g', 'phot.flux.sb;stat.max', 'Peak flux above background'],
  ['BACKGROUND', 'E', 'scalar', 'count', '%12.7g', 'instr.skyLevel', 'Background at centroid position'],
  ['THRESHOLD', 'E', 'scalar', 'count', '%12.7g', 'instr.sensitivity;phot.flux.sb', 'Detection threshold above background'],
];

// prettier-ignore
const OTHER_ROWS: [Row, ColumnSource][] = [
  [['EXT_NUMBER', 'I', 'scalar', '', '%3d', 'meta.id;meta.dataset', 'FITS extension number'], 'pipeline'],
  [['ALPHA_J2000', 'D', 'scalar', 'deg', '%11.7f', 'pos.eq.ra;pos.barycenter;meta.main', 'Right ascension of barycenter (J2000)'], 'astrometry'],
  [['DELTA_J2000', 'D', 'scalar', 'deg', '%+11.7f', 'pos.eq.dec;pos.barycenter;meta.main', 'Declination of barycenter (J2000)'], 'astrometry'],
  [['ALPHAWIN_J2000', 'D', 'scalar', 'deg', '%11.7f', 'pos.eq.ra;instr.det', 'Windowed right ascension (J2000)'], 'astrometry'],
  [['DELTAWIN_J2000', 'D', 'scalar', 'deg', '%+11.7f', 'pos.eq.dec;instr.det', 'windowed declination (J2000)'], 'astrometry'],
];

/** Convert a printf format (%11.4f, %12.7g, %18.10e, %10d, %+11.7f) to a FITS TDISP value (F11.4, G12.7, E18.10, I10). */
export function printfToTdisp(format: string): string {
  const m = /^%[+-]?(\d+)(?:\.(\d+))?([dfeg])$/.exec(format);
  if (!m) throw new RangeError(`unsupported display format ${format}`);
  const [, width, prec, conv] = m;
  const letter = { d: 'I', f: 'F', e: 'E', g: 'G' }[conv as 'd' | 'f' | 'e' | 'g'];
  return prec === undefined ? `${letter}${width}` : `${letter}${width}.${prec}`;
}

function toSpec([name, tform, vector, unit, format, ucd, description]: Row, source: ColumnSource): ColumnSpec {
  return Object.freeze({ name, tform, vector, unit, description, format, tdisp: printfToTdisp(format), ucd, source });
}

// prettier-ignore
/** Columns of the PSF stage (src/psf). */
export const PSF_COLUMN_ROWS: readonly Row[] = [
  ['FLUX_PSF', 'E', 'scalar', 'count', '%12.7g', 'phot.flux', 'Flux from PSF-fitting'],
  ['FLUXERR_PSF', 'E', 'scalar', 'count', '%12.7g', 'stat.stdev;phot.flux', 'RMS flux error for PSF-fitting'],
  ['MAG_PSF', 'E', 'scalar', 'mag', '%8.4f', 'phot.mag', 'Magnitude from PSF-fitting'],
  ['MAGERR_PSF', 'E', 'scalar', 'mag', '%8.4f', 'stat.stdev;phot.mag', 'RMS magnitude error from PSF-fitting'],
  ['CHI2_PSF', 'E', 'scalar', '', '%9.4g', 'stat.fit.chi2', 'Reduced chi2 from PSF-fitting'],
  ['SPREAD_MODEL', 'E', 'scalar', '', '%12.7g', 'src.extent', 'Spread parameter from model-fitting'],
  ['SPREADERR_MODEL', 'E', 'scalar', '', '%12.7g', 'stat.stdev;src.extent', 'Spread parameter error from model-fitting'],
  ['FWHMPSF_IMAGE', 'E', 'scalar', 'pixel', '%8.2f', 'phys.size.diameter;instr.det.psf', 'FWHM of the local PSF model'],
  ['X2PSF_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det.psf', 'Adaptive variance along x of the local PSF model'],
  ['Y2PSF_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det.psf', 'Adaptive variance along y of the local PSF model'],
  ['XYPSF_IMAGE', 'D', 'scalar', 'pixel**2', '%18.10e', 'src.impactParam;instr.det.psf', 'Adaptive covariance x-y of the local PSF model'],
  ['FLAGS_PSF', 'I', 'scalar', '', '%3d', 'meta.code.qual', 'PSF-fitting flags: 1 edge, 2 masked pixels, 4 failed'],
  ['PSF_STAR', 'I', 'scalar', '', '%3d', 'meta.code', 'PSF star: 1 used in the model, 2 reserved, 4 rejected by the fit'],
];

/** All catalog columns, in SExtractor-like default order. */
export const CATALOG_SCHEMA: readonly ColumnSpec[] = Object.freeze([
  ...MEASURE_ROWS.map((r) => toSpec(r, M)),
  ...PSF_COLUMN_ROWS.map((r) => toSpec(r, 'psf')),
  ...OTHER_ROWS.map(([r, s]) => toSpec(r, s)),
]);

const BY_NAME: ReadonlyMap<string, ColumnSpec> = new Map(CATALOG_SCHEMA.map((c) => [c.name, c]));

/** The spec of a column by its (case-insensitive) SExtractor name, or undefined. */
export function columnSpec(name: string): ColumnSpec | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** Number of values per row of a column. */
export function vectorWidth(spec: ColumnSpec, sizes: VectorSizes): number {
  if (spec.vector === 'apertures') return sizes.nApertures;
  if (spec.vector === 'fluxfrac') return sizes.nFluxFrac;
  return 1;
}

/** Allocate the typed array holding `nrows` rows of a column (array type per TFORM, see the module comment). */
export function allocColumn(spec: ColumnSpec, nrows: number, sizes: VectorSizes): CatalogColumn {
  const n = nrows * vectorWidth(spec, sizes);
  if (spec.tform === 'D') return new Float64Array(n);
  if (spec.tform === 'E') return new Float32Array(n);
  return new Int32Array(n);
}

/** Number of rows of a catalog (length of its NUMBER column). */
export function catalogRows(cat: Catalog): number {
  const num = cat.NUMBER;
  if (!num) throw new RangeError('catalog has no NUMBER column');
  return num.length;
}

/** One entry of a SExtractor-style parameter list: `FLUX_APER(3)` selects the first 3 elements of a vector column. */
export interface ParamSelection {
  readonly spec: ColumnSpec;
  /** number of vector elements requested (undefined: all) */
  readonly count?: number;
}

/**
 * Parse a SExtractor .param list (one name per line or comma/space separated; `#` comments; `NAME(n)` for
 * vectors). Throws RangeError naming the first unknown parameter.
 */
export function parseParamList(text: string): ParamSelection[] {
  const out: ParamSelection[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    for (const tok of line.split(/[\s,]+/).filter(Boolean)) {
      const m = /^([A-Za-z0-9_]+)(?:\((\d+)\))?$/.exec(tok);
      const spec = m ? columnSpec(m[1]) : undefined;
      if (!m || !spec) throw new RangeError(`unknown catalog parameter ${tok}`);
      if (m[2] !== undefined && spec.vector === 'scalar') throw new RangeError(`catalog parameter ${spec.name} is not a vector`);
      out.push(m[2] === undefined ? { spec } : { spec, count: Number(m[2]) });
    }
  }
  return out;
}
