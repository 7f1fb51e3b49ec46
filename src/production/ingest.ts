/**
 * Ingest: index raw CCD files by header keys (or explicit --visit/--detector). One CCD per file, or one
 * visit per multi-extension file (each image HDU a CCD).
 */
import path from 'node:path';
import { FitsFile, type Hdu } from '../fits/index.js';
import type { Header } from '../fits/header.js';
import { imageHdus } from '../quick/run.js';
import { UserError } from '../util/errors.js';
import { checkDetector, checkVisit } from './ids.js';
import type { RawEntry } from './repo.js';

const VISIT_KEYS = ['VISIT', 'EXPNUM', 'EXPID', 'OBSID'];
const DETECTOR_KEYS = ['DETECTOR', 'CCDNUM', 'CCDID', 'CHIPID'];

function first(headers: Header[], keys: string[], accept: (v: string | number) => boolean = () => true): string | number | undefined {
  for (const h of headers)
    for (const k of keys) {
      const v = h.get(k);
      if ((typeof v === 'number' || (typeof v === 'string' && v.trim())) && accept(v)) return typeof v === 'string' ? v.trim() : v;
    }
  return undefined;
}

export interface IngestOptions {
  visit?: string;
  detector?: number;
  /** detector ids by CCD name (EXTNAME/DETPOS/DETNAME), from the camera */
  detectorByName?: (name: string) => number | undefined;
}

/** The raw entries of one file. Throws UserError with the file name when ids cannot be found or are unsafe. */
export function rawEntries(file: string, o: IngestOptions = {}): RawEntry[] {
  const abs = path.resolve(file);
  const f = FitsFile.open(abs);
  try {
    const primary = f.hdu(0).header;
    const hdus: Hdu[] = imageHdus(f);
    if (!hdus.length) throw new UserError(`${file}: no image HDU with data`);
    if (o.detector !== undefined && hdus.length > 1) throw new UserError(`${file}: --detector applies to single-CCD files, this one has ${hdus.length} image HDUs`);
    return hdus.map((h, k) => {
      const hs = h.index === 0 ? [primary] : [h.header, primary];
      const visitV = o.visit ?? first(hs, VISIT_KEYS);
      if (visitV === undefined) throw new UserError(`${file}: HDU ${h.index}: no visit id in the header (${VISIT_KEYS.join('/')}); give --visit`);
      let det: number | undefined = o.detector;
      if (det === undefined) {
        // only integer-valued keys: DECam's DETECTOR holds a CCD serial ('S3-222_...'), its CCDNUM the id
        const d = first(hs, DETECTOR_KEYS, (v) => typeof v === 'number' || /^\s*\d+\s*$/.test(v));
        if (d !== undefined) det = checkDetector(d, `${file}: HDU ${h.index}: detector`);
      }
      if (det === undefined) {
        const name = first(hs, ['DETPOS', 'DETNAME', 'EXTNAME']);
        if (name !== undefined && o.detectorByName) det = o.detectorByName(String(name));
      }
      if (det === undefined && hdus.length > 1) det = k + 1;
      if (det === undefined) {
        // a non-integer id key and nothing else: report it (never silently skipped, never a path)
        const raw = first(hs, DETECTOR_KEYS);
        if (raw !== undefined) det = checkDetector(raw, `${file}: HDU ${h.index}: detector`);
      }
      if (det === undefined) throw new UserError(`${file}: no detector id in the header (${DETECTOR_KEYS.join('/')}); give --detector`);
      const filter = first(hs, ['FILTER', 'BAND']);
      const mjd = first(hs, ['MJD-OBS', 'MJD']);
      return {
        visit: checkVisit(String(visitV), `${file}: visit`),
        detector: checkDetector(det, `${file}: detector`),
        file: abs,
        hdu: h.index,
        ...(filter !== undefined ? { filter: String(filter) } : {}),
        ...(typeof mjd === 'number' ? { mjd } : {}),
      };
    });
  } finally {
    f.close();
  }
}
