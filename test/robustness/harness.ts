/**
 * Running the CLIs as users do (see launcher.ts), as child processes with a hard timeout, measuring peak
 * RSS, with limited parallelism (2-core machines), plus the assertions every robustness case shares:
 * one-line errors that name the file, no stack traces, nothing partial left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { cliArgv, repoRoot, type Prog } from './launcher.js';

export { repoRoot, type Prog };

/** Per-case wall-clock limit: a case running longer counts as a hang. */
export const CASE_TIMEOUT_MS = 5000;
/** Peak RSS limit for the small files of the corpus and the fuzz. */
export const RSS_LIMIT_KB = 300 * 1024;

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  /** peak resident set size of the child (KiB), when measurable */
  maxRssKB?: number;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** a module loaded with --import before the CLI (fault injection) */
  preload?: string;
}

/** Run one CLI as a child process; killed (SIGKILL) after the timeout. */
export function runCli(prog: Prog, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const argv = cliArgv(prog, args, o.preload);
  const rssFile = hasGnuTime ? path.join(mkdtempSync(path.join(os.tmpdir(), 'rss-')), 'rss') : undefined;
  const full = rssFile ? [GNU_TIME, '-f', '%M', '-o', rssFile, ...argv] : argv;
  const timeoutMs = o.timeoutMs ?? CASE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(full[0], full.slice(1), {
      cwd: o.cwd ?? repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the whole group: time, node and its workers
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let maxRssKB: number | undefined;
      if (rssFile) {
        const m = existsSync(rssFile) ? /(\d+)\s*$/.exec(readFileSync(rssFile, 'utf8')) : null;
        if (m) maxRssKB = Number(m[1]);
        rmSync(path.dirname(rssFile), { recursive: true, force: true });
      }
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, timedOut, maxRssKB });
    });
  });
}

/** Map over items with at most `n` in flight, results in input order. */
export async function pool<T, R>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** Every file under a directory (relative paths, sorted), directories excluded. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), path.join(rel, e.name));
      else out.push(path.join(rel, e.name));
    }
  };
  walk(dir, '');
  return out.sort();
}

/** Temporary files as our writers name them (.NAME.tmp-..., NAME.tmp-..., .NAME.<pid>.<t>.tmp). */
export const TEMP_FILE = /(^|\/)\.[^/]*tmp|\.tmp(-|$)|\.tmp\./;

const STACK = /^\s+at .+[:(]/m;

/** Lines of stderr without the trailing newline. */
export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.length > 0);
}

/** Common checks: no timeout, no crash by signal, no stack trace, no internal error, bounded memory. */
export function expectWellBehaved(r: RunResult, label: string): void {
  expect(r.timedOut, `${label}: hung (killed after ${CASE_TIMEOUT_MS} ms)`).toBe(false);
  expect(r.signal, `${label}: killed by a signal`).toBeNull();
  expect(r.stderr, `${label}: stack trace on stderr`).not.toMatch(STACK);
  expect(r.stderr, `${label}: internal error`).not.toMatch(/internal error/);
  if (r.maxRssKB !== undefined) expect(r.maxRssKB, `${label}: peak RSS ${r.maxRssKB} KiB`).toBeLessThan(RSS_LIMIT_KB);
}

/** Exit 2 and exactly one stderr line `<prog>: error: ...` naming `blame` and matching `problem`. */
export function expectOneLineError(r: RunResult, prog: Prog, label: string, blame?: string, problem?: RegExp): string {
  expectWellBehaved(r, label);
  expect(r.code, `${label}: exit code (stderr: ${r.stderr.trim()})`).toBe(2);
  const ls = lines(r.stderr);
  expect(ls.length, `${label}: stderr has ${ls.length} lines: ${r.stderr}`).toBe(1);
  const line = ls[0];
  expect(line.startsWith(`${prog}: error: `), `${label}: ${line}`).toBe(true);
  if (blame) expect(line, `${label}: the message must name ${blame}`).toContain(blame);
  if (problem) expect(line, `${label}: the message must state the problem`).toMatch(problem);
  return line;
}

/** A fresh temporary directory (removed by the caller). */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `rob-${prefix}-`));
}
