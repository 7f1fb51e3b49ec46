/**
 * The Slurm engine's job side without a cluster: the code that array tasks and reducer jobs run (engines/
 * slurm-jobs.ts), driven round by round in this process exactly as the jobs would be, against the local engine
 * as the oracle (byte-identical records and outputs). Also the job-script quoting, checked by /bin/sh itself,
 * and the option checks. Runs everywhere (no Slurm needed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../src/pipeline/config.js';
import { keys, readRecord, writeRecord, type CcdStatus, type Named } from '../../src/pipeline/durable.js';
import { FsStore } from '../../src/pipeline/store.js';
import { isFailed } from '../../src/pipeline/sensor.js';
import { rawEntries } from '../../src/production/ingest.js';
import { Repo } from '../../src/production/repo.js';
import { BYTES_PER_PIXEL, visitPipeline, type VisitJob } from '../../src/production/visit-pipeline.js';
import { buildJob, jobDigest, runVisitJob, writeVisitOutputs } from '../../src/production/visit-run.js';
import { runSlurmReduce, runSlurmTask, type TaskReport } from '../../src/production/engines/slurm-jobs.js';
import { shellQuote, writeJobScript } from '../../src/production/engines/slurm-cmd.js';
import { slurmOptionsFrom } from '../../src/production/engines/slurm-cli.js';
import { taskMemoryMB } from '../../src/production/engines/slurm.js';
import { simulateVisit } from '../../src/sim/visit.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'slurm-jobs-'));
const SIM = path.join(tmp, 'sim');
const DETS = [0, 1, 2, 3, 4, 5, 6, 7, 8];

function repoOf(name: string): Repo {
  const repo = Repo.open(path.join(tmp, name), true);
  const dir = path.join(SIM, 'raw', '1');
  repo.addRaws(readdirSync(dir).sort().flatMap((f) => rawEntries(path.join(dir, f), {})));
  return repo;
}

/** What the Slurm driver does before submitting anything: the job and its state directory. */
function prepare(repo: Repo): { job: VisitJob; stateDir: string; store: FsStore } {
  const job = buildJob(repo, '1', defaultConfig());
  const stateDir = repo.stateDir('1', jobDigest(job));
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(job.outDir, { recursive: true });
  writeFileSync(path.join(stateDir, 'job.json'), `${JSON.stringify(job, null, 1)}\n`);
  return { job, stateDir, store: new FsStore(stateDir) };
}

function hashes(dir: string, filter = (_f: string) => true): Record<string, string> {
  const o: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true }).map(String).filter(filter).sort()) {
    try {
      o[f] = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
    } catch {
      // a directory
    }
  }
  return o;
}

const task = async (stateDir: string, det: number, dir: string): Promise<TaskReport> => {
  const file = path.join(stateDir, 'slurm', dir, `det-${det}.json`);
  expect(await runSlurmTask(stateDir, det, file)).toBe(0);
  return JSON.parse(readFileSync(file, 'utf8')) as TaskReport;
};

