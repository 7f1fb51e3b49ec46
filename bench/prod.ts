/**
 * Production-mode benchmark on a simulated full-size LSSTCam visit (189 CCDs of 4072x4000, kept on disk):
 *   npm run build
 *   node bin/lsst-prod.js simulate --camera lsstcam --visit 1 --repo bench/out/lsstcam --seed 1   # once, ~6 GB
 *   npx tsx bench/prod.ts [--ccds 1,9,36,189] [--jobs 2] [--memory 4GiB] [--quick] [--unlimited]
 * For each N: a fresh repository with the first N raws, `lsst-prod visit 1 --memory M --jobs J` under
 * /usr/bin/time -v (wall, peak RSS); with --unlimited the same with no budget; with --quick the sum of
 * lsst-quick wall times over the same N files (and the largest peak RSS). Prints a markdown table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const SIM = path.join(ROOT, 'bench/out/lsstcam');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
const ccds = arg('ccds', '1,9,36,189').split(',').map(Number);
const jobs = arg('jobs', '2');
const memory = arg('memory', '4GiB');
const rawDir = path.join(SIM, 'raw', '1');
if (!existsSync(rawDir)) {
  console.error(`no simulated visit in ${SIM}: run the simulate command in this file's header first`);
  process.exit(2);
}
const raws = readdirSync(rawDir).filter((f) => f.endsWith('.fits')).sort().map((f) => path.join(rawDir, f));
const BIN = (b: string) => path.join(ROOT, 'bin', `${b}.js`);

function timed(args: string[]): { s: number; mb: number; ok: boolean; out: string } {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const w = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(r.stderr);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (r.status !== 0) console.error(r.stderr.split('\n').filter((l) => l.includes('error') || l.includes('failed')).slice(0, 3).join('\n'));
  return { s: w ? Number(w[1] ?? 0) * 3600 + Number(w[2]) * 60 + Number(w[3]) : NaN, mb: m ? Number(m[1]) / 1024 : NaN, ok: r.status === 0, out: r.stdout };
}

function prodRun(n: number, mem: string): { s: number; mb: number; drops: number } {
  const repo = path.join(ROOT, 'bench/out', `prod-${n}-${mem}`);
  rmSync(repo, { recursive: true, force: true });
  const ing = spawnSync(process.execPath, [BIN('lsst-prod'), 'ingest', '--repo', repo, ...raws.slice(0, n)], { encoding: 'utf8' });
  if (ing.status !== 0) throw new Error(ing.stderr);
  const t = timed([BIN('lsst-prod'), 'visit', '1', '--repo', repo, '--memory', mem, '--jobs', jobs, '--json', '--log-level', 'error']);
  const drops = t.ok ? JSON.parse(t.out.trim().split('\n').pop()!).drops : NaN;
  rmSync(path.join(repo, 'state'), { recursive: true, force: true }); // ~100 MB per CCD of records
  return { s: t.s, mb: t.mb, drops };
}

const rows: string[] = [];
for (const n of ccds) {
  if (n > raws.length) {
    console.error(`only ${raws.length} raws simulated; skipping N=${n}`);
    continue;
  }
  const b = prodRun(n, memory);
  let line = `| ${n} | ${b.s.toFixed(1)} s | ${b.mb.toFixed(0)} MB | ${b.drops} |`;
  if (flag('unlimited')) {
    const u = prodRun(n, 'unlimited');
    line += ` ${u.s.toFixed(1)} s / ${u.mb.toFixed(0)} MB |`;
  } else line += ' - |';
  if (flag('quick')) {
    let sum = 0;
    let peak = 0;
    for (const f of raws.slice(0, n)) {
      const q = timed([BIN('lsst-quick'), f, '-o', path.join(ROOT, 'bench/out/quick.cat.fits')]);
      sum += q.s;
      peak = Math.max(peak, q.mb);
    }
    line += ` ${sum.toFixed(1)} s / ${peak.toFixed(0)} MB |`;
  } else line += ' - |';
  rows.push(line);
  console.log(line);
}
console.log(`\n| CCDs | lsst-prod --memory ${memory} --jobs ${jobs}: wall | peak RSS | drops | unlimited budget: wall / peak RSS | sum of lsst-quick over the same files: wall / max peak RSS |\n|---|---|---|---|---|---|`);
for (const r of rows) console.log(r);
