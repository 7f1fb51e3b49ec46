/**
 * Running Debian's /usr/bin/python3 (which has astropy, numpy, sep, photutils) from tests.
 * The `python3` first on PATH may be another interpreter without them: always use PYTHON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parsePythonJson } from './shared.js';

export const PYTHON = '/usr/bin/python3';

function probe(): boolean {
  if (!fs.existsSync(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', 'import astropy, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

/** True when /usr/bin/python3 can import astropy and numpy. */
export const hasAstropy = probe();

/** Print a visible message when astropy is unavailable (call at module level of a test file). */
export function warnNoAstropy(what: string): void {
  if (!hasAstropy) console.warn(`SKIPPED ${what}: ${PYTHON} with astropy not available`);
}

/** Run a Python snippet (or script with `-` replaced) with arguments; returns stdout, throws with stderr on failure. */
export function runPython(code: string, args: string[] = [], timeoutMs = 120_000): string {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: timeoutMs });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python failed (status ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Run a Python script file with arguments; returns stdout. */
export function runPythonFile(script: string, args: string[] = [], timeoutMs = 120_000): string {
  const r = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: timeoutMs });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python ${script} failed (status ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Run a snippet that prints JSON (NaN/Infinity allowed) and parse it. */
export function runPythonJson<T>(code: string, args: string[] = []): T {
  return parsePythonJson<T>(runPython(code, args));
}
