/**
 * Production mode on a simulated 9-CCD visit, through the CLI as users run it (dist/, `npm run build`):
 * byte-identical outputs for any memory budget and --jobs, after kill -9 and resume, for single-step re-runs
 * and frozen re-runs; a failing CCD fails alone; two runs on one visit are refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/lsst-prod.js');
const run = (args: string[], timeout = 120_000) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'prod-'));
const SIM = path.join(tmp, 'sim');

function outputs(repo: string): Record<string, string> {
  const dir = path.join(repo, 'out', '1');
  const o: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) o[f] = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
  return o;
}

function freshRepo(name: string): string {
  const r = path.join(tmp, name);
  const raws = readdirSync(path.join(SIM, 'raw', '1')).map((f) => path.join(SIM, 'raw', '1', f));
  // with the reference catalogue: the byte-identity checks cover every visit-level gather
  const ing = run(['ingest', '--repo', r, ...raws, '--refcat', path.join(SIM, 'truth', '1', 'refcat.fits')]);
  expect(ing.status, ing.stderr).toBe(0);
  return r;
}

let reference: Record<string, string>;

describe('lsst-prod visit on a simulated 9-CCD visit', () => {
  beforeAll(() => {
    const sim = run(['simulate', '--camera', 'test', '--visit', '1', '--repo', SIM, '--seed', '7'], 300_000);
    expect(sim.status, sim.stderr).toBe(0);
    const r = freshRepo('ref');
    const v = run(['visit', '1', '--repo', r]);
    expect(v.status, v.stderr).toBe(0);
    reference = outputs(r);
  }, 600_000);

  it('writes one catalog per CCD, the visit catalog and the summary', () => {
    expect(Object.keys(reference).filter((f) => /^ccd-\d+\.cat\.fits$/.test(f))).toHaveLength(9);
    expect(reference['visit.cat.fits']).toBeDefined();
    expect(reference['summary.fits']).toBeDefined();
  });

  it('is byte-identical under the smallest memory budget that holds one CCD', () => {
    const r = freshRepo('budget');
    const v = run(['visit', '1', '--repo', r, '--memory', '13MB', '--json']);
    expect(v.status, v.stderr).toBe(0);
    const s = JSON.parse(v.stdout);
    expect(s.drops).toBeGreaterThan(0); // the budget really forced spills and replays
    expect(outputs(r)).toEqual(reference);
  });

  it('is byte-identical with --jobs 2', () => {
    const r = freshRepo('jobs2');
    const v = run(['visit', '1', '--repo', r, '--jobs', '2']);
    expect(v.status, v.stderr).toBe(0);
    expect(outputs(r)).toEqual(reference);
  });

  it('survives five kill -9 at random moments and resumes to the same bytes', async () => {
    const r = freshRepo('kill');
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let kills = 0;
    for (let i = 0; i < 5; i++) {
      const child = spawn(process.execPath, [BIN, 'visit', '1', '--repo', r, '--memory', '30MB'], { stdio: 'ignore' });
      const delay = 250 + rand() * 900; // node starts in ~150 ms; a 9-CCD visit takes ~2 s
      const exited = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(false);
        }, delay);
        child.on('exit', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      if (!exited) {
        kills++;
        await new Promise((res) => child.on('exit', res));
      }
    }
    const v = run(['visit', '1', '--repo', r, '--json']);
    expect(v.status, v.stderr).toBe(0);
    expect(kills).toBeGreaterThan(0);
    expect(outputs(r)).toEqual(reference);
  }, 300_000);

  it('re-runs one step from persisted intermediates byte-identically', () => {
    const r = path.join(tmp, 'ref');
    const v = run(['rerun', 'visit', '1', '--repo', r, '--detector', '4', '--step', 'detect', '--json']);
    expect(v.status, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toEqual([expect.objectContaining({ step: 'detect', identical: true })]);
    const st = run(['status', 'visit', '1', '--repo', r, '--json']);
    const s = JSON.parse(st.stdout);
    expect(s.ccds.every((c: { status: string }) => c.status === 'done')).toBe(true);
  });

  it('freezes a CCD and re-runs it elsewhere identically', () => {
    const r = path.join(tmp, 'ref');
    const dir = path.join(tmp, 'frozen');
    const f = run(['freeze', 'visit', '1', '--repo', r, '--detector', '4', '-o', dir]);
    expect(f.status, f.stderr).toBe(0);
    const moved = path.join(tmp, 'elsewhere');
    cpSync(dir, moved, { recursive: true });
    rmSync(dir, { recursive: true });
    const v = run(['rerun', '--from', moved, '--json']);
    expect(v.status, v.stderr).toBe(0);
    const checks = JSON.parse(v.stdout) as { step: string; identical: boolean }[];
    // the persisted ones
    expect(checks.map((c) => c.step)).toEqual(['background', 'background.visit', 'detect', 'measure', 'psf.select', 'psf.accumulate0', 'psf.accumulate1', 'psf', 'calibrate.visit', 'write']);
    expect(checks.every((c) => c.identical)).toBe(true);
  });

  it('fails a broken CCD alone, exits 3, and retries only it', () => {
    const r = path.join(tmp, 'broken');
    cpSync(path.join(SIM, 'raw'), path.join(tmp, 'raw-broken'), { recursive: true });
    const raws = readdirSync(path.join(tmp, 'raw-broken', '1')).sort().map((f) => path.join(tmp, 'raw-broken', '1', f));
    expect(run(['ingest', '--repo', r, ...raws]).status).toBe(0);
    // damaged after ingest (a disk error, a bad copy): that CCD throws when it loads its pixels
    const victim = raws[4];
    truncateSync(victim, Math.floor(statSync(victim).size / 2));
    const v = run(['visit', '1', '--repo', r, '--json']);
    expect(v.status).toBe(3);
    const s = JSON.parse(v.stdout);
    expect(s.done).toHaveLength(8);
    expect(s.failed).toHaveLength(1);
    expect(v.stderr).toMatch(/detector \d+ failed: .*truncated|detector \d+ failed: .*bytes/);
    // restore the file: only the failed CCD runs again
    cpSync(path.join(SIM, 'raw', '1', path.basename(victim)), victim);
    const again = run(['visit', '1', '--repo', r, '--json']);
    expect(again.status, again.stderr).toBe(0);
    const s2 = JSON.parse(again.stdout);
    expect(s2.done).toHaveLength(9);
    // only the failed CCD computes its persisted steps (as many as each good CCD did in the first run)
    expect(s.stepsComputed % 8).toBe(0);
    expect(s.stepsComputed).toBeGreaterThanOrEqual(8 * 4);
    expect(s2.stepsComputed).toBe(s.stepsComputed / 8);
  });

  it('refuses a second run on the same visit while one is running', async () => {
    const r = freshRepo('lock');
    const first = spawn(process.execPath, [BIN, 'visit', '1', '--repo', r], { stdio: 'ignore' });
    await new Promise((res) => setTimeout(res, 300));
    const second = run(['visit', '1', '--repo', r]);
    await new Promise((res) => first.on('exit', res));
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(/already being processed/);
    expect(existsSync(path.join(r, 'locks', '1.lock'))).toBe(false);
  }, 120_000);
});
