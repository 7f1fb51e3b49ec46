/**
 * Launcher of the CLIs from src/ (through tsx), used by the robustness harness when dist/ is stale:
 *   node --import tsx test/robustness/launch-src.ts lsst-quick|lsst-prod ARGS...
 * Mirrors bin/lsst-*.js: the exit code comes from main(), never from process.exit.
 */
const [prog, ...args] = process.argv.slice(2);
const mod = prog === 'lsst-prod' ? await import('../../src/production/cli.js') : await import('../../src/quick/cli.js');
process.exitCode = await mod.main(args);
