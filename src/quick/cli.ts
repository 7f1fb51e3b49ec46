import yargs from 'yargs';
import { VERSION } from '../version.js';
import { checkJobs, runProgram } from '../util/cli.js';
import { UserError } from '../util/errors.js';
import { dumpConfig } from '../pipeline/config.js';
import { buildConfig, paramOptions } from '../pipeline/config-cli.js';
import { runQuick } from './run.js';

/** `lsst-quick image.fits`: SExtractor-style detection and photometry of every image HDU of a FITS file. */
export async function main(argv: string[]): Promise<number> {
  return runProgram(
    'lsst-quick',
    argv,
    (y) =>
      y
        .usage('$0 <image.fits> [options]\n\nDetect and measure sources in every image HDU of a FITS file (SExtractor-style).')
        .version(VERSION)
        .options(paramOptions())
        .option('config', { alias: 'c', type: 'string', describe: 'Config file: JSON (SExtractor keys) or a SExtractor .sex file' })
        .option('dump-config', { type: 'boolean', describe: 'Print the effective configuration as JSON and exit' })
        .option('json', { type: 'boolean', describe: 'Print a one-line JSON summary on stdout' })
        .option('jobs', { alias: 'j', type: 'number', default: 1, describe: 'Worker threads over image HDUs' })
        .option('png', { type: 'string', describe: 'Write a PNG preview of the first image HDU with the detections' })
        .check(checkJobs)
        .command(
          '$0 [image]',
          false,
          (c) => c.positional('image', { type: 'string', describe: 'FITS image (.fits, .fits.gz, tile-compressed)' }),
          async (args) => {
            const config = buildConfig(args as Record<string, unknown>);
            if (args['dump-config']) {
              process.stdout.write(`${dumpConfig(config)}\n`);
              return;
            }
            if (!args.image) throw new UserError('an input image is required');
            const tty = process.stderr.isTTY && !args.json;
            let bar: { update(n: number): void; stop(): void } | undefined;
            const summary = await runQuick({
              input: args.image as string,
              config,
              png: args.png as string | undefined,
              jobs: args.jobs as number,
              onHduDone: async (done, total) => {
                if (!tty || total < 2) return;
                if (!bar) {
                  const { default: cp } = await import('cli-progress');
                  const b = new cp.SingleBar({ format: 'HDUs [{bar}] {value}/{total}' }, cp.Presets.shades_classic);
                  b.start(total, 0);
                  bar = b;
                }
                bar.update(done);
                if (done === total) bar.stop();
              },
            });
            for (const w of summary.warnings) process.stderr.write(`lsst-quick: warning: ${w}\n`);
            if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
            else {
              const n = summary.hdus.reduce((a, h) => a + h.objects, 0);
              process.stderr.write(`lsst-quick: ${n} objects in ${summary.hdus.length} HDU(s) -> ${summary.catalog} (${summary.seconds.toFixed(2)} s)\n`);
            }
          },
        ),
    (a) => yargs(a),
  );
}
