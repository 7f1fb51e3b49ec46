#!/usr/bin/env node
/**
 * Second half of `npm run build` (after tsc): bundle lsst-quick's modules (dist/quick/cli.js and everything it
 * imports, npm packages included, sharp excepted: it is native) into one CommonJS file dist/quick/cli.cjs, and
 * its --jobs worker's into dist/quick/hdu-worker.cjs; then run lsst-quick once on the project's simulated sample
 * to write their V8 code caches (cli.cjs.cache, hdu-worker.cjs.cache).
 * See src/util/code-cache.ts for how the launcher uses them. Each module's `import.meta.url` (ours and npm packages')
 * is replaced by the URL of its own file, computed from the bundle's directory, so paths relative to a module
 * (package.json, worker entry points) still resolve.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
// the launcher's naming rules (entry -> bundle -> cache), from the module tsc has just built
const { bundleOf, cacheOf } = await import(pathToFileURL(path.join(dist, 'util/code-cache.js')).href);
const ENTRIES = ['quick/cli.js', 'quick/hdu-worker.js'].map((e) => path.join(dist, e));

/** import.meta.url of a module -> its file URL, computed at run time from the bundle's directory `outDir`. */
const metaUrl = (outDir) => ({
  name: 'import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.m?js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = path.relative(outDir, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `__distUrl(${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
});

for (const entry of ENTRIES) {
  const outfile = bundleOf(entry);
  rmSync(cacheOf(outfile), { force: true });
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['sharp'],
    // import() of a bundled or CommonJS package becomes require(): a vm.Script has no dynamic-import hook
    supported: { 'dynamic-import': false },
    // the bundle's directory, taken before any bundled module can shadow __dirname (yargs declares its own)
    banner: {
      js: [
        'const __lsstDistDir = __dirname;',
        "const __distUrl = (rel) => require('node:url').pathToFileURL(require('node:path').join(__lsstDistDir, rel)).href;",
      ].join('\n'),
    },
    plugins: [metaUrl(path.dirname(outfile))],
    logLevel: 'warning',
  });
}

// The training run writes both caches (every function it compiles goes in): lsst-quick --jobs 2 on two copies
// of the simulated sample, so that this thread and a worker each measure one.
const { readPlane, writeFits, imageHdu } = await import(pathToFileURL(path.join(dist, 'fits/index.js')).href);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lsst-bundle-'));
try {
  const plane = readPlane(path.join(root, 'data/samples/sim-ccd.fits'));
  const mef = path.join(tmp, 'train.fits');
  const ccd = imageHdu(plane.data, { width: plane.width });
  writeFits(mef, [imageHdu([], { axes: [] }), ccd, ccd]);
  const r = spawnSync(process.execPath, [path.join(root, 'bin/lsst-quick.js'), mef, '-o', path.join(tmp, 'train.cat.fits'), '--jobs', '2'], {
    env: { ...process.env, LSST_CODE_CACHE_WRITE: '1', LSST_NO_BUNDLE: '' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`training run failed: ${r.stderr || r.stdout}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
for (const entry of ENTRIES) {
  const bundle = bundleOf(entry);
  const cache = cacheOf(bundle);
  if (!existsSync(cache)) throw new Error(`training run wrote no ${path.relative(root, cache)}`);
  console.log(`bundle: ${path.relative(root, bundle)} (+ .cache, ${(statSync(cache).size / 1024).toFixed(0)} KiB)`);
}
