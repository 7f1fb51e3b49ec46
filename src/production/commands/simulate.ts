import path from 'node:path';
import type { CommandFactory } from './index.js';
import { checkVisit, parseDetectorList } from '../ids.js';
import { simulateVisit } from '../../sim/visit.js';
import { UserError } from '../../util/errors.js';

/** `lsst-prod simulate`: write a simulated raw visit with its truth and reference catalogue into a repository. */
export const simulateCommand: CommandFactory = () => ({
  command: 'simulate',
  describe: 'Simulate a raw visit (one FITS file per CCD) with truth tables and a reference catalogue',
  builder: (y) =>
    y
      .option('camera', { type: 'string', demandOption: true, describe: 'Camera: lsstcam|decam|megacam|test, FILE.json or FILE.ahead' })
      .option('visit', { type: 'string', demandOption: true, describe: 'Visit id' })
      .option('repo', { type: 'string', describe: 'Repository root (default $LSST_REPO, then the current directory)' })
      .option('detectors', { type: 'string', describe: 'Detector ids, e.g. "0,4,90-98" (default all)' })
      .option('scale', { type: 'number', default: 1, describe: 'Shrink each CCD by this factor (0 < F <= 1), keeping the pixel scale' })
      .option('seed', { type: 'number', default: 0, describe: 'Random seed (same arguments give byte-identical files)' })
      .option('jobs', { alias: 'j', type: 'number', default: 1, describe: 'Worker threads' })
      .option('masks', { type: 'boolean', describe: 'Also write each CCD\'s defect mask under truth/' })
      .option('json', { type: 'boolean', describe: 'Print a one-line JSON summary on stdout' }),
  handler: async (a) => {
    for (const k of ['scale', 'seed', 'jobs']) {
      if (typeof a[k] !== 'number' || !Number.isFinite(a[k])) throw new UserError(`option --${k} needs a number`);
    }
    const visit = checkVisit(a.visit, '--visit');
    const root = path.resolve((a.repo as string | undefined) ?? process.env.LSST_REPO ?? '.');
    const jobs = a.jobs as number;
    if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs must be a positive integer, got ${jobs}`);
    const tty = process.stderr.isTTY && !a.json;
    const r = await simulateVisit({
      camera: String(a.camera),
      visit,
      outDir: root,
      detectors: a.detectors !== undefined ? parseDetectorList(String(a.detectors)) : undefined,
      scale: a.scale as number,
      seed: a.seed as number,
      jobs,
      masks: !!a.masks,
      onDetector: (s, done, total) => {
        if (tty) process.stderr.write(`\rlsst-prod: simulated ${done}/${total} CCDs (last ${s.name})`);
      },
    });
    if (tty) process.stderr.write('\n');
    const stars = r.detectors.reduce((n, d) => n + d.stars, 0);
    const galaxies = r.detectors.reduce((n, d) => n + d.galaxies, 0);
    if (a.json) {
      process.stdout.write(`${JSON.stringify({ visit, camera: r.model.camera.name, detectors: r.detectors.length, stars, galaxies, raws: r.raws, truth: r.truth, refcat: r.refcat, seconds: r.seconds })}\n`);
      return;
    }
    const e = r.model.pointingError;
    process.stdout.write(
      `lsst-prod: simulated visit ${visit} of ${r.model.camera.name}: ${r.detectors.length} CCD(s), ${stars} stars, ${galaxies} galaxies in ${r.seconds.toFixed(1)} s\n` +
        `  raw:    ${path.dirname(r.raws[0])}\n` +
        `  truth:  ${r.truth} (pointing error ${e.totalArcsec.toFixed(1)} arcsec, rotation ${e.rotationDeg.toFixed(4)} deg)\n` +
        `  refcat: ${r.refcat}\n` +
        `  next:   lsst-prod ingest --repo ${root} ${path.dirname(r.raws[0])}/*.fits --refcat ${r.refcat}\n`,
    );
  },
});
