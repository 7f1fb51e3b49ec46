/**
 * `lsst-prod visit --engine slurm` on a simulated 9-CCD visit, through the built CLI (dist/: `npm run build`)
 * and a real Slurm cluster (scripts/slurm-local.sh up makes a single-node one). The oracle is the local engine:
 * every output file must be byte-identical to `--engine local`. Also: a task killed mid-run is resubmitted,
 * a CCD that always fails is reported with exit code 3 (and never retried), Ctrl-C cancels every job and exits 130.
 * Skips visibly when no Slurm cluster answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BYTES_PER_PIXEL } from '../../src/production/visit-pipeline.js';

const ROOT = path.resolve(__dirname, '../..');
const KILL_ENV = 'LSST_PROD_TEST_SLURM_KILL';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'prod-slurm-'));
const SIM = path.join(tmp, 'sim');
/**
 * A private copy of the built program (dist/ and bin/; node_modules and data/ linked): the driver and every
 * Slurm job run the same code even if dist/ is rebuilt while the test runs (the work tree is shared).
 */
const APP = path.join(tmp, 'app');
const BIN = path.join(APP, 'bin/lsst-prod.js');

/** Whether a Slurm cluster answers with a usable node; the reason when not. */
function slurmAvailable(): string | undefined {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) return `sinfo is not available (${(r.error as NodeJS.ErrnoException).code}): install and start one with 'sudo scripts/slurm-local.sh up'`;
  if (r.status !== 0) return `the Slurm cluster is not up (sinfo: ${r.stderr.trim().split('\n').pop()}): 'sudo scripts/slurm-local.sh up'`;
  if (!/^(idle|mixed|allocated|completing)/m.test(r.stdout)) return `no Slurm node is usable (sinfo states: ${r.stdout.trim().split('\n').join(', ')})`;
  return undefined;
}

const why = slurmAvailable();
if (why) console.warn(`slurm.test: SKIPPED: ${why}`);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI without blocking the event loop (several visits run at once on the cluster). */
function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}


function outputs(repo: string): Record<string, string> {
  const dir = path.join(repo, 'out', '1');
  const o: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) o[f] = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
  return o;
}

async function ingest(repo: string, rawDir: string): Promise<void> {
  const raws = readdirSync(rawDir).sort().map((f) => path.join(rawDir, f));
  const r = await cli(['ingest', '--repo', repo, ...raws]);
  expect(r.status, r.stderr).toBe(0);
}

/** The state directory's slurm/ folder and its job history. */
function slurmState(repo: string): { dir: string; jobs: { kind: string; round: number; attempt: number; detectors?: number[]; outcomes?: Record<string, string> }[] } {
  const state = path.join(repo, 'state', '1');
  const digest = readFileSync(path.join(state, 'latest'), 'utf8').trim();
  const dir = path.join(state, digest, 'slurm');
  return { dir, jobs: JSON.parse(readFileSync(path.join(dir, 'jobs.json'), 'utf8')) };
}

