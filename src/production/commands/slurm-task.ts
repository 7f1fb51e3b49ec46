/**
 * Hidden commands that the Slurm jobs of `lsst-prod visit --engine slurm` run (see engines/slurm.ts):
 *   _slurm-task STATE --detectors D0,D1,... --reports DIR    one CCD per array task (SLURM_ARRAY_TASK_ID)
 *   _slurm-reduce STATE --round G --report FILE              the central reducer of gather round G
 * Not meant to be typed by users; they are absent from --help.
 */
import path from 'node:path';
import { writeFileAtomic } from '../../catalog/write.js';
import { UserError } from '../../util/errors.js';
import { runSlurmReduce, runSlurmTask } from '../engines/slurm-jobs.js';
import { parseDetectorList } from '../ids.js';
import type { CommandFactory } from './index.js';

export const slurmTaskCommand: CommandFactory = (setExit) => ({
  command: '_slurm-task <state>',
  describe: false,
  builder: (y) =>
    y
      .positional('state', { type: 'string', describe: 'State directory of the visit run' })
      .option('detectors', { type: 'string', demandOption: true, describe: 'Detectors by array index' })
      .option('index', { type: 'number', describe: 'Array index (default $SLURM_ARRAY_TASK_ID)' })
      .option('reports', { type: 'string', demandOption: true, describe: 'Directory for the task reports' }),
  handler: async (a) => {
    // keep the order: an explicit list, not a sorted set
    const dets = String(a.detectors).split(',').map((s) => parseDetectorList(s)[0]);
    const index = a.index !== undefined ? Number(a.index) : Number(process.env.SLURM_ARRAY_TASK_ID);
    if (!Number.isInteger(index) || index < 0 || index >= dets.length) {
      throw new UserError(`array index ${String(a.index ?? process.env.SLURM_ARRAY_TASK_ID)} out of range 0-${dets.length - 1}`);
    }
    const det = dets[index];
    const report = path.join(String(a.reports), `det-${String(det).padStart(4, '0')}.json`);
    process.stderr.write(`lsst-prod: Slurm task ${process.env.SLURM_ARRAY_JOB_ID ?? '?'}_${index}: detector ${det}\n`);
    const code = await runSlurmTask(path.resolve(String(a.state)), det, report, { debug: !!a.debug, log: (l) => process.stderr.write(`lsst-prod: ${l}\n`) });
    setExit(code);
    // a coroutine suspended at its gather is abandoned: leave even if something it started keeps a handle open
    setTimeout(() => process.exit(code), 200).unref();
  },
});

export const slurmReduceCommand: CommandFactory = () => ({
  command: '_slurm-reduce <state>',
  describe: false,
  builder: (y) =>
    y
      .positional('state', { type: 'string', describe: 'State directory of the visit run' })
      .option('round', { type: 'number', demandOption: true, describe: 'Gather round' })
      .option('report', { type: 'string', describe: 'Write {kind, ms} here' }),
  handler: async (a) => {
    const g = a.round as number;
    if (!Number.isInteger(g) || g < 0) throw new UserError(`invalid --round ${String(a.round)}`);
    const t0 = performance.now();
    const r = await runSlurmReduce(path.resolve(String(a.state)), g);
    const ms = performance.now() - t0;
    const what =
      r.kind === 'incomplete'
        ? `incomplete: detector(s) ${r.missing.join(', ')} have neither a summary nor a status (their tasks died); the driver resubmits them`
        : r.kind === 'finished'
          ? 'nothing to reduce: every CCD has finished'
          : r.kind === 'already'
            ? 'already reduced'
            : `reduced in ${ms.toFixed(0)} ms`;
    process.stderr.write(`lsst-prod: gather round ${g}: ${what}\n`);
    if (a.report) writeFileAtomic(String(a.report), `${JSON.stringify({ kind: r.kind, ms })}\n`);
  },
});