let local: { out: string; state: string };

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Slurm jobs (tasks and reducers) driven in-process, against the local engine', () => {
  beforeAll(async () => {
    await simulateVisit({ camera: 'test', visit: '1', outDir: SIM, seed: 7, scale: 1, jobs: 1, masks: false });
    const r = await runVisitJob({ repo: repoOf('local'), visit: '1', config: defaultConfig() });
    expect(r.outcome.done).toEqual(DETS);
    local = { out: r.outDir, state: r.stateDir };
  }, 120_000);

  it('gives byte-identical records and outputs, one task per CCD and one reducer per round', async () => {
    const { job, stateDir, store } = prepare(repoOf('emulated'));
    // round k: every task replays up to gather #k (steps and earlier gathers from the records), posts and stops;
    // then the reducer of round k; the last round's tasks run to their end
    let round = 0;
    for (;; round++) {
      const persisted = DETS.map((d) => store.list(keys.ccd(d)).filter((k) => /\/s\d+$/.test(k)).length);
      const reps: TaskReport[] = [];
      for (const d of DETS) reps.push(await task(stateDir, d, `r${round}`));
      expect(reps.map((r) => r.counters.stepsReplayed)).toEqual(persisted);
      expect(reps.map((r) => r.counters.gathersReplayed)).toEqual(DETS.map(() => round));
      if (reps.every((r) => r.outcome === 'done')) break;
      expect(reps.map((r) => [r.outcome, r.gather])).toEqual(DETS.map(() => ['posted', round]));
      expect(readRecord(store, keys.result(round))).toBeUndefined();
      expect(await runSlurmReduce(stateDir, round)).toEqual({ kind: 'reduced' });
      expect(await runSlurmReduce(stateDir, round)).toEqual({ kind: 'already' });
    }
    // gathers: background, psf.fwhm, psf.pass0, psf.pass1 (no reference catalogue here)
    expect(round).toBe(4);
    expect(await runSlurmReduce(stateDir, round)).toEqual({ kind: 'finished' });
    // a task started again for a finished CCD does nothing
    expect((await task(stateDir, 3, 'again')).outcome).toBe('done');
    await writeVisitOutputs(job, store, DETS);
    expect(hashes(job.outDir)).toEqual(hashes(local.out));
    // every executor record too: step results, summaries, the reducer's result, statuses
    const records = (f: string) => f.endsWith('.rec');
    expect(hashes(stateDir, records)).toEqual(hashes(local.state, records));
    expect(Object.keys(hashes(stateDir, records))).toContain('gather/g000/result.rec');
  }, 120_000);

  it('reports a round with a dead task as incomplete, and reduces a CCD that has no summary as Failed', async () => {
    const { job, stateDir, store } = prepare(repoOf('dead'));
    for (const d of DETS.filter((d) => d !== 4)) await task(stateDir, d, 'r0');
    // detector 4's task died without a trace: the reducer must not run without it while it can be retried
    expect(await runSlurmReduce(stateDir, 0)).toEqual({ kind: 'incomplete', missing: [4] });
    expect(readRecord(store, keys.result(0))).toBeUndefined();
    // retries exhausted: the driver records it as failed, and the round is reduced without it
    const message = 'its Slurm task died 3 time(s)';
    writeRecord(store, keys.status(4), { state: 'failed', message } satisfies CcdStatus);
    expect(await runSlurmReduce(stateDir, 0)).toEqual({ kind: 'reduced' });
    const got = readRecord<Named<unknown>>(store, keys.result(0))!;
    // oracle: the pipeline's reducer over the recorded summaries, detector 4 replaced by Failed
    const summaries = DETS.map((detector) => {
      const rec = readRecord<{ summary: unknown }>(store, keys.summary(0, detector));
      return { detector, summary: rec ? rec.summary : { failed: true as const, message } };
    });
    expect(summaries.filter((s) => isFailed(s.summary)).map((s) => s.detector)).toEqual([4]);
    const expected = visitPipeline.reducers.background(summaries, { visit: '1', detectors: DETS }, job);
    expect(got).toEqual({ name: 'background', value: expected });
    // the focal-plane background was fitted without detector 4 (it has no CCD offset)
    expect(Array.from((got.value as { detectors: ArrayLike<number> }).detectors)).toEqual(DETS.filter((d) => d !== 4));
  }, 120_000);
});

describe('Slurm job scripts and options', () => {
  it('quotes arguments so that /bin/sh passes them through unchanged', () => {
    const words = ['plain', 'with space', "it's", '$HOME', '`id`', '"dq"', 'a\\b', '*', '', '-x', "'", "''\\''"];
    const script = path.join(tmp, 'quote.sh');
    writeJobScript(script, ['/usr/bin/printf', '%s\\0', ...words], ['a comment with\nnewline']);
    const r = spawnSync('/bin/sh', [script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(words);
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(readFileSync(script, 'utf8').split('\n')[1]).toBe('# a comment with newline');
  });

  it('validates the engine options', () => {
    expect(slurmOptionsFrom({ engine: 'local', retries: 2 })).toBeUndefined();
    expect(() => slurmOptionsFrom({ engine: 'local', partition: 'x', retries: 2 })).toThrow(/--partition needs --engine slurm/);
    expect(slurmOptionsFrom({ engine: 'slurm', partition: 'short', time: '10', 'sbatch-arg': ['--qos=debug'], retries: 1 })).toEqual({
      partition: 'short',
      account: undefined,
      time: '10',
      sbatchArgs: ['--qos=debug'],
      retries: 1,
    });
    expect(() => slurmOptionsFrom({ engine: 'slurm', 'sbatch-arg': ['--array=1-3'], retries: 2 })).toThrow(/set by the engine/);
    expect(() => slurmOptionsFrom({ engine: 'slurm', 'sbatch-arg': ['qos=debug'], retries: 2 })).toThrow(/not an sbatch option/);
    expect(() => slurmOptionsFrom({ engine: 'slurm', retries: -1 })).toThrow(/--retries/);
  });

  it('asks for memory from the per-CCD estimate: 1.5 x the working set + 256 MiB for the process', () => {
    const raws: VisitJob['raws'] = {
      1: { input: { image: { file: 'a', hdu: 0 } }, width: 4096, height: 4096 },
      2: { input: { image: { file: 'b', hdu: 0 } }, width: 2048, height: 4096 },
    };
    const job = { visit: '1', raws, config: defaultConfig(), outDir: '/x' } as VisitJob;
    // the largest CCD counts: 4096 x 4096 pixels x BYTES_PER_PIXEL (48 B: 768 MiB) x 1.5
    const mib = (px: number) => Math.ceil((1.5 * px * BYTES_PER_PIXEL) / 2 ** 20);
    expect(taskMemoryMB(job, [1, 2])).toBe(mib(4096 * 4096) + 256);
    expect(taskMemoryMB(job, [2])).toBe(mib(2048 * 4096) + 256);
  });
});
