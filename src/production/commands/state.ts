/** lsst-prod status / rerun / freeze: reading and re-executing persisted state. */
import type { CommandFactory } from './index.js';
import { Repo } from '../repo.js';
import { checkDetector, checkVisit } from '../ids.js';
import { ccdStates, openVisitState } from '../state.js';
import { rerunSteps } from '../rerun.js';
import { freezeCcd, thaw } from '../freeze.js';
import { visitPipeline } from '../visit-pipeline.js';
import { EXIT } from '../../util/cli.js';
import { UserError } from '../../util/errors.js';

const kind = { type: 'string', choices: ['visit'], describe: "the word 'visit'" } as const;

export const statusCommand: CommandFactory = () => ({
  command: 'status <kind> <visit>',
  describe: 'Per CCD and step: done/pending/failed, from the persisted state',
  builder: (y) =>
    y
      .positional('kind', kind)
      .positional('visit', { type: 'string' })
      .option('repo', { type: 'string', describe: 'Repository' })
      .option('json', { type: 'boolean', describe: 'JSON output' }),
  handler: (a) => {
    const st = openVisitState(Repo.open(a.repo as string | undefined), checkVisit(a.visit));
    const s = ccdStates(st);
    if (a.json) {
      process.stdout.write(`${JSON.stringify(s)}\n`);
      return;
    }
    const lines = [`visit ${st.job.visit}  (${st.stateDir})`, 'detector  status   steps done                              gathers'];
    for (const c of s.ccds) {
      lines.push(`${String(c.detector).padStart(8)}  ${c.status.padEnd(7)}  ${c.steps.join(',').padEnd(38)}  ${c.gathersPosted}/${s.gathers.length}${c.message ? `  ${c.message}` : ''}`);
    }
    for (const g of s.gathers) lines.push(`gather #${g.g} ${g.name}: ${g.posted} posted, ${g.resolved ? 'reduced' : 'waiting'}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
});

export const rerunCommand: CommandFactory = (setExit) => ({
  command: 'rerun [kind] [visit]',
  describe: "Re-execute one CCD's step from persisted intermediates and report whether it is byte-identical",
  builder: (y) =>
    y
      .positional('kind', kind)
      .positional('visit', { type: 'string' })
      .option('repo', { type: 'string', describe: 'Repository' })
      .option('detector', { type: 'string', describe: 'Detector id' })
      .option('step', { type: 'string', default: 'all', describe: "Step name (e.g. detect, measure), or 'all'" })
      .option('from', { type: 'string', describe: "A directory made by 'lsst-prod freeze'" })
      .option('json', { type: 'boolean', describe: 'JSON output' }),
  handler: async (a) => {
    let res;
    if (a.from) {
      if (a.visit !== undefined) throw new UserError('give either --from DIR or visit N, not both');
      const t = thaw(String(a.from));
      res = await rerunSteps(visitPipeline, t.store, t.job.visit, t.detector, t.job, String(a.step));
    } else {
      if (a.visit === undefined || a.detector === undefined) throw new UserError('rerun needs: visit N --detector D (or --from DIR)');
      const st = openVisitState(Repo.open(a.repo as string | undefined), checkVisit(a.visit));
      const det = checkDetector(a.detector, '--detector');
      if (!st.job.raws[String(det)]) throw new UserError(`detector ${det} is not part of visit ${st.job.visit}`);
      res = await rerunSteps(visitPipeline, st.store, st.job.visit, det, st.job, String(a.step));
    }
    if (a.json) process.stdout.write(`${JSON.stringify(res)}\n`);
    else for (const r of res) process.stdout.write(`step ${r.step} (#${r.seq}): ${r.identical ? 'identical' : 'DIFFERENT'} (${r.ms.toFixed(0)} ms)\n`);
    if (res.some((r) => !r.identical)) setExit(EXIT.failure);
  },
});

export const freezeCommand: CommandFactory = () => ({
  command: 'freeze <kind> <visit>',
  describe: 'Copy exactly what one CCD needs to re-run elsewhere',
  builder: (y) =>
    y
      .positional('kind', kind)
      .positional('visit', { type: 'string' })
      .option('repo', { type: 'string', describe: 'Repository' })
      .option('detector', { type: 'string', demandOption: true, describe: 'Detector id' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'Directory to create' }),
  handler: (a) => {
    const st = openVisitState(Repo.open(a.repo as string | undefined), checkVisit(a.visit));
    const det = checkDetector(a.detector, '--detector');
    freezeCcd(st, det, String(a.output));
    process.stderr.write(`lsst-prod: froze detector ${det} of visit ${st.job.visit} into ${a.output}; re-run with: lsst-prod rerun --from ${a.output}\n`);
  },
});
