import type { Argv } from 'yargs';
import { FitsError } from '../fits/errors.js';
import { UserError } from './errors.js';

/** Exit codes shared by both CLIs (documented in the README). */
export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3 } as const;

/**
 * Reject NaN for every option declared `type: 'number'` (yargs parses "abc" to NaN and says nothing).
 * Call after the options are declared.
 */
export function validateNumbers<T>(y: Argv<T>, names: readonly string[]): Argv<T> {
  return y.check((argv) => {
    for (const n of names) {
      const v = (argv as Record<string, unknown>)[n];
      const vs = Array.isArray(v) ? v : [v];
      for (const x of vs) {
        if (x !== undefined && (typeof x !== 'number' || !Number.isFinite(x))) {
          throw new UserError(`option --${n} needs a number`);
        }
      }
    }
    return true;
  });
}

/** Names of the options declared `type: 'number'` in an options record. */
export function numericOptions(opts: Record<string, { type?: string }>): string[] {
  return Object.entries(opts).filter(([, o]) => o.type === 'number').map(([k]) => k);
}

/** Failures of the environment rather than of the input or the program: exit 1, with what to do. */
const ENVIRONMENT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
};

/** The errno code of a disk-full-like failure (also when wrapped in another error's message), else undefined. */
function environmentCode(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && ENVIRONMENT[e.code]) return e.code;
  if (!(err instanceof Error)) return undefined;
  const m = /\b(ENOSPC|EDQUOT|EIO|EROFS)\b/.exec(err.message);
  return m ? m[1] : err.name === 'StoreError' ? 'store' : undefined;
}

/** One line for the user from any error; a stack trace only with --debug. */
export function reportError(prog: string, err: unknown, debug: boolean): number {
  if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  if (err instanceof UserError) {
    process.stderr.write(`${prog}: error: ${err.message}\n`);
    return err.exitCode;
  }
  const env = environmentCode(err);
  if (env) {
    const e = err as NodeJS.ErrnoException;
    const msg = `${e.path && !e.message.includes(e.path) ? `${e.path}: ` : ''}${e.message.split('\n')[0]}`;
    const why = ENVIRONMENT[env] ? `${ENVIRONMENT[env]}; ` : '';
    process.stderr.write(`${prog}: error: ${msg} (${why}nothing partial is left behind: run the same command again once this is fixed)\n`);
    return EXIT.failure;
  }
  if (err instanceof FitsError) {
    process.stderr.write(`${prog}: error: ${err.message}\n`);
    return EXIT.usage;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.path) {
    const what: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EISDIR: 'is a directory',
      ENOTDIR: 'not a directory',
      ENOSPC: 'no space left on device',
    };
    process.stderr.write(`${prog}: error: ${e.path}: ${what[e.code] ?? e.code}\n`);
    return e.code === 'ENOSPC' ? EXIT.failure : EXIT.usage;
  }
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${prog}: internal error: ${msg.split('\n')[0]} (run with --debug for details)\n`);
  return EXIT.failure;
}

/** yargs .check() of --jobs: an integer from 1 to 256 (both CLIs' commands that run threads). */
export function checkJobs(a: Record<string, unknown>): true {
  if (!Number.isInteger(a.jobs) || (a.jobs as number) < 1 || (a.jobs as number) > 256) throw new UserError('option --jobs needs an integer from 1 to 256');
  return true;
}

/** yargs' multi-line messages ("Invalid values:\n  Argument: x, Given: ...") on one line. */
const oneLine = (msg: string): string => msg.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');

/**
 * Run a yargs program: usage errors (unknown options, typos of commands, bad values) give one line and exit 2.
 * `build` declares options/commands; handlers report a non-zero exit code through `setExit`.
 */
export async function runProgram(
  prog: string,
  argv: string[],
  build: (y: Argv, setExit: (code: number) => void) => Argv,
  yargsFactory: (args: string[]) => Argv,
): Promise<number> {
  const debug = argv.includes('--debug');
  let usageError: string | undefined;
  let code: number = EXIT.ok;
  const setExit = (c: number): void => {
    code = c;
  };
  try {
    const y = build(
      yargsFactory(argv)
        .scriptName(prog)
        .strict()
        .recommendCommands()
        .option('debug', { type: 'boolean', default: false, describe: 'Print stack traces on errors', hidden: true })
        .help()
        .alias('h', 'help')
        .wrap(Math.min(110, process.stdout.columns || 100))
        .exitProcess(false)
        .fail((msg, err) => {
          if (err) throw err;
          // stop here: a usage error must not run the command's handler
          usageError = msg;
          throw new Error(msg);
        }),
      setExit,
    );
    await y.parseAsync();
  } catch (err) {
    // a usage error arrives here: fail() throws it
    if (usageError) {
      process.stderr.write(`${prog}: error: ${oneLine(usageError)} (see ${prog} --help)\n`);
      return EXIT.usage;
    }
    return reportError(prog, err, debug);
  }
  return code;
}
