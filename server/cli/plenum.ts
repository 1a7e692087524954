// `npm run plenum -- <command> …`: operations on the system of record, with the server's environment
// (PLENUM_DATA_DIR, PLENUM_DATABASE_URL). Results are JSON on stdout, progress on stderr; a failure is one line
// `plenum <command>: E_CODE: message` and a non-zero exit (2: usage, or not for this engine). Stack traces only
// with PLENUM_LOG_LEVEL=debug.
import { CliError, CliErrorCode } from './cli-error.js';
import { backup } from './commands/backup.js';
import type { Command } from './commands/command.js';
import { exportEvent } from './commands/export-event.js';
import { importRegistry } from './commands/import-registry.js';
import { migrate } from './commands/migrate.js';
import { restore } from './commands/restore.js';

const commands: Command[] = [migrate, importRegistry, exportEvent, backup, restore];

function help(): string {
  return ['usage: npm run plenum -- <command> [arguments]', '', ...commands.map((c) => `  ${c.usage}\n      ${c.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) throw new CliError(CliErrorCode.USAGE, `unknown command ${JSON.stringify(name)}\n${help()}`);
  const result = await command.run(rest);
  if (result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

const debug = process.env.PLENUM_LOG_LEVEL === 'debug';
const commandName = process.argv[2] ?? '';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const failure = error instanceof CliError ? error : new CliError(CliErrorCode.INTERNAL, error instanceof Error ? error.message : String(error), 1, { cause: error });
    process.stderr.write(`plenum${commandName ? ` ${commandName}` : ''}: ${failure.code}: ${failure.message}\n`);
    if (debug) process.stderr.write(`${(failure.cause as Error | undefined)?.stack ?? failure.stack}\n`);
    process.exitCode = failure.exitCode;
  },
);
