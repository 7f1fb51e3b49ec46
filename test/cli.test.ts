import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The CLIs are tested as users run them: through the launchers in bin/, on the compiled dist/ (npm run build).
const run = (bin: string, args: string[]) =>
  spawnSync(process.execPath, [`bin/${bin}.js`, ...args], { encoding: 'utf8', timeout: 30_000 });
const pkgVersion = JSON.parse(readFileSync('package.json', 'utf8')).version;

describe.each(['lsst-quick', 'lsst-prod'])('%s launcher', (bin) => {
  it('prints the package version', () => {
    const r = run(bin, ['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkgVersion);
  });
  it('prints help naming itself', () => {
    const r = run(bin, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(bin);
  });
  it('rejects an unknown option with one line and exit 2', () => {
    const r = run(bin, bin === 'lsst-prod' ? ['visit', '1', '--no-such-option'] : ['x.fits', '--no-such-option']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
  it('rejects a non-numeric value of a numeric option with one line and exit 2', () => {
    const r = run(bin, bin === 'lsst-prod' ? ['visit', '1', '--jobs', 'two'] : ['x.fits', '--detect-thresh', 'abc']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/jobs|DETECT_THRESH/);
  });
  it('rejects a value outside an option\'s choices in one line, before the command runs', () => {
    // the repository does not exist: had the handler run, it would have said so (or processed a visit)
    const args = bin === 'lsst-prod' ? ['status', 'exposure', '1', '--repo', '/nonexistent/repo'] : ['/nonexistent/x.fits', '--catalog-type', 'votable'];
    const r = run(bin, args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(bin === 'lsst-prod' ? /Invalid values: Argument: kind, Given: "exposure", Choices: "visit"/ : /votable/);
    expect(r.stderr).not.toMatch(/not a repository|no such file/);
  });
  it('rejects a typo of a command with one line and exit 2', () => {
    const r = run(bin, bin === 'lsst-prod' ? ['vist', '1'] : ['--dump-confg']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('lsst-prod compare', () => {
  it('refuses a compare --json file in a missing directory before running anything', () => {
    const r = run('lsst-prod', ['compare', 'visit', '1', '--repo', '/nonexistent/repo', '--json', '/nonexistent/dir/cmp.json']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--json \/nonexistent\/dir\/cmp\.json: no such directory \/nonexistent\/dir/);
  });
});
