/**
 * `lsst-prod visit N --engine slurm`: the durable executor mapped onto Slurm. Gather round g is one job array
 * (task i replays CCD dets[i] up to gather g, posts its summary and exits), then one reducer job that depends on
 * it (afterany: dead tasks do not block the round). Tasks that died without recording anything are resubmitted
 * (--retries); a CCD whose code throws is recorded as failed by its task and never retried. Once every CCD has
 * ended, this driver writes the visit outputs with the same code as the local engine. The repository on the
 * shared filesystem is the only channel; per-job scripts, logs and reports go to <state>/slurm/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../catalog/write.js';
import type { Config } from '../../pipeline/config.js';
import type { CoordinatorEvent, VisitOutcome } from '../../pipeline/coordinator.js';
import { keys, readRecord, writeRecord, type CcdStatus, type Named } from '../../pipeline/durable.js';
import { FsStore } from '../../pipeline/store.js';
import { UserError } from '../../util/errors.js';
import type { Repo } from '../repo.js';
import { BYTES_PER_PIXEL, visitPipeline, type VisitJob } from '../visit-pipeline.js';
import { buildJob, jobDigest, writeVisitOutputs, type VisitRunResult } from '../visit-run.js';
import { activeJobs, sbatch, scancel, writeJobScript } from './slurm-cmd.js';
import type { SlurmOptions } from './slurm-cli.js';
import type { TaskReport } from './slurm-jobs.js';

export interface SlurmRunOptions {
  repo: Repo;
  visit: string;
  config: Config;
  detectors?: number[];
  params?: string;
  slurm: SlurmOptions;
  onEvent?: (e: CoordinatorEvent) => void;
  /** progress lines about jobs (submissions; retries with warn) */
  log?: (msg: string, warn?: boolean) => void;
  debug?: boolean;
}

const MiB = 2 ** 20;
/** Memory of a Node.js process with the pipeline's modules loaded, beyond the CCD's working set. */
const PROCESS_BASE = 256 * MiB;
const REDUCER_MEM_MB = 1024;
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/lsst-prod.js');

/** sbatch --mem (in MiB) for tasks of these CCDs: the pipeline's working-set estimate with a margin. */
export function taskMemoryMB(job: VisitJob, dets: readonly number[]): number {
  let est = 0;
  for (const d of dets) est = Math.max(est, visitPipeline.estimateBytes?.(d, job) ?? 0);
  if (!est) est = 4096 * 4096 * BYTES_PER_PIXEL;
  return Math.ceil((1.5 * est + PROCESS_BASE) / MiB);
}

/** One submitted job, as recorded in slurm/jobs.json. */
interface JobRecord {
  kind: 'tasks' | 'reduce';
  round: number;
  attempt: number;
  jobId: string;
  script: string;
  log: string;
  detectors?: number[];
  /** per detector, once the array has left the queue: what its task recorded ('died': nothing) */
  outcomes?: Record<string, TaskReport['outcome'] | 'died'>;
}

class Interrupted extends Error {}

export async function runVisitSlurm(o: SlurmRunOptions): Promise<VisitRunResult> {
  const job = buildJob(o.repo, o.visit, o.config, o.detectors, o.params);
  const digest = jobDigest(job);
  const stateDir = o.repo.stateDir(o.visit, digest);
  const unlock = o.repo.lock(o.visit);
  const submitted: string[] = [];
  let interrupted: string | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      // a second Ctrl-C: cancel again and leave at once
      scancel(submitted);
      unlock();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    interrupted = sig;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(job.outDir, { recursive: true });
    writeFileAtomic(path.join(stateDir, 'job.json'), `${JSON.stringify(job, null, 1)}\n`);
    writeFileAtomic(path.join(path.dirname(stateDir), 'latest'), `${digest}\n`);
    const store = new FsStore(stateDir);
    const dets = Object.keys(job.raws).map(Number).sort((a, b) => a - b);
    const run = new SlurmRun(o, job, stateDir, store, dets, submitted, {
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          if (interrupted) throw new Interrupted();
          const t = setTimeout(resolve, ms);
          wake = () => (clearTimeout(t), resolve());
        }).then(() => {
          if (interrupted) throw new Interrupted();
        }),
      check: () => {
        if (interrupted) throw new Interrupted();
      },
    });
    let outcome: VisitOutcome;
    try {
      outcome = await run.execute();
    } catch (e) {
      const cancelled = await cancelAll(submitted, o.log);
      if (interrupted) {
        const which = cancelled.length ? `cancelled Slurm job(s) ${cancelled.join(', ')}` : 'no Slurm job was queued';
        throw new UserError(`interrupted (${interrupted}): ${which}; run the same command to resume`, interrupted === 'SIGINT' ? 130 : 143);
      }
      throw e;
    }
    await writeVisitOutputs(job, store, dets);
    return { outcome, outDir: job.outDir, stateDir, job };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unlock();
  }
}

