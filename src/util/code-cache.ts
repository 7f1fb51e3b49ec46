/**
 * Start-up of the CLIs from a single-file bundle with a V8 code cache (what Node 22's
 * `module.enableCompileCache()` does for modules; Node 20 has no such switch).
 *
 * `npm run build` compiles src/ to dist/ (tsc), then scripts/bundle.mjs bundles an entry module and everything it
 * imports, npm packages included, into one CommonJS file beside it (bundleOf: dist/quick/cli.js ->
 * dist/quick/cli.cjs), and writes the V8 code cache (cacheOf: cli.cjs.cache) from a training run: V8's bytecode for
 * every function that run compiled. Loading one file instead of ~150 modules, and the cached bytecode instead of
 * parsing and compiling it again, saves about 0.1 s per run.
 *
 * The bundle is the same code as dist/ (built from it, after it); it is used only when it is at least as new as
 * the entry module it was built from, so a `tsc` without the bundling step falls back to dist/'s modules.
 * A cache made by another Node/V8 version is rejected by V8 and the code compiled as usual.
 * LSST_NO_BUNDLE=1 forces the module path.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { threadId } from 'node:worker_threads';

/** The bundle of an entry module: dist/quick/cli.js -> dist/quick/cli.cjs. */
export function bundleOf(entry: string): string {
  return entry.replace(/\.js$/, '.cjs');
}

/** The code cache of a bundle: dist/quick/cli.cjs -> dist/quick/cli.cjs.cache. */
export function cacheOf(bundle: string): string {
  return `${bundle}.cache`;
}

/** Whether the bundle is there and at least as new as the entry module it was built from. */
export function freshBundle(bundle: string, entry: string): boolean {
  if (process.env.LSST_NO_BUNDLE) return false;
  try {
    return statSync(bundle).mtimeMs >= statSync(entry).mtimeMs;
  } catch {
    return false;
  }
}

/** The bundle to run for the entry module (a path), or undefined when there is no fresh one. */
export function usableBundle(entry: string): string | undefined {
  const bundle = bundleOf(entry);
  return freshBundle(bundle, entry) ? bundle : undefined;
}

/**
 * Run a CommonJS bundle with its code cache (cacheOf, when there is one) and return its exports.
 * With LSST_CODE_CACHE_WRITE=1 set, the cache is (re)written when the process exits, from every function
 * compiled by then (the build's training run).
 */
export function runBundle(file: string): Record<string, unknown> {
  const cacheFile = cacheOf(file);
  const source = readFileSync(file, 'utf8');
  // V8 checks a cache against the source's length only: a cache older than its bundle is not used
  const cachedData = existsSync(cacheFile) && statSync(cacheFile).mtimeMs >= statSync(file).mtimeMs ? readFileSync(cacheFile) : undefined;
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: file, cachedData });
  const mod = { exports: {} as Record<string, unknown> };
  if (process.env.LSST_LAUNCH_TRACE === '1')
    process.stderr.write(`launch: ${file} (code cache ${!cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'})\n`);
  const fn = script.runInThisContext() as (e: unknown, r: NodeRequire, m: unknown, f: string, d: string) => void;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  if (process.env.LSST_CODE_CACHE_WRITE === '1') {
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.${threadId}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    });
  }
  return mod.exports;
}

type Main = (argv: string[]) => Promise<number>;

/**
 * A CLI's `main`: from the bundle of the ES module `entry` (a file: URL) when it is fresh, else from the module.
 * LSST_LAUNCH_TRACE=1 says which on stderr (and whether the code cache was used).
 */
export async function loadMain(entry: URL): Promise<Main> {
  const entryPath = fileURLToPath(entry);
  const bundle = usableBundle(entryPath);
  if (bundle) return runBundle(bundle).main as Main;
  if (process.env.LSST_LAUNCH_TRACE === '1') process.stderr.write(`launch: ${entryPath} (modules)\n`);
  return ((await import(entry.href)) as { main: Main }).main;
}
