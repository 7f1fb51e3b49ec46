import type { CommandFactory } from './index.js';
import { Repo } from '../repo.js';
import { checkVisit, parseDetectorList } from '../ids.js';
import { parseMemory } from '../memory.js';
import { makeProgress, type LogLevel } from '../progress.js';
import { runVisitJob } from '../visit-run.js';
import { engineOptions, slurmLog, slurmOptionsFrom } from '../engines/slurm-cli.js';
import { runVisitSlurm } from '../engines/slurm.js';
import { buildConfig, paramOptions } from '../../pipeline/config-cli.js';
import { checkJobs, EXIT } from '../../util/cli.js';
import { readFileSync } from 'node:fs';
import { UserError } from '../../util/errors.js';

export const visitCommand: CommandFactory = (setExit) => ({
  command: 'visit <visit>',
  describe: 'Process one visit (all its CCDs) with the visit-level fits',
  builder: (y) =>
    y
      .positional('visit', { type: 'string', describe: 'Visit id' })
      .option('repo', { type: 'string', describe: 'Repository (default $LSST_REPO, then the current directory)' })
      .option('memory', { type: 'string', default: 'auto', describe: 'Memory budget for CCD working sets, e.g. 4GiB (spill and replay beyond it; auto: half the machine, unlimited: never spill)' })
      .option('jobs', { alias: 'j', type: 'number', default: 1, describe: 'Worker threads' })
      .option('detectors', { type: 'string', describe: 'Only these detectors, e.g. 0-8,12' })
      .option('config', { alias: 'c', type: 'string', describe: 'Config file: JSON (SExtractor keys) or a SExtractor .sex file' })
      .option('log-level', { type: 'string', choices: ['error', 'warn', 'info', 'debug'], default: 'info' })
      .option('json', { type: 'boolean', describe: 'Print a one-line JSON summary on stdout' })
      .options(paramOptions())
      .options(engineOptions())
      .check(checkJobs),
  handler: async (a) => {
    const visit = checkVisit(a.visit, 'visit');
    const repo = Repo.open(a.repo as string | undefined);
    const config = buildConfig(a as Record<string, unknown>);
    let params: string | undefined;
    if (config.PARAMETERS_NAME) {
      try {
        params = readFileSync(config.PARAMETERS_NAME as string, 'utf8');
      } catch {
        throw new UserError(`${config.PARAMETERS_NAME}: cannot read the parameter file`);
      }
    }
    const slurm = slurmOptionsFrom(a as Record<string, unknown>);
    const detectors = a.detectors ? parseDetectorList(String(a.detectors)) : undefined;
    const memoryBytes = parseMemory(String(a.memory));
    const total = detectors?.length ?? repo.visitRaws(visit).length;
    const progress = await makeProgress(total, a['log-level'] as LogLevel, !!process.stderr.isTTY && !a.json);
    const t0 = performance.now();
    let res;
    try {
      res = slurm
        ? await runVisitSlurm({ repo, visit, config, detectors, params, slurm, onEvent: (e) => progress.onEvent(e), log: slurmLog(a['log-level'] as LogLevel), debug: !!a.debug })
        : await runVisitJob({ repo, visit, config, detectors, params, jobs: a.jobs as number, memoryBytes, onEvent: (e) => progress.onEvent(e), debug: !!a.debug });
    } finally {
      progress.stop();
    }
    const { outcome } = res;
    const seconds = (performance.now() - t0) / 1000;
    if (a.json) {
      process.stdout.write(`${JSON.stringify({ visit, out: res.outDir, done: outcome.done, failed: outcome.failed, stepsComputed: outcome.stepsComputed, stepsReplayed: outcome.stepsReplayed, drops: outcome.drops, seconds })}\n`);
    } else {
      process.stderr.write(`lsst-prod: visit ${visit}: ${outcome.done.length} CCD(s) done, ${outcome.failed.length} failed in ${seconds.toFixed(1)} s -> ${res.outDir}\n`);
    }
    for (const f of outcome.failed) process.stderr.write(`lsst-prod: detector ${f.det} failed: ${f.message}\n`);
    if (outcome.failed.length) setExit(EXIT.partial);
  },
});