/** scancel everything still queued, then wait (up to 20 s) until slurmctld has let go of it; returns what was cancelled. */
async function cancelAll(ids: string[], log?: (m: string, warn?: boolean) => void): Promise<string[]> {
  const cancelled = [...(await activeJobs(ids).catch(() => new Set(ids)))];
  if (!cancelled.length) return cancelled;
  log?.(`cancelling Slurm job(s) ${cancelled.join(', ')}`, true);
  scancel(cancelled);
  let active = cancelled;
  for (let i = 0; i < 80 && active.length; i++) {
    await new Promise((r) => setTimeout(r, 250));
    active = [...(await activeJobs(active).catch(() => new Set<string>()))];
  }
  return cancelled;
}

interface Waits {
  sleep(ms: number): Promise<void>;
  check(): void;
}

class SlurmRun {
  private readonly slurmDir: string;
  private readonly jobs: JobRecord[] = [];
  private readonly deaths = new Map<number, number>();
  private readonly outcome: VisitOutcome = { done: [], failed: [], stepsComputed: 0, stepsReplayed: 0, drops: 0, starts: 0 };

  constructor(
    private readonly o: SlurmRunOptions,
    private readonly job: VisitJob,
    private readonly stateDir: string,
    private readonly store: FsStore,
    private readonly dets: number[],
    private readonly submitted: string[],
    private readonly waits: Waits,
  ) {
    this.slurmDir = path.join(stateDir, 'slurm');
    // the history of earlier runs of this job (attempt numbers continue from it)
    try {
      this.jobs.push(...(JSON.parse(readFileSync(path.join(this.slurmDir, 'jobs.json'), 'utf8')) as JobRecord[]));
    } catch {
      // first run, or an unreadable history: start a new one
    }
  }

  private status(det: number): CcdStatus | undefined {
    return readRecord<CcdStatus>(this.store, keys.status(det));
  }

  private open(): number[] {
    return this.dets.filter((d) => !this.status(d));
  }

  async execute(): Promise<VisitOutcome> {
    mkdirSync(this.slurmDir, { recursive: true });
    // as the local engine does, a new run retries the CCDs that failed in an earlier one (their tasks would
    // otherwise stop at the recorded status); rounds reduced without them keep their results
    const retry = this.dets.filter((d) => this.status(d)?.state === 'failed');
    if (retry.length) this.o.log?.(`retrying detector(s) ${retry.join(', ')}, failed in an earlier run`);
    for (const det of retry) this.store.remove(keys.status(det));
    for (let g = 0; this.open().length; g++) {
      if (readRecord<Named<unknown>>(this.store, keys.result(g))) continue; // reduced by an earlier run
      await this.round(g);
    }
    for (const det of this.dets) {
      const st = this.status(det)!;
      if (st.state === 'done') this.outcome.done.push(det);
      else this.outcome.failed.push({ det, message: st.message });
    }
    return this.outcome;
  }

