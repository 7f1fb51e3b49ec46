/**
 * Catalog columns produced by the PSF stage, in the layout of src/catalog/schema.ts rows
 * ([name, TFORM, vector rule, unit, printf format, UCD, description]) for the schema's owner to add.
 * SExtractor's names and wording where SExtractor has the parameter (FLUX_PSF ... SPREADERR_MODEL, FWHMPSF_IMAGE);
 * the PSF moments, FLAGS_PSF and PSF_STAR are ours.
 */
import { PSF_COLUMN_ROWS, type TForm, type VectorRule } from '../catalog/schema.js';

export { PSF_COLUMN_ROWS };

export type PsfColumnRow = readonly [name: string, tform: TForm, vector: VectorRule, unit: string, format: string, ucd: string, description: string];

/** Names of the PSF columns, in schema order (the rows live in src/catalog/schema.ts, the one source of truth). */
export const PSF_COLUMN_NAMES: readonly string[] = PSF_COLUMN_ROWS.map((r) => r[0]);
