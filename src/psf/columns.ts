/**
 * Catalog columns produced by the PSF stage, in the layout of src/catalog/schema.ts rows
 * ([name, TFORM, vector rule, unit, printf format, UCD, description]) for the schema's owner to add.
 * SExtractor's names and wording where SExtractor has the parameter (FLUX_PSF ... SPREADERR_MODEL, FWHMPSF_IMAGE);
 * the PSF moments, FLAGS_PSF and PSF_STAR are ours.
 */
import type { TForm, VectorRule } from '../catalog/schema.js';

export type PsfColumnRow = readonly [name: string, tform: TForm, vector: VectorRule, unit: string, format: string, ucd: string, description: string];

// prettier-ignore
export const PSF_COLUMN_ROWS: readonly PsfColumnRow[] = [
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

/** Names of the PSF columns, in schema order. */
export const PSF_COLUMN_NAMES: readonly string[] = PSF_COLUMN_ROWS.map((r) => r[0]);