  /** Run gather round g to its end: its result persisted, or every CCD ended (the last round). */
  private async round(g: number): Promise<void> {
    const rdir = path.join(this.slurmDir, `r${pad(g, 3)}`);
    mkdirSync(rdir, { recursive: true });
    let attempt = this.jobs.filter((j) => j.round === g && j.kind === 'reduce').length;
    // CCDs that posted to g in an earlier run need no task
    let pending = this.open().filter((d) => !this.store.read(keys.summary(g, d)));
    for (;;) {
      this.waits.check();
      const tdir = path.join(rdir, `t${pad(attempt, 2)}`);
      mkdirSync(tdir, { recursive: true });
      const ids: string[] = [];
      let tasks: JobRecord | undefined;
      if (pending.length) {
        tasks = await this.submitTasks(g, attempt, tdir, pending);
        ids.push(tasks.jobId);
      }
      const reduce = await this.submitReduce(g, attempt, tdir, tasks?.jobId);
      ids.push(reduce.jobId);
      await this.waitGone(ids);
      if (tasks) this.collect(g, tasks, tdir);
      this.saveJobs();
      const result = readRecord<Named<unknown>>(this.store, keys.result(g));
      if (result) {
        this.o.onEvent?.({ kind: 'reduce', g, name: result.name, ms: reducerMs(tdir) });
        return;
      }
      const open = this.open();
      if (!open.length) return;
      const missing = open.filter((d) => !this.store.read(keys.summary(g, d)));
      if (!missing.length) throw new Error(`the reducer of gather round ${g} failed (Slurm job ${reduce.jobId}): see ${reduce.log}\n${tail(reduce.log)}`);
      pending = [];
      for (const det of missing) {
        const n = (this.deaths.get(det) ?? 0) + 1;
        this.deaths.set(det, n);
        const i = tasks?.detectors?.indexOf(det) ?? -1;
        const where = i >= 0 ? ` (log ${path.join(tdir, `task-${i}.log`)}: ${lastLine(path.join(tdir, `task-${i}.log`))})` : '';
        if (n <= this.o.slurm.retries) {
          this.o.log?.(`detector ${det}: its Slurm task died without recording anything${where}; resubmitting (retry ${n} of ${this.o.slurm.retries})`, true);
          pending.push(det);
          continue;
        }
        const message = `its Slurm task died ${n} time(s) (killed by a signal, out of memory, node failure or time limit); logs in ${rdir}`;
        this.o.log?.(`detector ${det}: its Slurm task died ${n} time(s)${where}; giving up on it`, true);
        writeRecord(this.store, keys.status(det), { state: 'failed', message } satisfies CcdStatus);
        this.o.onEvent?.({ kind: 'failed', det, message });
      }
      attempt++;
    }
  }

  /** Options of every job; the log goes to dir/file, file being an sbatch filename pattern (task-%a.log). */
  private common(name: string, dir: string, file: string): string[] {
    const s = this.o.slurm;
    return [
      `--job-name=${name}`,
      // sbatch expands %-patterns in --output: a literal % of the directory is written %%
      `--output=${path.join(dir.replace(/%/g, '%%'), file)}`,
      `--chdir=${this.slurmDir}`,
      '--nodes=1',
      '--ntasks=1',
      '--cpus-per-task=1',
      ...(s.partition ? [`--partition=${s.partition}`] : []),
      ...(s.account ? [`--account=${s.account}`] : []),
      ...(s.time ? [`--time=${s.time}`] : []),
      ...s.sbatchArgs,
    ];
  }

  private jobName(g: number, kind: string): string {
    return `lsstprod-v${this.job.visit}-r${pad(g, 3)}-${kind}`;
  }

  private async submitTasks(g: number, attempt: number, tdir: string, pending: number[]): Promise<JobRecord> {
    const script = path.join(tdir, 'tasks.sh');
    const node = process.env.LSST_PROD_SLURM_NODE || process.execPath;
    writeJobScript(script, [node, BIN, '_slurm-task', this.stateDir, '--detectors', pending.join(','), '--reports', tdir, ...(this.o.debug ? ['--debug'] : [])], [
      `lsst-prod visit ${this.job.visit}, gather round ${g}, attempt ${attempt}: one task per CCD`,
      `array index i runs detector number i of: ${pending.join(',')}`,
    ]);
    const mem = taskMemoryMB(this.job, pending);
    const log = path.join(tdir, 'task-%a.log');
    const jobId = await sbatch([`--array=0-${pending.length - 1}`, `--mem=${mem}M`, ...this.common(this.jobName(g, 'tasks'), tdir, 'task-%a.log'), script]);
    this.submitted.push(jobId);
    for (const det of pending) this.o.onEvent?.({ kind: 'start', det, replay: this.store.list(keys.ccd(det)).length > 0 });
    this.o.log?.(`gather round ${g}: Slurm array job ${jobId}, ${pending.length} CCD task(s), --mem=${mem}M`);
    const rec: JobRecord = { kind: 'tasks', round: g, attempt, jobId, script, log, detectors: pending };
    this.jobs.push(rec);
    this.saveJobs();
    return rec;
  }

