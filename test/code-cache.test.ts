/**
 * The CLI launcher's bundle and V8 code cache (src/util/code-cache.ts, scripts/bundle.mjs): when each is used,
 * and that lsst-quick run from the bundle (this thread and --jobs workers) writes the same bytes as run from
 * dist/'s modules. The end-to-end case needs `npm run build` (CI builds first) and skips with a message without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageHdu, writeFits } from '../src/fits/write.js';
import { simulateCcd } from '../src/sim/index.js';
import { bundleOf, freshBundle, usableBundle } from '../src/util/code-cache.js';

const ROOT = path.resolve(__dirname, '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'code-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, LSST_NO_BUNDLE: '', LSST_CODE_CACHE_WRITE: '', ...env } });

describe('bundle freshness', () => {
  it('uses a bundle only when it exists and is at least as new as its entry module, and not under LSST_NO_BUNDLE', () => {
    const entry = path.join(tmp, 'cli.js');
    const bundle = bundleOf(entry);
    expect(bundle).toBe(path.join(tmp, 'cli.cjs'));
    writeFileSync(entry, '');
    const saved = process.env.LSST_NO_BUNDLE;
    delete process.env.LSST_NO_BUNDLE;
    try {
      expect(freshBundle(bundle, entry)).toBe(false); // no bundle
      writeFileSync(bundle, '');
      utimesSync(entry, 1000, 1000);
      utimesSync(bundle, 2000, 2000);
      expect(freshBundle(bundle, entry)).toBe(true);
      utimesSync(entry, 3000, 3000); // tsc ran after the bundling step
      expect(freshBundle(bundle, entry)).toBe(false);
      utimesSync(entry, 1000, 1000);
      process.env.LSST_NO_BUNDLE = '1';
      expect(freshBundle(bundle, entry)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.LSST_NO_BUNDLE;
      else process.env.LSST_NO_BUNDLE = saved;
    }
  });
});

describe('runBundle', () => {
  it('runs a CommonJS bundle with its own __dirname and require, writes its cache on request and uses it after', () => {
    const file = path.join(tmp, 'b', 'x.cjs');
    spawnSync('mkdir', ['-p', path.dirname(file)]);
    writeFileSync(file, "const p = require('node:path');\nmodule.exports = { dir: __dirname, name: p.basename(__filename), sum: (a, b) => a + b };\n");
    const script = path.join(tmp, 'use.mts');
    const src = path.join(ROOT, 'src/util/code-cache.ts');
    writeFileSync(script, `import { runBundle } from ${JSON.stringify(src)};\nconst m = runBundle(${JSON.stringify(file)});\nconsole.log(JSON.stringify({ dir: m.dir, name: m.name, sum: m.sum(2, 3) }));\n`);
    const first = run(['--import', 'tsx', script], { LSST_LAUNCH_TRACE: '1', LSST_CODE_CACHE_WRITE: '1' });
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ dir: path.dirname(file), name: 'x.cjs', sum: 5 });
    expect(first.stderr).toContain('code cache none');
    expect(statSync(`${file}.cache`).size).toBeGreaterThan(0);
    const second = run(['--import', 'tsx', script], { LSST_LAUNCH_TRACE: '1' });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain('code cache used');
    // a cache older than its bundle is not used (V8 would only compare the source lengths)
    utimesSync(`${file}.cache`, 1000, 1000);
    const third = run(['--import', 'tsx', script], { LSST_LAUNCH_TRACE: '1' });
    expect(third.stderr).toContain('code cache none');
  }, 60_000);
});

const built = usableBundle(path.join(ROOT, 'dist/quick/cli.js')) !== undefined;
if (!built) console.warn('code-cache.test: no fresh dist/quick/cli.cjs (run `npm run build`): the lsst-quick bundle case is skipped');

describe.skipIf(!built)('lsst-quick from its bundle', () => {
  it('takes the bundle and its caches, in this thread and in a --jobs worker, and writes the bytes the modules write', () => {
    const mef = path.join(tmp, 'two.fits');
    const ccds = [4, 9].map((seed) => simulateCcd({ seed, width: 300, height: 280, stars: { count: 80, magMin: 16, magMax: 22, slope: 0.12 }, galaxies: { count: 15, magMin: 19, magMax: 23 } }));
    writeFits(mef, [imageHdu([], { axes: [] }), ...ccds.map((c) => imageHdu(c.image.data, { width: c.image.width }))]);
    const out = path.join(tmp, 'two.cat.fits');
    const bin = path.join(ROOT, 'bin/lsst-quick.js');
    const viaBundle = run([bin, mef, '-o', out, '--jobs', '2'], { LSST_LAUNCH_TRACE: '1' });
    expect(viaBundle.status, viaBundle.stderr).toBe(0);
    expect(viaBundle.stderr).toContain(`launch: ${path.join(ROOT, 'dist/quick/cli.cjs')} (code cache used)`);
    expect(viaBundle.stderr).toContain(`launch: ${path.join(ROOT, 'dist/quick/hdu-worker.cjs')} (code cache used)`);
    const a = readFileSync(out);
    const viaModules = run([bin, mef, '-o', out, '--jobs', '2'], { LSST_LAUNCH_TRACE: '1', LSST_NO_BUNDLE: '1' });
    expect(viaModules.status, viaModules.stderr).toBe(0);
    expect(viaModules.stderr).toContain('(modules)');
    expect(viaModules.stderr).not.toContain('.cjs');
    expect(readFileSync(out).equals(a)).toBe(true);
    // both HDUs measured
    expect(viaBundle.stderr).toMatch(/\d+ objects in 2 HDU\(s\)/);
  }, 120_000);
});