function ourJobs(): string[] {
  const r = spawnSync('squeue', ['-h', '-o', '%i %j %T'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => / lsstprod-v1-/.test(l));
}

let reference: Record<string, string>;
let same: Run;
let killed: Run;
let brokenLocal: Run;
let brokenSlurm: Run;
let exhausted: Run;
let victim: string;
/** gathers of the production pipeline without a reference catalogue: background, psf.fwhm, psf.pass0, psf.pass1 */
const GATHERS = 4;
const ROUNDS = Array.from({ length: GATHERS + 1 }, (_, r) => r);

describe.skipIf(!!why)('lsst-prod visit --engine slurm on a simulated 9-CCD visit', () => {
  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist/production/engines/slurm.js'))) throw new Error('dist/ is not built: run npm run build first');
    for (const d of ['dist', 'bin']) cpSync(path.join(ROOT, d), path.join(APP, d), { recursive: true });
    for (const d of ['node_modules', 'data']) symlinkSync(path.join(ROOT, d), path.join(APP, d));
    writeFileSync(path.join(APP, 'package.json'), readFileSync(path.join(ROOT, 'package.json')));
    const sim = await cli(['simulate', '--camera', 'test', '--visit', '1', '--repo', SIM, '--seed', '7']);
    expect(sim.status, sim.stderr).toBe(0);
    const raw = path.join(SIM, 'raw', '1');
    // a damaged copy of the raws, ingested into two repositories, truncated after ingest (as visit.test.ts)
    const rawBroken = path.join(tmp, 'raw-broken');
    cpSync(raw, rawBroken, { recursive: true });
    await Promise.all([
      ingest(path.join(tmp, 'ref'), raw),
      ingest(path.join(tmp, 'same'), raw),
      ingest(path.join(tmp, 'killed'), raw),
      ingest(path.join(tmp, 'exhausted'), raw),
      ingest(path.join(tmp, 'broken-local'), rawBroken),
      ingest(path.join(tmp, 'broken-slurm'), rawBroken),
    ]);
    victim = path.join(rawBroken, readdirSync(rawBroken).sort()[4]);
    truncateSync(victim, Math.floor(statSync(victim).size / 2));
    const ref = await cli(['visit', '1', '--repo', path.join(tmp, 'ref')]);
    expect(ref.status, ref.stderr).toBe(0);
    reference = outputs(path.join(tmp, 'ref'));
    // four visits on the cluster at once: Slurm's scheduling latency, not CPU, dominates their duration
    [same, killed, exhausted, brokenLocal, brokenSlurm] = await Promise.all([
      cli(['visit', '1', '--repo', path.join(tmp, 'same'), '--engine', 'slurm', '--json']),
      // detector 4's first task SIGKILLs itself after its first record write (mid-run, before posting), once
      cli(['visit', '1', '--repo', path.join(tmp, 'killed'), '--engine', 'slurm', '--json', '--retries', '1'], { [KILL_ENV]: '4:1' }),
      // the same kill with no retry allowed: detector 4 fails, the others complete
      cli(['visit', '1', '--repo', path.join(tmp, 'exhausted'), '--engine', 'slurm', '--json', '--retries', '0'], { [KILL_ENV]: '4:1' }),
      cli(['visit', '1', '--repo', path.join(tmp, 'broken-local'), '--json']),
      cli(['visit', '1', '--repo', path.join(tmp, 'broken-slurm'), '--engine', 'slurm', '--json']),
    ]);
  }, 400_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes outputs byte-identical to --engine local, one job array and one reducer per gather round', () => {
    expect(same.status, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout).done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Object.keys(reference).filter((f) => /^ccd-\d+\.cat\.fits$/.test(f))).toHaveLength(9);
    expect(outputs(path.join(tmp, 'same'))).toEqual(reference);
    const { dir, jobs } = slurmState(path.join(tmp, 'same'));
    // one job array and one reducer per gather round (background, psf.fwhm, psf.pass0, psf.pass1), then the last
    // array runs every CCD to its end
    expect(jobs.map((j) => `${j.round}:${j.kind}`)).toEqual(ROUNDS.flatMap((r) => [`${r}:tasks`, `${r}:reduce`]));
    expect(Object.values(jobs[0].outcomes!)).toEqual(Array(9).fill('posted'));
    expect(Object.values(jobs[2 * GATHERS].outcomes!)).toEqual(Array(9).fill('done'));
    // tasks ask for the pipeline's per-CCD memory estimate x 1.5 + 256 MiB (512 x 512 pixel CCDs)
    expect(readFileSync(path.join(dir, 'r000', 't00', 'tasks.sh'), 'utf8')).toMatch(/^exec .*'_slurm-task'/m);
    expect(same.stderr).toContain(`--mem=${Math.ceil((1.5 * 512 * 512 * BYTES_PER_PIXEL) / 2 ** 20) + 256}M`);
    expect(readFileSync(path.join(dir, 'r000', 't00', 'task-4.log'), 'utf8')).toMatch(/detector 4: posted its summary to gather #0/);
  });

  it('resubmits a task killed mid-run and completes the visit identically', () => {
    expect(killed.status, killed.stderr).toBe(0);
    expect(JSON.parse(killed.stdout).done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(killed.stderr).toMatch(/detector 4: its Slurm task died .*resubmitting \(retry 1 of 1\)/);
    const { dir, jobs } = slurmState(path.join(tmp, 'killed'));
    expect(readFileSync(path.join(dir, 'test-killed-4'), 'utf8')).toMatch(/after 1 record write/);
    const r0 = jobs.filter((j) => j.round === 0 && j.kind === 'tasks');
    expect(r0.map((j) => j.detectors)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8], [4]]);
    expect(r0[0].outcomes!['4']).toBe('died');
    expect(r0[1].outcomes!['4']).toBe('posted');
    // the retry replayed the step persisted before the kill
    const rep = JSON.parse(readFileSync(path.join(dir, 'r000', 't01', 'det-0004.json'), 'utf8'));
    expect(rep.counters.stepsReplayed).toBe(1);
    expect(outputs(path.join(tmp, 'killed'))).toEqual(reference);
  });

  it('fails a CCD whose task died more often than --retries allows, and completes the others', () => {
    expect(exhausted.status, exhausted.stderr).toBe(3);
    const s = JSON.parse(exhausted.stdout);
    expect(s.done).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
    expect(s.failed).toEqual([{ det: 4, message: expect.stringMatching(/^its Slurm task died 1 time\(s\)/) }]);
    expect(exhausted.stderr).toMatch(/detector 4: its Slurm task died 1 time\(s\) .*giving up on it/);
    const { jobs } = slurmState(path.join(tmp, 'exhausted'));
    // round 0: the array, its reducer (incomplete), then a reducer alone once detector 4 is given up
    expect(jobs.map((j) => `${j.round}:${j.kind}:${j.attempt}`)).toEqual(['0:tasks:0', '0:reduce:0', '0:reduce:1', ...ROUNDS.slice(1).flatMap((r) => [`${r}:tasks:0`, `${r}:reduce:0`])]);
    expect(jobs[3].detectors).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
    // the catalogs of the 8 good CCDs are those of the local run in which detector 4 failed (the visit-level fits
    // are made without it in both)
    const out = outputs(path.join(tmp, 'exhausted'));
    const local = outputs(path.join(tmp, 'broken-local'));
    for (const f of Object.keys(out).filter((f) => /^ccd-\d+\.cat\.fits$/.test(f))) expect(out[f], f).toBe(local[f]);
    expect(out['ccd-004.cat.fits']).toBeUndefined();
  });

  it('reports a CCD that always fails (exit 3, not retried) while the others complete, as the local engine does', async () => {
    expect(brokenLocal.status, brokenLocal.stderr).toBe(3);
    expect(brokenSlurm.status, brokenSlurm.stderr).toBe(3);
    const s = JSON.parse(brokenSlurm.stdout);
    expect(s.done).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
    expect(s.failed).toHaveLength(1);
    expect(s.failed[0].det).toBe(4);
    expect(s.failed[0].message).toMatch(/truncated/);
    expect(s.failed).toEqual(JSON.parse(brokenLocal.stdout).failed);
    expect(brokenSlurm.stderr).toMatch(/detector 4 failed: .*truncated/);
    const { jobs } = slurmState(path.join(tmp, 'broken-slurm'));
    // a failure of the CCD's code is data: one task in round 0, none in later rounds, no resubmission
    expect(jobs.filter((j) => j.kind === 'tasks').map((j) => j.detectors)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8], ...ROUNDS.slice(1).map(() => [0, 1, 2, 3, 5, 6, 7, 8])]);
    expect(jobs[0].outcomes!['4']).toBe('failed');
    expect(outputs(path.join(tmp, 'broken-slurm'))).toEqual(outputs(path.join(tmp, 'broken-local')));
    // the file repaired, a new run retries only the failed CCD, as the local engine does
    cpSync(path.join(SIM, 'raw', '1', path.basename(victim)), victim);
    const [l2, s2] = await Promise.all([
      cli(['visit', '1', '--repo', path.join(tmp, 'broken-local'), '--json']),
      cli(['visit', '1', '--repo', path.join(tmp, 'broken-slurm'), '--engine', 'slurm', '--json']),
    ]);
    expect(l2.status, l2.stderr).toBe(0);
    expect(s2.status, s2.stderr).toBe(0);
    expect(JSON.parse(s2.stdout).done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const again = slurmState(path.join(tmp, 'broken-slurm')).jobs.filter((j) => j.kind === 'tasks').slice(1 + GATHERS);
    // every round was reduced without it: only detector 4 runs, from the first round on
    expect(again.length).toBeGreaterThan(0);
    expect(again.map((j) => j.detectors)).toEqual(again.map(() => [4]));
    expect(outputs(path.join(tmp, 'broken-slurm'))).toEqual(outputs(path.join(tmp, 'broken-local')));
  }, 200_000);

  it('cancels every job on Ctrl-C, exits 130, and resumes to the same bytes', async () => {
    const repo = path.join(tmp, 'interrupted');
    await ingest(repo, path.join(SIM, 'raw', '1'));
    expect(ourJobs()).toEqual([]);
    const child = spawn(process.execPath, [BIN, 'visit', '1', '--repo', repo, '--engine', 'slurm'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let seen: string[] = [];
    for (let i = 0; i < 200 && !seen.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = ourJobs();
    }
    expect(seen.length).toBeGreaterThan(0); // jobs really were queued when the interrupt came
    await new Promise((r) => setTimeout(r, 1500)); // some tasks running, others pending
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\): cancelled Slurm job\(s\)/);
    expect(ourJobs()).toEqual([]);
    expect(existsSync(path.join(repo, 'locks', '1.lock'))).toBe(false);
    const again = await cli(['visit', '1', '--repo', repo, '--engine', 'slurm', '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).done).toHaveLength(9);
    expect(outputs(repo)).toEqual(reference);
  }, 200_000);
});