  private async submitReduce(g: number, attempt: number, tdir: string, after?: string): Promise<JobRecord> {
    const script = path.join(tdir, 'reduce.sh');
    const node = process.env.LSST_PROD_SLURM_NODE || process.execPath;
    writeJobScript(script, [node, BIN, '_slurm-reduce', this.stateDir, '--round', String(g), '--report', path.join(tdir, 'reduce.json'), ...(this.o.debug ? ['--debug'] : [])], [
      `lsst-prod visit ${this.job.visit}, gather round ${g}, attempt ${attempt}: the central reducer`,
    ]);
    const log = path.join(tdir, 'reduce.log');
    const dep = after ? [`--dependency=afterany:${after}`, '--kill-on-invalid-dep=yes'] : [];
    const jobId = await sbatch([...dep, `--mem=${REDUCER_MEM_MB}M`, ...this.common(this.jobName(g, 'reduce'), tdir, 'reduce.log'), script]);
    this.submitted.push(jobId);
    this.o.log?.(`gather round ${g}: Slurm reducer job ${jobId}${after ? ` (after ${after})` : ''}`);
    const rec: JobRecord = { kind: 'reduce', round: g, attempt, jobId, script, log };
    this.jobs.push(rec);
    this.saveJobs();
    return rec;
  }

  /** Block until none of these jobs is queued any more: squeue, every 0.25 s at first, backing off to 3 s. */
  private async waitGone(ids: string[]): Promise<void> {
    let ms = 250;
    for (;;) {
      this.waits.check();
      if (!(await activeJobs(ids)).size) return;
      await this.waits.sleep(ms);
      ms = Math.min(3000, ms * 1.2);
    }
  }

  /** What each task of an array recorded: its report, or 'died' when it left nothing. */
  private collect(g: number, rec: JobRecord, tdir: string): void {
    rec.outcomes = {};
    for (const det of rec.detectors ?? []) {
      let r: TaskReport | undefined;
      try {
        r = JSON.parse(readFileSync(path.join(tdir, `det-${pad(det, 4)}.json`), 'utf8')) as TaskReport;
      } catch {
        r = undefined;
      }
      rec.outcomes[String(det)] = r?.outcome ?? 'died';
      if (!r) continue;
      this.outcome.starts++;
      this.outcome.stepsComputed += r.counters.stepsComputed;
      this.outcome.stepsReplayed += r.counters.stepsReplayed;
      if (r.outcome === 'posted') this.o.onEvent?.({ kind: 'posted', det, g: r.gather ?? g, name: this.summaryName(g, det) });
      else if (r.outcome === 'done') this.o.onEvent?.({ kind: 'done', det, counters: r.counters });
      else if (r.outcome === 'failed') this.o.onEvent?.({ kind: 'failed', det, message: r.message ?? '' });
    }
  }

  private summaryName(g: number, det: number): string {
    return readRecord<{ name: string }>(this.store, keys.summary(g, det))?.name ?? '?';
  }

  private saveJobs(): void {
    writeFileAtomic(path.join(this.slurmDir, 'jobs.json'), `[\n${this.jobs.map((j) => JSON.stringify(j)).join(',\n')}\n]\n`);
  }
}

/** How long the reducer itself took (from its report), NaN when unknown. */
function reducerMs(tdir: string): number {
  try {
    return (JSON.parse(readFileSync(path.join(tdir, 'reduce.json'), 'utf8')) as { ms: number }).ms;
  } catch {
    return NaN;
  }
}

/** The last line of a job log, for a warning. */
function lastLine(file: string): string {
  const t = tail(file).split('\n');
  return t[t.length - 1] || '(empty)';
}

/** The last lines of a job log, for an error message. */
function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}
