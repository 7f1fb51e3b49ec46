/**
 * Helpers for the lsst-prod robustness tests: a two-CCD visit made from simulated raws, the repository's
 * files as bytes, and an independent consistency check of the state records (magic, sha256 trailer) and
 * of the outputs (astropy).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { baseField } from './corpus.js';
import { card, imageHDU } from './fitsbytes.js';
import { listFiles, runCli, TEMP_FILE } from './harness.js';
import { astropyCatalogs, hasAstropy } from './oracle.js';

export const VISIT = '42';

/** Two raw CCD files (VISIT 42, DETECTOR 1 and 2) in `dir`. */
export function makeRaws(dir: string): string[] {
  return [1, 2].map((d) => {
    const f = path.join(dir, `raw-${d}.fits`);
    writeFileSync(f, imageHDU(baseField(100 + d), 200, 160, { extra: [card('VISIT', Number(VISIT)), card('DETECTOR', d)] }));
    return f;
  });
}

/** ingest + visit into `repo`; both must succeed. */
export async function ingestAndRun(repo: string, raws: string[]): Promise<void> {
  const ing = await runCli('lsst-prod', ['ingest', '--repo', repo, ...raws]);
  expect(ing.code, ing.stderr).toBe(0);
  const vis = await runCli('lsst-prod', ['visit', VISIT, '--repo', repo, '--json'], { timeoutMs: 20_000 });
  expect(vis.code, vis.stderr).toBe(0);
}

/** Every file under `sub` of the repository, as bytes keyed by relative path. */
export function snapshot(repo: string, sub: string): Map<string, Buffer> {
  const base = path.join(repo, sub);
  return new Map(listFiles(base).map((f) => [f, readFileSync(path.join(base, f))]));
}

/** The step name recorded in a state record (parsed independently: "LSPR", version, JSON length, JSON). */
export function recordName(bytes: Buffer): string | undefined {
  if (bytes.length < 44 || bytes.toString('latin1', 0, 4) !== 'LSPR') return undefined;
  const n = bytes.readUInt32LE(8);
  try {
    return (JSON.parse(bytes.toString('utf8', 12, 12 + n)) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/** True when a record's last 32 bytes are the sha256 of everything before them. */
export function recordVerifies(bytes: Buffer): boolean {
  if (bytes.length < 44 || bytes.toString('latin1', 0, 4) !== 'LSPR') return false;
  return createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().equals(bytes.subarray(bytes.length - 32));
}

/** Relative path (under the state dir of the visit) of the record of step `name` of detector `det`. */
export function stepRecord(stateDir: string, det: number, name: string): string {
  const dir = `ccd-${String(det).padStart(4, '0')}`;
  const hit = listFiles(path.join(stateDir, dir)).find((f) => recordName(readFileSync(path.join(stateDir, dir, f))) === name);
  if (!hit) throw new Error(`no record of step ${name} for detector ${det} in ${stateDir}`);
  return path.join(dir, hit);
}

/** The state directory of the visit's latest run. */
export function stateDirOf(repo: string): string {
  const latest = readFileSync(path.join(repo, 'state', VISIT, 'latest'), 'utf8').trim();
  return path.join(repo, 'state', VISIT, latest);
}

/**
 * The repositories are consistent: no temporary files anywhere, every state record verifies, every FITS
 * output is complete and readable by astropy (one python process for all repositories).
 */
export function expectConsistent(repos: string | string[], label: string): void {
  const fits: string[] = [];
  for (const repo of Array.isArray(repos) ? repos : [repos]) {
    const files = listFiles(repo);
    expect(files.filter((f) => TEMP_FILE.test(f)), `${label}: ${repo}: temporary files left`).toEqual([]);
    for (const f of files.filter((x) => x.endsWith('.rec'))) {
      expect(recordVerifies(readFileSync(path.join(repo, f))), `${label}: record ${repo}/${f} does not verify`).toBe(true);
    }
    fits.push(...files.filter((f) => f.endsWith('.fits')).map((f) => path.join(repo, f)));
  }
  if (!hasAstropy) return;
  for (const info of astropyCatalogs(fits)) expect(info.ok, `${label}: ${info.file}: ${info.error}`).toBe(true);
}
