/**
 * Seeded, bounded fuzz of lsst-quick over the headers and pixels of real files (../shared/data/real, when
 * present) and simulated ones: 20 mutants per source, each run as a child process (5 s limit, two at a
 * time). Every mutant must give exit 0 or 2; exit 2 with exactly one stderr line naming the mutant file;
 * exit 0 with only warning lines on stderr and a catalog that astropy verifies; never a stack trace, an
 * internal error, a hang, more than 300 MB, or anything besides the catalog in the output directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fuzzSources, mutate } from './fuzz.js';
import { expectWellBehaved, lines, listFiles, pool, runCli, tempDir, type RunResult } from './harness.js';
import { astropyCatalogs, hasAstropy } from './oracle.js';

const PER_SOURCE = 14;
const SEED = 0x9e3779b9;
const { sources, real } = fuzzSources();
if (!real) console.warn('SKIPPED fuzz of real files: ../shared/data absent; fuzzing simulated files only');
if (!hasAstropy) console.warn('SKIPPED astropy verification of fuzzed catalogs: astropy not found');

interface Outcome {
  label: string;
  file: string;
  out: string;
  r: RunResult;
}

const dir = tempDir('fuzzq');
let outcomes: Outcome[] = [];

beforeAll(async () => {
  const jobs = sources.flatMap((s, si) =>
    Array.from({ length: PER_SOURCE }, (_, k) => {
      const m = mutate(s.bytes, SEED + si * 1000 + k);
      const file = path.join(dir, `m${si}-${k}.fits`);
      writeFileSync(file, m.bytes);
      return { label: `${s.name} #${k} [${m.what.join('; ')}]`, file, out: path.join(dir, `out-${si}-${k}`) };
    }),
  );
  outcomes = await pool(jobs, 2, async (j) => {
    mkdirSync(j.out);
    const r = await runCli('lsst-quick', [j.file, '-o', path.join(j.out, 'cat.fits'), '--json']);
    return { ...j, r };
  });
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`lsst-quick fuzz: ${PER_SOURCE} mutants of each of ${sources.length} files`, () => {
  it('every mutant: exit 0 or 2, well behaved', () => {
    for (const o of outcomes) {
      expectWellBehaved(o.r, o.label);
      expect([0, 2], `${o.label}: exit ${o.r.code}: ${o.r.stderr}`).toContain(o.r.code);
    }
  });

  it('exit 2: one line naming the mutant file, nothing in the output directory', () => {
    for (const o of outcomes.filter((x) => x.r.code === 2)) {
      const ls = lines(o.r.stderr);
      expect(ls.length, `${o.label}: ${o.r.stderr}`).toBe(1);
      expect(ls[0], o.label).toMatch(/^lsst-quick: error: /);
      expect(ls[0], `${o.label}: the message must name the file`).toContain(path.basename(o.file));
      expect(listFiles(o.out), o.label).toEqual([]);
    }
  });

  it('exit 0: only warnings on stderr, a JSON summary, exactly one catalog, verified by astropy', () => {
    const ok = outcomes.filter((x) => x.r.code === 0);
    for (const o of ok) {
      for (const l of lines(o.r.stderr)) expect(l, o.label).toMatch(/^lsst-quick: warning: /);
      expect(JSON.parse(o.r.stdout).catalog, o.label).toBe(path.join(o.out, 'cat.fits'));
      expect(listFiles(o.out), o.label).toEqual(['cat.fits']);
    }
    if (!hasAstropy) return;
    const infos = astropyCatalogs(ok.map((o) => path.join(o.out, 'cat.fits')));
    infos.forEach((info, i) => expect(info.ok, `${ok[i].label}: ${info.error}`).toBe(true));
  });

  it('the fuzz exercises both outcomes (a fuzz that only ever fails or only passes tests little)', () => {
    const n0 = outcomes.filter((x) => x.r.code === 0).length;
    const n2 = outcomes.filter((x) => x.r.code === 2).length;
    console.info(`lsst-quick fuzz: ${outcomes.length} mutants, ${n0} exit 0, ${n2} exit 2, slowest ${Math.max(...outcomes.map((o) => o.r.ms)).toFixed(0)} ms, peak RSS ${Math.max(...outcomes.map((o) => o.r.maxRssKB ?? 0))} KiB`);
    expect(outcomes.length).toBe(PER_SOURCE * sources.length);
    expect(n0).toBeGreaterThan(outcomes.length / 10);
    expect(n2).toBeGreaterThan(outcomes.length / 10);
  });
});
