import type { CommandFactory } from './index.js';
import { Repo } from '../repo.js';
import { rawEntries } from '../ingest.js';
import { checkDetector, checkVisit } from '../ids.js';
import { UserError } from '../../util/errors.js';
import path from 'node:path';
import { writeFileAtomic } from '../../catalog/write.js';
import { cameraFromWcs, cameraToJson, loadCamera, type Camera } from '../../camera/index.js';

export const ingestCommand: CommandFactory = () => ({
  command: 'ingest [files..]',
  describe: 'Index raw CCD files (and/or register a reference catalog) in a repository',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'Raw FITS files (one CCD each, or one visit per MEF)' })
      .option('repo', { type: 'string', describe: 'Repository (default $LSST_REPO, then the current directory)' })
      .option('camera', { type: 'string', describe: 'Camera: lsstcam|decam|megacam|test, FILE.json, FILE.ahead or from-wcs' })
      .option('visit', { type: 'string', describe: 'Visit id for all files (instead of the header)' })
      .option('detector', { type: 'string', describe: 'Detector id (single-CCD files only)' })
      .option('refcat', { type: 'string', describe: 'Register a reference catalog (FITS or CSV with ra, dec and a magnitude)' }),
  handler: async (a) => {
    const files = (a.files as string[] | undefined) ?? [];
    if (!files.length && !a.refcat) throw new UserError('nothing to ingest: give raw files and/or --refcat FILE');
    const repo = Repo.open(a.repo as string | undefined, true);
    const visit = a.visit !== undefined ? checkVisit(a.visit, '--visit') : undefined;
    const detector = a.detector !== undefined ? checkDetector(a.detector, '--detector') : undefined;
    // The camera (kept in R/camera.json) maps CCD names (DETPOS/DETNAME/EXTNAME) to detector ids.
    let camera: Camera | undefined;
    if (a.camera === 'from-wcs') {
      if (files.length !== 1) throw new UserError('--camera from-wcs derives the camera from one multi-extension exposure: give exactly one file');
      camera = cameraFromWcs(files[0]);
    } else if (a.camera) camera = loadCamera(String(a.camera));
    if (camera) {
      writeFileAtomic(path.join(repo.root, 'camera.json'), cameraToJson(camera));
      repo.writeMeta({ ...repo.meta(), camera: 'camera.json' });
    } else if (repo.meta().camera) camera = loadCamera(path.join(repo.root, repo.meta().camera!));
    const byName = new Map((camera?.detectors ?? []).map((d) => [d.name.trim().toUpperCase(), d.id]));
    const detectorByName = (name: string) => byName.get(name.trim().toUpperCase());
    const entries = files.flatMap((f) => rawEntries(f, { visit, detector, detectorByName }));
    const added = entries.length ? repo.addRaws(entries) : 0;
    if (a.refcat) {
      const dest = repo.registerRefcat(String(a.refcat));
      process.stderr.write(`lsst-prod: registered reference catalog ${dest}\n`);
    }
    if (files.length) {
      const visits = [...new Set(entries.map((e) => e.visit))].sort();
      process.stderr.write(`lsst-prod: ingested ${entries.length} CCD(s) (${added} new) of visit(s) ${visits.join(', ')} into ${repo.root}\n`);
    }
  },
});
