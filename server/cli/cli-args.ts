import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, CliErrorCode } from './cli-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** One command's arguments: known options only, exactly the named positionals; anything else is E_USAGE. */
export function commandArgs<O extends Options>(argv: string[], options: O, positionals: string[], usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(CliErrorCode.USAGE, `${(error as Error).message}\nusage: ${usage}`);
  }
  if (parsed.positionals.length !== positionals.length) {
    throw new CliError(CliErrorCode.USAGE, `expected ${positionals.length ? positionals.join(' ') : 'no arguments'}, got ${parsed.positionals.length ? parsed.positionals.join(' ') : 'none'}\nusage: ${usage}`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A validated id argument (event ids and the like): the same patterns as the HTTP routes. */
export function checked(value: string | undefined, name: string, pattern: RegExp, usage: string): string {
  if (value === undefined || !pattern.test(value)) throw new CliError(CliErrorCode.USAGE, `invalid ${name} ${JSON.stringify(value ?? '')}\nusage: ${usage}`);
  return value;
}
