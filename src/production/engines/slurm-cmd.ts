/**
 * The Slurm client commands as the visit driver uses them: sbatch --parsable, squeue, scancel. Every command
 * runs from an argument array (execFile, no shell); job scripts are files whose arguments are single-quoted.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { UserError } from '../../util/errors.js';

/** Output of one Slurm client command; rejects only when the command cannot be started at all. */
function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && e.code === 'ENOENT') {
        reject(new UserError(`--engine slurm needs the Slurm client commands on PATH ('${cmd}' not found)`));
        return;
      }
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Quote one word for a POSIX shell: single quotes, with embedded single quotes closed, escaped and reopened. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error('a job script argument cannot contain a NUL byte');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Write a batch script that execs one command. `comment` lines document the job; nothing in the script ends up
 * in the visit's outputs.
 */
export function writeJobScript(file: string, argv: readonly string[], comment: readonly string[]): void {
  const lines = ['#!/bin/sh', ...comment.map((c) => `# ${c.replace(/[\r\n]/g, ' ')}`), `exec ${argv.map(shellQuote).join(' ')}`, ''];
  writeFileSync(file, lines.join('\n'));
  chmodSync(file, 0o755);
}

/** Submit a batch job; returns its job id. A rejected submission is a user-facing error with sbatch's message. */
export async function sbatch(args: readonly string[]): Promise<string> {
  const r = await run('sbatch', ['--parsable', ...args]);
  // --parsable prints "jobid" or "jobid;cluster"
  const id = r.stdout.trim().split(/\s+/).pop()?.split(';')[0] ?? '';
  if (r.code !== 0 || !/^\d+$/.test(id)) {
    const why = (r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n').pop();
    throw new UserError(`sbatch refused the job: ${why}`);
  }
  return id;
}

/**
 * Which of these jobs (or job arrays) are still in the queue (pending, running, completing...). A job that
 * slurmctld has already forgotten ("Invalid job id") is finished.
 */
export async function activeJobs(ids: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (!ids.length) return out;
  const r = await run('squeue', ['-h', '-j', ids.join(','), '-o', '%F %i %T']);
  if (r.code !== 0) {
    if (/invalid job id/i.test(r.stderr)) {
      // one unknown id fails the whole query: ask one at a time
      if (ids.length > 1) for (const id of ids) for (const a of await activeJobs([id])) out.add(a);
      return out;
    }
    throw new Error(`squeue failed: ${r.stderr.trim().split('\n').pop() ?? `exit code ${r.code}`}`);
  }
  for (const line of r.stdout.split('\n')) {
    const [array] = line.trim().split(/\s+/);
    if (array && ids.includes(array)) out.add(array);
  }
  return out;
}

/** Cancel jobs (whole arrays). Synchronous: it also runs from the SIGINT path. */
export function scancel(ids: readonly string[]): void {
  if (!ids.length) return;
  const r = spawnSync('scancel', [...ids], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`scancel failed: ${r.error.message}`);
}
