import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { AccessCodeHasher } from '../../../accreditation/access-code-hasher.js';
import { EVENT_ID_PATTERN } from '../../../accreditation/ids.js';
import { CsvImportError, EmbeddedRegistry } from '../../../accreditation/registry/embedded-registry.js';
import { checked, commandArgs } from '../cli-args.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { cliEnvironment, openCliStore, progress } from '../cli-store.js';
import type { Command } from './command.js';

const usage = 'plenum import-registry <csv> --event <eventId> [--allow-email-of-other-event]';
/** As the admin API's import (express.text limit there is 5 MB); a larger registry is split into files. */
const MAX_CSV_BYTES = 64 * 1024 * 1024;

/**
 * A registry CSV into one event, through the same code as the admin API's import: every line validated first,
 * all of it or nothing written, access codes hashed. The operator may reuse e-mails of other events, as the
 * admin API key may.
 */
export const importRegistry: Command = {
  name: 'import-registry',
  usage,
  summary: 'import a registry CSV (columns as the admin API import) into an event',
  async run(argv) {
    const { values, positionals } = commandArgs(
      argv,
      { event: { type: 'string' }, 'allow-email-of-other-event': { type: 'boolean', default: false } },
      ['<csv>'],
      usage,
    );
    const eventId = checked(values.event, '--event', EVENT_ID_PATTERN, usage);
    const file = resolve(positionals[0]!);
    let text: string;
    try {
      const buffer = await readFile(file);
      if (buffer.length > MAX_CSV_BYTES) throw new CliError(CliErrorCode.USAGE, `${file} is larger than ${MAX_CSV_BYTES} bytes; split it`);
      text = buffer.toString('utf8');
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(CliErrorCode.FILE_NOT_FOUND, `cannot read ${file}: ${(error as Error).message}`);
    }
    const store = await openCliStore(cliEnvironment(), { migrate: true, mustExist: false });
    try {
      const registry = await EmbeddedRegistry.open(store.db, undefined, { hasher: new AccessCodeHasher(Math.max(1, availableParallelism())) });
      progress('import-registry', `importing ${file} into event ${eventId} (${store.kind})`);
      let imported: number;
      try {
        ({ imported } = await registry.importCsv(text, eventId, { allowEmailOfOtherEvent: values['allow-email-of-other-event'] }));
      } catch (error) {
        if (!(error instanceof CsvImportError)) throw error;
        const lines = error.lines.slice(0, 20).map((l) => `  line ${l.line}: ${l.message}`);
        const more = error.lines.length > 20 ? [`  … and ${error.lines.length - 20} more`] : [];
        throw new CliError(CliErrorCode.CSV_INVALID, [error.message, ...lines, ...more].join('\n'), 1, { cause: error });
      }
      return { eventId, file, engine: store.kind, imported };
    } finally {
      await store.close();
    }
  },
};
