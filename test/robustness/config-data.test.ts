/**
 * Configuration is data, never evaluated: shell syntax in values ($(...), backticks, ${VAR}) stays literal
 * text, `__proto__` / `constructor` keys are rejected as unknown keys, non-ASCII values and paths are
 * carried into the FITS provenance cards as escapes (astropy reads them back as the original text).
 * Marker files that an evaluation would create must never appear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { baseField } from './corpus.js';
import { imageHDU } from './fitsbytes.js';
import { expectOneLineError, expectWellBehaved, listFiles, runCli, tempDir } from './harness.js';
import { hasAstropy } from './oracle.js';

let dir: string;
const marker = (n: number) => path.join(dir, `pwned-${n}`);

beforeAll(() => {
  dir = tempDir('cfg');
  writeFileSync(path.join(dir, 'good.fits'), imageHDU(baseField(), 200, 160));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function noMarkers(): void {
  for (let n = 0; n < 10; n++) expect(existsSync(marker(n)), `marker ${marker(n)} was created: a value was evaluated`).toBe(false);
}

/** The primary-header provenance of a FITS catalog, read by astropy. */
function provenance(file: string): { INPUT: string; CONFIG: Record<string, unknown> } {
  const py = 'import json,sys\nfrom astropy.io import fits\nh=fits.getheader(sys.argv[1])\nprint(json.dumps({"INPUT": h["INPUT"], "CONFIG": json.loads(h["CONFIG"])}))';
  const r = spawnSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('configuration values are data', () => {
  it('shell syntax in JSON values is literal text: the catalog gets the literal name, nothing runs', async () => {
    const name = `$(touch ${marker(1)})\`touch ${marker(2)}\`\${HOME}.cat.fits`;
    writeFileSync(path.join(dir, 'shell.json'), JSON.stringify({ CATALOG_NAME: name, SATUR_KEY: `$(touch ${marker(3)})`, GAIN_KEY: '`id`' }));
    // the name holds '/' (the marker paths): its directory "$(touch <dir>" does not exist -> a clean error
    const r = await runCli('lsst-quick', ['good.fits', '--config', 'shell.json'], { cwd: dir });
    expectOneLineError(r, 'lsst-quick', 'shell', '$(touch', /output directory does not exist/);
    const flat = `$(touch pwned-4)\`touch pwned-5\`\${HOME};rm -rf x.cat.fits`;
    writeFileSync(path.join(dir, 'flat.json'), JSON.stringify({ CATALOG_NAME: flat, SATUR_KEY: '$(touch pwned-6)' }));
    const r2 = await runCli('lsst-quick', ['good.fits', '--config', 'flat.json'], { cwd: dir });
    expectWellBehaved(r2, 'flat');
    expect(r2.code, r2.stderr).toBe(0);
    expect(existsSync(path.join(dir, flat)), 'the catalog under its literal name').toBe(true);
    for (const f of ['pwned-4', 'pwned-5', 'pwned-6']) expect(existsSync(path.join(dir, f))).toBe(false);
    noMarkers();
  });

  it('shell syntax in a .sex file and on the command line is literal text', async () => {
    writeFileSync(path.join(dir, 'shell.sex'), `CATALOG_NAME  sex-$(touch pwned-7).cat.fits  # comment\nFILTER_NAME   default\nSATUR_KEY     \`touch pwned-8\`\n`);
    const r = await runCli('lsst-quick', ['good.fits', '--config', 'shell.sex'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'sex-$(touch pwned-7).cat.fits'))).toBe(true);
    const r2 = await runCli('lsst-quick', ['good.fits', '-o', 'cli-$(touch pwned-9).cat.fits'], { cwd: dir });
    expect(r2.code, r2.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'cli-$(touch pwned-9).cat.fits'))).toBe(true);
    for (const f of ['pwned-7', 'pwned-8', 'pwned-9']) expect(existsSync(path.join(dir, f))).toBe(false);
  });

  it('a filter file name with shell syntax is looked up literally (and reported missing)', async () => {
    writeFileSync(path.join(dir, 'filter.json'), JSON.stringify({ FILTER_NAME: `$(touch ${marker(0)})` }));
    const r = await runCli('lsst-quick', ['good.fits', '--config', 'filter.json', '-o', 'f.cat.fits'], { cwd: dir });
    expectOneLineError(r, 'lsst-quick', 'filter', `$(touch ${marker(0)})`);
    noMarkers();
  });

  it('--dump-config prints hostile values back unchanged', async () => {
    const v = { CATALOG_NAME: '$(rm -rf /)', SATUR_KEY: '`reboot`', GAIN_KEY: '${IFS}' };
    writeFileSync(path.join(dir, 'dump.json'), JSON.stringify(v));
    const r = await runCli('lsst-quick', ['--config', 'dump.json', '--dump-config'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const dumped = JSON.parse(r.stdout);
    for (const [k, val] of Object.entries(v)) expect(dumped[k]).toBe(val);
  });
});

