/** Command-line side of the config table, shared by lsst-quick and lsst-prod. */
import { readFileSync } from 'node:fs';
import type { Options } from 'yargs';
import { UserError } from '../util/errors.js';
import { PARAMS, applyJson, applySex, cliName, coerce, defaultConfig, type Config } from './config.js';

/** yargs options generated from the one config table (values are validated by coerce, not by yargs). */
export function paramOptions(): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const p of PARAMS) {
    const name = cliName(p);
    if (!name) continue;
    out[name] = {
      describe: `${p.describe} [${p.key}; default ${JSON.stringify(p.def)}]`,
      type: p.type === 'bool' ? 'boolean' : 'string',
      group: 'SExtractor parameters:',
      ...(p.alias ? { alias: p.alias } : {}),
      ...(p.choices && p.type === 'enum' ? { choices: [...p.choices, ...p.choices.map((c) => c.toUpperCase())] } : {}),
    };
  }
  return out;
}

/** defaults < --config FILE (.json or SExtractor .sex) < explicit command-line options */
export function buildConfig(argv: Record<string, unknown>): Config {
  let c = defaultConfig();
  const cf = argv.config as string | undefined;
  if (cf) {
    let text: string;
    try {
      text = readFileSync(cf, 'utf8');
    } catch {
      throw new UserError(`${cf}: cannot read the config file`);
    }
    if (/\.json$/i.test(cf)) {
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        throw new UserError(`${cf}: invalid JSON (${(e as Error).message})`);
      }
      c = applyJson(c, obj, cf);
    } else c = applySex(c, text, cf);
  }
  for (const p of PARAMS) {
    const name = cliName(p);
    if (!name) continue;
    const v = argv[name];
    if (v !== undefined) c[p.key] = coerce(p, v, `--${name}`);
  }
  return c;
}

