/**
 * lsst-prod: identifiers and paths from the command line or from FITS headers cannot escape the
 * repository. Every hostile id (`../../x`, `/abs`, `a/b`, `..`, over-long) gives exit 2 with one line naming
 * where it came from, and the sandbox around the repository (which `../` would reach) and the repository
 * itself are unchanged. Header names that are not ids (DETPOS/EXTNAME) never become paths. Also: the
 * reference catalog check, and known issues of the frozen-directory and state readers (pinned precisely).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { baseField, makeRefcats } from './corpus.js';
import { card, concat, emptyPrimary, imageHDU } from './fitsbytes.js';
import { expectOneLineError, expectWellBehaved, listFiles, runCli, tempDir } from './harness.js';

const W = 200;
const H = 160;
let S: string; // sandbox: S/d1/d2/d3/d4/R, raws in S/raws
let R: string;
let raws: string;
let outside: string[]; // files of the sandbox outside the repository

const raw = (name: string, extra: string[]) => {
  writeFileSync(path.join(raws, name), imageHDU(baseField(), W, H, { extra }));
  return path.join(raws, name);
};
const outsideFiles = () => listFiles(S).filter((f) => !f.startsWith('d1/d2/d3/d4/R/'));

beforeAll(async () => {
  S = tempDir('paths');
  R = path.join(S, 'd1/d2/d3/d4/R');
  raws = path.join(S, 'raws');
  mkdirSync(raws, { recursive: true });
  raw('good.fits', [card('VISIT', 42), card('DETECTOR', 1)]);
  raw('evil-visit.fits', [card('VISIT', '../../etc'), card('DETECTOR', 2)]);
  raw('evil-det.fits', [card('VISIT', 42), card('DETECTOR', '../a')]);
  raw('evil-abs.fits', [card('VISIT', path.join(S, 'abs-visit')), card('DETECTOR', 3)]);
  raw('evil-slash.fits', [card('VISIT', 'a/b'), card('DETECTOR', 4)]);
  raw('evil-dotdot.fits', [card('VISIT', '..'), card('DETECTOR', 5)]);
  raw('evil-long.fits', [card('VISIT', 'v'.repeat(60)), card('DETECTOR', 6)]);
  raw('evil-detnum.fits', [card('VISIT', 42), card('DETECTOR', -1)]);
  raw('evil-expnum.fits', [card('EXPNUM', '../x'), card('CCDNUM', 7)]);
  // names that are not ids: DETPOS/EXTNAME with path syntax must never become paths
  writeFileSync(
    path.join(raws, 'mef-names.fits'),
    concat([
      emptyPrimary([card('VISIT', 43)]),
      imageHDU(baseField(1), W, H, { extension: true, extra: [card('EXTNAME', '../../ext-escape'), card('DETPOS', '../../detpos-escape')] }),
      imageHDU(baseField(2), W, H, { extension: true, extra: [card('EXTNAME', '/tmp/abs-ext'), card('DETPOS', '..')] }),
    ]),
  );
  const ing = await runCli('lsst-prod', ['ingest', '--repo', R, path.join(raws, 'good.fits')]);
  expect(ing.code, ing.stderr).toBe(0);
  const vis = await runCli('lsst-prod', ['visit', '42', '--repo', R], { timeoutMs: 20_000 });
  expect(vis.code, vis.stderr).toBe(0);
  outside = outsideFiles();
}, 60_000);

afterAll(() => rmSync(S, { recursive: true, force: true }));

type Hostile = [label: string, args: () => string[], blame: string, problem: RegExp];
const HOSTILE: Hostile[] = [
  ['ingest --visit ../../x', () => ['ingest', '--repo', R, '--visit', '../../x', path.join(raws, 'good.fits')], '--visit', /invalid visit id '\.\.\/\.\.\/x'/],
  ['ingest --visit /abs', () => ['ingest', '--repo', R, '--visit', path.join(S, 'abs'), path.join(raws, 'good.fits')], '--visit', /invalid visit id/],
  ['ingest --detector ../a', () => ['ingest', '--repo', R, '--detector', '../a', path.join(raws, 'good.fits')], '--detector', /invalid detector id '\.\.\/a'/],
  ['header VISIT = ../../etc', () => ['ingest', '--repo', R, path.join(raws, 'evil-visit.fits')], 'evil-visit.fits', /invalid visit id '\.\.\/\.\.\/etc'/],
  ['header DETECTOR = ../a', () => ['ingest', '--repo', R, path.join(raws, 'evil-det.fits')], 'evil-det.fits', /invalid detector id '\.\.\/a'/],
  ['header VISIT = absolute path', () => ['ingest', '--repo', R, path.join(raws, 'evil-abs.fits')], 'evil-abs.fits', /invalid visit id/],
  ['header VISIT = a/b', () => ['ingest', '--repo', R, path.join(raws, 'evil-slash.fits')], 'evil-slash.fits', /invalid visit id 'a\/b'/],
  ['header VISIT = ..', () => ['ingest', '--repo', R, path.join(raws, 'evil-dotdot.fits')], 'evil-dotdot.fits', /invalid visit id '\.\.'/],
  ['header VISIT of 60 characters', () => ['ingest', '--repo', R, path.join(raws, 'evil-long.fits')], 'evil-long.fits', /invalid visit id/],
  ['header DETECTOR = -1', () => ['ingest', '--repo', R, path.join(raws, 'evil-detnum.fits')], 'evil-detnum.fits', /invalid detector id '-1'/],
  ['header EXPNUM = ../x', () => ['ingest', '--repo', R, path.join(raws, 'evil-expnum.fits')], 'evil-expnum.fits', /invalid visit id '\.\.\/x'/],
  ['visit ../../x', () => ['visit', '../../x', '--repo', R], '../../x', /invalid visit id/],
  ['visit /abs', () => ['visit', path.join(S, 'abs'), '--repo', R], 'abs', /invalid visit id/],
  ['visit 42 --detectors ../a', () => ['visit', '42', '--repo', R, '--detectors', '../a'], '../a', /invalid detector id/],
  ['status visit ../../x', () => ['status', 'visit', '../../x', '--repo', R], '../../x', /invalid visit id/],
  ['rerun visit 42 --detector ../a', () => ['rerun', 'visit', '42', '--repo', R, '--detector', '../a', '--step', 'all'], '--detector', /invalid detector id/],
  ['rerun visit ../x --detector 1', () => ['rerun', 'visit', '../x', '--repo', R, '--detector', '1'], '../x', /invalid visit id/],
  ['rerun --step ../../x', () => ['rerun', 'visit', '42', '--repo', R, '--detector', '1', '--step', '../../x'], '../../x', /no step/],
  ['freeze --detector ../a', () => ['freeze', 'visit', '42', '--repo', R, '--detector', '../a', '-o', path.join(S, 'frozen-a')], '--detector', /invalid detector id/],
  ['freeze visit ../../x', () => ['freeze', 'visit', '../../x', '--repo', R, '--detector', '1', '-o', path.join(S, 'frozen-b')], '../../x', /invalid visit id/],
];

describe('lsst-prod: hostile ids never escape the repository', () => {
  it.each(HOSTILE)('%s: exit 2, one line, nothing written anywhere', async (label, args, blame, problem) => {
    const before = listFiles(R);
    const rawIndex = readFileSync(path.join(R, 'raws.json'), 'utf8');
    const r = await runCli('lsst-prod', args());
    expectOneLineError(r, 'lsst-prod', label, blame, problem);
    expect(listFiles(R), `${label}: the repository changed`).toEqual(before);
    expect(readFileSync(path.join(R, 'raws.json'), 'utf8')).toBe(rawIndex);
    expect(outsideFiles(), `${label}: something was written outside the repository`).toEqual(outside);
  });

  it('DETPOS/EXTNAME with path syntax never become paths: the MEF is ingested by position and processed inside R', async () => {
    const ing = await runCli('lsst-prod', ['ingest', '--repo', R, path.join(raws, 'mef-names.fits')]);
    expectWellBehaved(ing, 'mef ingest');
    expect(ing.code, ing.stderr).toBe(0);
    const index = JSON.parse(readFileSync(path.join(R, 'raws.json'), 'utf8')) as { visit: string; detector: number }[];
    expect(index.filter((e) => e.visit === '43').map((e) => e.detector)).toEqual([1, 2]);
    const vis = await runCli('lsst-prod', ['visit', '43', '--repo', R], { timeoutMs: 20_000 });
    expectWellBehaved(vis, 'mef visit');
    expect(vis.code, vis.stderr).toBe(0);
    expect(listFiles(path.join(R, 'out/43'))).toEqual(['ccd-001.cat.fits', 'ccd-002.cat.fits', 'summary.fits', 'visit.cat.fits']);
    expect(outsideFiles()).toEqual(outside);
    expect(existsSync('/tmp/abs-ext')).toBe(false);
  });
});

describe('lsst-prod: reference catalogs', () => {
  let refs: ReturnType<typeof makeRefcats>;
  beforeAll(() => {
    refs = makeRefcats(path.join(S, 'refcats'));
    outside = outsideFiles();
  });

  it('a missing reference catalog: exit 2, one line naming it', async () => {
    const r = await runCli('lsst-prod', ['ingest', '--repo', R, '--refcat', path.join(S, 'no-such-ref.fits')]);
    expectOneLineError(r, 'lsst-prod', 'missing refcat', 'no-such-ref.fits', /no such reference catalog/);
  });

  it('catalogs missing the needed columns (ra, dec, a magnitude): exit 2, one line naming file and column', async () => {
    const repo = path.join(S, 'refrepo');
    const good = await runCli('lsst-prod', ['ingest', '--repo', repo, '--refcat', refs.good]);
    expect(good.code, good.stderr).toBe(0);
    const meta = readFileSync(path.join(repo, 'repo.json'), 'utf8');
    const probe = await runCli('lsst-prod', ['ingest', '--repo', repo, '--refcat', refs.noMag]);
    expectOneLineError(probe, 'lsst-prod', 'refcat without magnitude', 'ref-nomag.fits', /mag/i);
    for (const [f, col] of [[refs.noCoords, /\bra\b|\bdec\b/i], [refs.csvNoDec, /\bdec\b/i]] as const) {
      const r = await runCli('lsst-prod', ['ingest', '--repo', repo, '--refcat', f]);
      expectOneLineError(r, 'lsst-prod', path.basename(f), path.basename(f), col);
    }
    expect(readFileSync(path.join(repo, 'repo.json'), 'utf8')).toBe(meta); // still the good one
  });
});

describe('lsst-prod: tampered state and frozen directories', () => {
  // `rerun --from DIR` requires every path of DIR/job.json to stay inside DIR.
  it('rerun --from: a tampered frozen job.json cannot write outside the frozen directory', async () => {
    const fz = path.join(S, 'fz');
    const f = await runCli('lsst-prod', ['freeze', 'visit', '42', '--repo', R, '--detector', '1', '-o', fz]);
    expect(f.code, f.stderr).toBe(0);
    const job = JSON.parse(readFileSync(path.join(fz, 'job.json'), 'utf8'));
    job.outDir = '../escaped-out';
    writeFileSync(path.join(fz, 'job.json'), JSON.stringify(job));
    const r = await runCli('lsst-prod', ['rerun', '--from', fz, '--step', 'write']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/outDir must stay inside/);
    expect(existsSync(path.join(S, 'escaped-out'))).toBe(false);
    rmSync(fz, { recursive: true, force: true });
  });

  it('status: a tampered state/<visit>/latest is a one-line exit-2 error naming the file', async () => {
    const latest = path.join(R, 'state/42/latest');
    const saved = readFileSync(latest, 'utf8');
    try {
      writeFileSync(latest, '../../../x\n');
      const r = await runCli('lsst-prod', ['status', 'visit', '42', '--repo', R]);
      expect(r.timedOut).toBe(false);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/latest: invalid state digest/);
    } finally {
      writeFileSync(latest, saved);
    }
  });
});
