/** The lsst-prod commands: each module exports a factory of a yargs CommandModule (setExit reports exit codes). */
import type { CommandModule } from 'yargs';
import { ingestCommand } from './ingest.js';
import { visitCommand } from './visit.js';
import { freezeCommand, rerunCommand, statusCommand } from './state.js';
import { simulateCommand } from './simulate.js';
import { slurmReduceCommand, slurmTaskCommand } from './slurm-task.js';
import { compareCommand } from './compare.js';

export type CommandFactory = (setExit: (code: number) => void) => CommandModule<any, any>;

export const COMMANDS: CommandFactory[] = [ingestCommand, visitCommand, statusCommand, rerunCommand, freezeCommand, simulateCommand, compareCommand, slurmTaskCommand, slurmReduceCommand];
