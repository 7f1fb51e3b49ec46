import yargs, { type Argv, type CommandModule } from 'yargs';
import { VERSION } from '../version.js';
import { runProgram } from '../util/cli.js';
import { COMMANDS } from './commands/index.js';

/** `lsst-prod`: the production driver (one whole camera exposure per run). */
export async function main(argv: string[]): Promise<number> {
  return runProgram(
    'lsst-prod',
    argv,
    (y, setExit) => {
      let out: Argv = y
        .usage('$0 <command> [options]\n\nProcess whole camera exposures (visits) with visit-level joint fits.')
        .version(VERSION)
        .strictCommands()
        .demandCommand(1, 'a command is required');
      for (const make of COMMANDS) out = out.command(make(setExit) as CommandModule);
      return out;
    },
    (a) => yargs(a),
  );
}
