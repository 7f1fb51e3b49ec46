/**
 * Seeded, bounded fuzz of lsst-prod: for each mutant (same mutator and sources as fuzz-quick, other seeds),
 * `ingest` into a fresh repository, then `visit` of the visit id(s) the index holds. Every command: exit in
 * {0, 2, 3} (ingest: {0, 2}), no stack trace, no internal error, no hang (5 s), bounded memory; exit 2 is
 * exactly one stderr line naming the mutant or the id; exit 3 lists each failed detector; a failed CCD has
 * no catalog; no temporary file anywhere in the repository; every record verifies and every output FITS
 * file is complete (astropy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fuzzSources, mutate } from './fuzz.js';
import { expectWellBehaved, lines, pool, runCli, tempDir, type RunResult } from './harness.js';
import { expectConsistent } from './prodrepo.js';

const PER_SOURCE = 6;
const SEED = 0x51ed270b;
const { sources, real } = fuzzSources();
if (!real) console.warn('SKIPPED fuzz of real files for lsst-prod: ../shared/data absent; fuzzing simulated files only');

/** ids from the header for the simulated files (so that VISIT/DETECTOR/CCDNUM get fuzzed too), given for real ones */
const ingestIds = (name: string): string[] => (name.startsWith('sim-') ? [] : ['--visit', '7', '--detector', '1']);

interface Outcome {
  label: string;
  file: string;
  repo: string;
  ingest: RunResult;
  visits: { visit: string; r: RunResult }[];
}

const dir = tempDir('fuzzp');
let outcomes: Outcome[] = [];

beforeAll(async () => {
  const jobs = sources.flatMap((s, si) =>
    Array.from({ length: PER_SOURCE }, (_, k) => {
      const m = mutate(s.bytes, SEED + si * 1000 + k);
      const file = path.join(dir, 'raws', `p${si}-${k}.fits`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, m.bytes);
      return { label: `${s.name} #${k} [${m.what.join('; ')}]`, file, ids: ingestIds(s.name), repo: path.join(dir, `R-${si}-${k}`) };
    }),
  );
  outcomes = await pool(jobs, 2, async (j) => {
    const ingest = await runCli('lsst-prod', ['ingest', '--repo', j.repo, ...j.ids, j.file]);
    const visits: Outcome['visits'] = [];
    if (ingest.code === 0) {
      const index = JSON.parse(readFileSync(path.join(j.repo, 'raws.json'), 'utf8')) as { visit: string }[];
      for (const visit of [...new Set(index.map((e) => e.visit))]) visits.push({ visit, r: await runCli('lsst-prod', ['visit', visit, '--repo', j.repo, '--json']) });
    }
    return { label: j.label, file: j.file, repo: j.repo, ingest, visits };
  });
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`lsst-prod fuzz: ingest + visit of ${PER_SOURCE} mutants of each of ${sources.length} files`, () => {
  it('ingest: exit 0 or 2 (one line naming the file or the id), well behaved', () => {
    for (const o of outcomes) {
      expectWellBehaved(o.ingest, `${o.label} ingest`);
      expect([0, 2], `${o.label} ingest: exit ${o.ingest.code}: ${o.ingest.stderr}`).toContain(o.ingest.code);
      if (o.ingest.code !== 2) continue;
      const ls = lines(o.ingest.stderr);
      expect(ls.length, `${o.label}: ${o.ingest.stderr}`).toBe(1);
      expect(ls[0], `${o.label}: must name the mutant`).toMatch(new RegExp(`^lsst-prod: error: .*${path.basename(o.file).replace('.', '\\.')}`));
    }
  });

  it('visit: exit 0, 2 or 3; failures listed per detector; a failed CCD has no catalog', () => {
    for (const o of outcomes) {
      for (const { visit, r } of o.visits) {
        const label = `${o.label} visit ${visit}`;
        expectWellBehaved(r, label);
        expect([0, 2, 3], `${label}: exit ${r.code}: ${r.stderr}`).toContain(r.code);
        if (r.code === 2) expect(lines(r.stderr).length, `${label}: ${r.stderr}`).toBe(1);
        if (r.code === 2) continue;
        const s = JSON.parse(r.stdout) as { failed: { det: number }[]; done: number[] };
        expect(r.code === 3, label).toBe(s.failed.length > 0);
        for (const f of s.failed) {
          expect(r.stderr, label).toContain(`lsst-prod: detector ${f.det} failed: `);
          expect(existsSync(path.join(o.repo, 'out', visit, `ccd-${String(f.det).padStart(3, '0')}.cat.fits`)), `${label}: catalog of failed detector ${f.det}`).toBe(false);
        }
        for (const d of s.done) expect(existsSync(path.join(o.repo, 'out', visit, `ccd-${String(d).padStart(3, '0')}.cat.fits`)), label).toBe(true);
      }
    }
  });

  it('every repository is consistent: no temp files, records verify, outputs complete', () => {
    expectConsistent(outcomes.filter((o) => existsSync(o.repo)).map((o) => o.repo), 'fuzz');
  });

  // (exit 3 is also tested deterministically in prod-state.test.ts: a raw with a corrupt compressed tile)
  it('the fuzz exercises ingest errors and visits', () => {
    const ingErr = outcomes.filter((o) => o.ingest.code === 2).length;
    const runs = outcomes.flatMap((o) => o.visits.map((v) => v.r));
    const ok = runs.filter((r) => r.code === 0).length;
    const partial = runs.filter((r) => r.code === 3).length;
    console.info(`lsst-prod fuzz: ${outcomes.length} mutants, ingest errors ${ingErr}, visits ${runs.length} (${ok} ok, ${partial} with failed CCDs, ${runs.length - ok - partial} exit 2)`);
    expect(outcomes.length).toBe(PER_SOURCE * sources.length);
    expect(ingErr).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(0);
  });
});
