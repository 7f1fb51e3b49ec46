import yargs from 'yargs';
import { VERSION } from '../version.js';
import { runProgram } from '../util/cli.js';
import { UserError } from '../util/errors.js';

/** `lsst-quick image.fits`: SExtractor-style detection and photometry of every image HDU of a FITS file. */
export async function main(argv: string[]): Promise<number> {
  return runProgram(
    'lsst-quick',
    argv,
    (y) =>
      y
        .usage('$0 <image.fits> [options]\n\nDetect and measure sources in every image HDU of a FITS file.')
        .version(VERSION)
        .command(
          '$0 <image>',
          false,
          (c) => c.positional('image', { type: 'string', describe: 'FITS image (.fits, .fits.gz, tile-compressed)' }),
          async () => {
            throw new UserError('detection is not implemented yet');
          },
        ),
    (a) => yargs(a),
  );
}
