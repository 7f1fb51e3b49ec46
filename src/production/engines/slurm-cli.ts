/** Command-line options of `lsst-prod visit` for the execution engine (--engine local|slurm and sbatch passthrough). */
import type { Options } from 'yargs';
import { UserError } from '../../util/errors.js';

export interface SlurmOptions {
  partition?: string;
  account?: string;
  /** sbatch --time for each job, e.g. "30" or "1:00:00" */
  time?: string;
  /** extra sbatch options, appended after the engine's own */
  sbatchArgs: string[];
  /** resubmissions of a task that died (signal, node failure, OOM, time limit) before its CCD counts as failed */
  retries: number;
}

const GROUP = 'Execution engine:';

/** The yargs options (for `.options(...)`). */
export function engineOptions(): Record<string, Options> {
  return {
    engine: { type: 'string', choices: ['local', 'slurm'], default: 'local', group: GROUP, describe: 'Run CCDs in this process (local) or as Slurm job arrays (slurm, shared filesystem)' },
    partition: { type: 'string', group: GROUP, describe: 'Slurm partition (sbatch --partition)' },
    account: { type: 'string', group: GROUP, describe: 'Slurm account (sbatch --account)' },
    time: { type: 'string', group: GROUP, describe: 'Time limit of each Slurm job (sbatch --time), e.g. 30 or 1:00:00' },
    'sbatch-arg': { type: 'string', array: true, group: GROUP, describe: 'Extra sbatch option, repeatable, e.g. --sbatch-arg=--qos=short' },
    retries: { type: 'number', default: 2, group: GROUP, describe: 'Resubmit a Slurm task killed by a signal or a node failure up to N times' },
  };
}

const SLURM_ONLY = ['partition', 'account', 'time', 'sbatch-arg'] as const;

/** Slurm options from parsed arguments, or undefined for the local engine (which rejects Slurm-only options). */
export function slurmOptionsFrom(a: Record<string, unknown>): SlurmOptions | undefined {
  if (a.engine !== 'slurm') {
    const given = SLURM_ONLY.filter((k) => a[k] !== undefined);
    if (given.length) throw new UserError(`option --${given[0]} needs --engine slurm`);
    return undefined;
  }
  const retries = a.retries as number;
  if (!Number.isInteger(retries) || retries < 0 || retries > 100) throw new UserError('option --retries needs an integer from 0 to 100');
  const str = (k: string): string | undefined => {
    const v = a[k];
    if (v === undefined) return undefined;
    const s = String(v).trim();
    if (!s || /[\0\r\n]/.test(s)) throw new UserError(`option --${k}: invalid value '${String(v)}'`);
    return s;
  };
  const extra = ((a['sbatch-arg'] as unknown[] | undefined) ?? []).map(String);
  for (const x of extra) {
    if (!x.startsWith('-') || /[\0\r\n]/.test(x)) throw new UserError(`option --sbatch-arg: '${x}' is not an sbatch option (write --sbatch-arg=--qos=short)`);
    if (/^--?(array|dependency|parsable|output|error|job-name|wrap)\b|^-[adoeJ]/.test(x)) {
      throw new UserError(`option --sbatch-arg: '${x}' is set by the engine itself`);
    }
  }
  return { partition: str('partition'), account: str('account'), time: str('time'), sbatchArgs: extra, retries };
}

/** Where the Slurm engine's job lines go: stderr at --log-level info and debug (warnings also at warn). */
export function slurmLog(level: string): (msg: string, warn?: boolean) => void {
  const verbose = level === 'info' || level === 'debug';
  return (msg, warn) => {
    if (verbose || (warn && level === 'warn')) process.stderr.write(`lsst-prod: ${msg}\n`);
  };
}
