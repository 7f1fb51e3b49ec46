#!/usr/bin/env node
import { loadMain } from '../dist/util/code-cache.js';
const main = await loadMain(new URL('../dist/quick/cli.js', import.meta.url));
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
