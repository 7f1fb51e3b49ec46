import yargs from 'yargs';
import { VERSION } from '../version.js';
import { runProgram } from '../util/cli.js';

/** `lsst-prod`: the production driver (one whole camera exposure per run). Commands are added as they land. */
export async function main(argv: string[]): Promise<number> {
  return runProgram(
    'lsst-prod',
    argv,
    (y) =>
      y
        .usage('$0 <command> [options]\n\nProcess whole camera exposures (visits) with visit-level joint fits.')
        .version(VERSION)
        .demandCommand(1, 'a command is required'),
    (a) => yargs(a),
  );
}