describe('prototype keys are unknown keys, never merged', () => {
  it.each([
    ['__proto__ (JSON)', 'proto.json', '{"__proto__": {"DETECT_THRESH": 100}}', /unknown config key '__proto__'/],
    ['constructor (JSON)', 'ctor.json', '{"constructor": {"prototype": {"x": 1}}}', /unknown config key 'constructor'/],
    ['prototype (JSON)', 'prototype.json', '{"DETECT_THRESH": 3, "prototype": 1}', /unknown config key 'prototype'/],
    ['toString (JSON)', 'tostring.json', '{"toString": "x"}', /unknown config key 'toString'/],
    ['__proto__ (.sex)', 'proto.sex', 'DETECT_THRESH 3\n__proto__ 1\n', /unknown SExtractor keyword '__PROTO__'/],
    ['hasOwnProperty (.sex)', 'own.sex', 'hasOwnProperty 1\n', /unknown SExtractor keyword 'HASOWNPROPERTY'/],
  ])('%s', async (_n, file, text, problem) => {
    writeFileSync(path.join(dir, file), text);
    const out = path.join(dir, `out-${file}`);
    mkdirSync(out);
    const r = await runCli('lsst-quick', ['good.fits', '--config', file, '-o', path.join(out, 'cat.fits')], { cwd: dir });
    expectOneLineError(r, 'lsst-quick', file, file, problem);
    expect(listFiles(out)).toEqual([]);
  });

  it('lsst-prod visit rejects them too (same config table)', async () => {
    const repo = path.join(dir, 'repo-proto');
    writeFileSync(path.join(dir, 'raw.fits'), imageHDU(baseField(), 200, 160));
    const ing = await runCli('lsst-prod', ['ingest', '--repo', repo, '--visit', '5', '--detector', '1', path.join(dir, 'raw.fits')]);
    expect(ing.code, ing.stderr).toBe(0);
    const r = await runCli('lsst-prod', ['visit', '5', '--repo', repo, '--config', path.join(dir, 'proto.json')]);
    expectOneLineError(r, 'lsst-prod', 'prod proto', 'proto.json', /unknown config key '__proto__'/);
    expect(listFiles(repo).filter((f) => f.startsWith('out/') || f.startsWith('state/'))).toEqual([]);
  });
});

describe('non-ASCII text in paths and values', () => {
  it.skipIf(!hasAstropy)('lsst-quick: a non-ASCII input path and config value reach the provenance cards as escapes', async () => {
    const sub = path.join(dir, 'données');
    mkdirSync(sub, { recursive: true });
    const input = path.join(sub, 'champ-é.fits');
    copyFileSync(path.join(dir, 'good.fits'), input);
    writeFileSync(path.join(dir, 'utf8.json'), JSON.stringify({ SATUR_KEY: 'SATURÉ', CATALOG_TYPE: 'fits' }));
    const r = await runCli('lsst-quick', [input, '--config', 'utf8.json', '-o', 'utf8.cat.fits'], { cwd: dir });
    expectWellBehaved(r, 'utf8');
    expect(r.code, r.stderr).toBe(0);
    const p = provenance(path.join(dir, 'utf8.cat.fits'));
    expect(JSON.parse(`"${p.INPUT}"`)).toBe(input); // the escapes decode to the original path
    expect(p.CONFIG.SATUR_KEY).toBe('SATURÉ');
  });

  if (!hasAstropy) console.warn('SKIPPED non-ASCII provenance check: astropy not found');

  // The per-CCD catalog provenance escapes non-ASCII text (asciiText), as lsst-quick does.
  it('lsst-prod: a raw file under a non-ASCII directory is processed (escaped INPUT card)', async () => {
    const sub = path.join(dir, 'répertoire');
    mkdirSync(sub, { recursive: true });
    const raw = path.join(sub, 'raw-é.fits');
    copyFileSync(path.join(dir, 'good.fits'), raw);
    const repo = path.join(dir, 'repo-utf8');
    const ing = await runCli('lsst-prod', ['ingest', '--repo', repo, '--visit', '6', '--detector', '1', raw]);
    expect(ing.code, ing.stderr).toBe(0);
    const r = await runCli('lsst-prod', ['visit', '6', '--repo', repo]);
    expectWellBehaved(r, 'prod utf8');
    expect(r.code, r.stderr).toBe(0);
    const p = provenance(path.join(repo, 'out', '6', 'ccd-001.cat.fits'));
    expect(JSON.parse(`"${p.INPUT}"`)).toBe('raw-é.fits');
  });
});
