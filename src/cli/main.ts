import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { CliError } from './errors.js';

/** Builds the `tyndau` program; tests call this with their own argv. */
export function buildProgram(): Command {
  const program = new Command('tyndau')
    .description('Tyndau: broadcast audio fingerprinting, airplay monitoring and royalty accrual')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit with code 0; usage errors were already printed by commander
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tyndau: ${message}\n`);
    if (process.env.TYNDAU_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
