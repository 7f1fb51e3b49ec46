import { statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import type { CommandFactory } from './index.js';
import { Repo } from '../repo.js';
import { checkVisit, parseDetectorList } from '../ids.js';
import { parseMemory } from '../memory.js';
import { compareVisit, formatCompare } from '../compare.js';
import { buildConfig, paramOptions } from '../../pipeline/config-cli.js';
import { checkJobs } from '../../util/cli.js';
import { UserError } from '../../util/errors.js';

/** `lsst-prod compare visit N`: quick mode CCD by CCD against production on the whole visit. */
export const compareCommand: CommandFactory = () => ({
  command: 'compare <what> <visit>',
  describe: 'Run quick mode on each CCD of a visit and production on the visit; print a comparison per CCD and overall',
  builder: (y) =>
    y
      .positional('what', { type: 'string', describe: 'What to compare: visit' })
      .positional('visit', { type: 'string', describe: 'Visit id' })
      .option('repo', { type: 'string', describe: 'Repository (default $LSST_REPO, then the current directory)' })
      .option('memory', { type: 'string', default: 'auto', describe: 'Memory budget of the production run, e.g. 4GiB (auto: half the machine, unlimited: never spill)' })
      .option('jobs', { alias: 'j', type: 'number', default: 1, describe: 'Threads, for production and for quick mode on the CCDs' })
      .option('detectors', { type: 'string', describe: 'Only these detectors, e.g. 0-8,12' })
      .option('config', { alias: 'c', type: 'string', describe: 'Config file: JSON (SExtractor keys) or a SExtractor .sex file' })
      .option('json', { type: 'string', describe: 'Also write the comparison as JSON to this file' })
      .options(paramOptions())
      .check(checkJobs),
  handler: async (a) => {
    if (a.what !== 'visit') throw new UserError(`compare: unknown '${String(a.what)}' (use: lsst-prod compare visit N)`);
    const visit = checkVisit(a.visit, 'visit');
    // a --json file that cannot be written is found out before the comparison runs, not after
    const jsonDir = a.json ? path.dirname(path.resolve(String(a.json))) : undefined;
    if (jsonDir && !statSync(jsonDir, { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`--json ${String(a.json)}: no such directory ${jsonDir}`);
    const repo = Repo.open(a.repo as string | undefined);
    const config = buildConfig(a as Record<string, unknown>);
    const detectors = a.detectors ? parseDetectorList(String(a.detectors)) : undefined;
    const t0 = performance.now();
    const tty = !!process.stderr.isTTY;
    const r = await compareVisit({
      repo,
      visit,
      config,
      detectors,
      jobs: a.jobs as number,
      memoryBytes: parseMemory(String(a.memory)),
      onQuick: (det, done, total) => {
        if (tty) process.stderr.write(`\rlsst-prod: quick mode ${done}/${total} (detector ${det})   `);
      },
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(formatCompare(r));
    if (a.json) writeFileAtomic(String(a.json), `${JSON.stringify(r, null, 1)}\n`);
    process.stderr.write(`lsst-prod: compared visit ${visit} (${r.rows.length} CCDs) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  },
});
