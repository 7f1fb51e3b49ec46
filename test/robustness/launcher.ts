/**
 * How the robustness tests launch the CLIs. As users run them, from dist/ through bin/, when dist/ is at
 * least as new as every src/ file (`npm run build` before testing, as CI does). Otherwise (src/ edited since
 * the last build) from a private esbuild transpile of src/ into test/.cache/robustness-dist/<stamp>/
 * (~0.5 s, no type check; the stamp digests every source file's path, size and mtime), or, without
 * esbuild, from src/ through tsx. The choice is printed once.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export type Prog = 'lsst-quick' | 'lsst-prod';

function srcFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) srcFiles(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

function distIsFresh(files: string[]): boolean {
  const dist = path.join(repoRoot, 'dist');
  const entries = ['quick/cli.js', 'production/cli.js'].map((f) => path.join(dist, f));
  if (!entries.every((f) => existsSync(f))) return false;
  // a build rewrites every file: the older entry point bounds the build time
  const built = Math.min(...entries.map((f) => statSync(f).mtimeMs));
  return built >= Math.max(...files.map((f) => statSync(f).mtimeMs));
}

const PRIVATE = path.join(repoRoot, 'test/.cache/robustness-dist');
const LAUNCHER = [
  'const [p, ...a] = process.argv.slice(2);',
  "const m = await import(p === 'lsst-prod' ? './production/cli.js' : './quick/cli.js');",
  'process.exitCode = await m.main(a);',
  '',
].join('\n');

/** The private transpile's launcher (built if needed), or undefined when esbuild is not installed. */
function privateBuild(files: string[]): string | undefined {
  let esbuild: { buildSync(o: Record<string, unknown>): unknown };
  try {
    esbuild = createRequire(path.join(repoRoot, 'package.json'))('esbuild');
  } catch {
    return undefined;
  }
  const h = createHash('sha256');
  for (const f of files) {
    const st = statSync(f);
    h.update(`${f} ${st.size} ${st.mtimeMs}\n`);
  }
  const stamp = h.digest('hex').slice(0, 16);
  const dir = path.join(PRIVATE, stamp);
  const launcher = path.join(dir, 'launch.mjs');
  if (existsSync(launcher)) return launcher;
  mkdirSync(PRIVATE, { recursive: true });
  // src/version.ts reads ../package.json; it also marks the .js files as ES modules. Replaced atomically
  // and only when it differs: children of other test processes may be reading it right now.
  const pkg = readFileSync(path.join(repoRoot, 'package.json'));
  const dest = path.join(PRIVATE, 'package.json');
  if (!existsSync(dest) || !readFileSync(dest).equals(pkg)) {
    const t = `${dest}.${process.pid}.tmp`;
    writeFileSync(t, pkg);
    renameSync(t, dest);
  }
  const tmp = mkdtempSync(path.join(PRIVATE, `.build-${stamp}-`));
  esbuild.buildSync({ entryPoints: files, outdir: tmp, outbase: path.join(repoRoot, 'src'), format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
  writeFileSync(path.join(tmp, 'launch.mjs'), LAUNCHER);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test process built the same stamp first
  }
  for (const e of readdirSync(PRIVATE, { withFileTypes: true })) {
    const p = path.join(PRIVATE, e.name);
    if (e.isDirectory() && e.name !== stamp && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true });
  }
  return launcher;
}

let mode: { kind: 'dist' | 'private' | 'tsx'; launcher?: string } | undefined;

/** How the CLIs are launched in this test process (decided once). */
export function launchMode(): 'dist' | 'private' | 'tsx' {
  if (!mode) {
    const files = srcFiles(path.join(repoRoot, 'src'));
    if (distIsFresh(files)) mode = { kind: 'dist' };
    else {
      const launcher = privateBuild(files);
      mode = launcher ? { kind: 'private', launcher } : { kind: 'tsx' };
      const how = launcher ? `an esbuild transpile of src/ (${path.relative(repoRoot, path.dirname(launcher))})` : 'src/ through tsx';
      console.warn(`robustness: dist/ is older than src/ (run \`npm run build\`): running the CLIs from ${how}`);
    }
  }
  return mode.kind;
}

/** argv (node first) running `prog` with `args`; `preload` is a module for node's --import. */
export function cliArgv(prog: Prog, args: string[], preload?: string): string[] {
  const pre = preload ? ['--import', preload] : [];
  const kind = launchMode();
  if (kind === 'dist') return [process.execPath, ...pre, path.join(repoRoot, 'bin', `${prog}.js`), ...args];
  if (kind === 'private') return [process.execPath, ...pre, mode!.launcher!, prog, ...args];
  // tsx resolved from the repository (the child's cwd may be anywhere)
  const tsx = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
  return [process.execPath, '--import', tsx, ...pre, path.join(repoRoot, 'test/robustness/launch-src.ts'), prog, ...args];
}
