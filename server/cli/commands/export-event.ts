import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { EVENT_ID_PATTERN } from '../../../accreditation/ids.js';
import { checked, commandArgs } from '../cli-args.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { cliEnvironment, openCliStore, progress } from '../cli-store.js';
import { eventKnown, exportTables } from '../event-export.js';
import { GzipJsonWriter } from '../gzip-json-writer.js';
import type { Command } from './command.js';

const usage = 'plenum export <eventId> [--out <file>|-] [--force]';
export const EXPORT_FORMAT = 'plenum-event-export';

/**
 * Every record of one event as one archive: a gzipped JSON document, `{ format, version, eventId, exportedAt,
 * engine, migrations, tables: { <table>: [rows…] }, counts }`, read in one repeatable-read transaction so the
 * tables agree with each other. `--out -` writes it to stdout.
 */
export const exportEvent: Command = {
  name: 'export',
  usage,
  summary: "write all records of an event as one archive (<eventId>.plenum-export.json.gz by default)",
  async run(argv) {
    const { values, positionals } = commandArgs(argv, { out: { type: 'string' }, force: { type: 'boolean', default: false } }, ['<eventId>'], usage);
    const eventId = checked(positionals[0], 'event id', EVENT_ID_PATTERN, usage);
    const toStdout = values.out === '-';
    const out = toStdout ? undefined : resolve(values.out ?? `${eventId}.plenum-export.json.gz`);
    if (out && existsSync(out) && !values.force) throw new CliError(CliErrorCode.FILE_EXISTS, `${out} exists; give --force to replace it`);
    const store = await openCliStore(cliEnvironment(), { migrate: false, mustExist: true });
    try {
      return await store.db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (tx) => {
          if (!(await eventKnown(tx, eventId))) throw new CliError(CliErrorCode.EVENT_NOT_FOUND, `no event ${eventId} in ${store.location}`);
          const writer = toStdout ? GzipJsonWriter.toStdout() : GzipJsonWriter.toFile(out!);
          const counts: Record<string, number> = {};
          try {
            const migrations = (await sql<{ name: string }>`select name from plenum_migrations order by name`.execute(tx)).rows.map((r) => r.name);
            const head = { format: EXPORT_FORMAT, version: 1, eventId, exportedAt: new Date().toISOString(), engine: store.kind, migrations };
            await writer.write(`${JSON.stringify(head).slice(0, -1)},"tables":{`);
            let firstTable = true;
            for (const [table, rows] of Object.entries(exportTables)) {
              await writer.write(`${firstTable ? '' : ','}${JSON.stringify(table)}:[`);
              firstTable = false;
              let n = 0;
              for await (const row of rows(tx, eventId)) {
                await writer.write(`${n === 0 ? '' : ','}${JSON.stringify(row)}`);
                if (++n % 10_000 === 0) progress('export', `${table}: ${n} rows`);
              }
              await writer.write(']');
              counts[table] = n;
              progress('export', `${table}: ${n} rows`);
            }
            await writer.write(`},"counts":${JSON.stringify(counts)}}`);
            await writer.finish();
          } catch (error) {
            await writer.abort();
            throw error;
          }
          // With --out - stdout carries the archive, so the summary goes to stderr.
          const summary = { eventId, file: out ?? '-', engine: store.kind, counts };
          if (toStdout) progress('export', JSON.stringify(summary));
          return toStdout ? undefined : summary;
        });
    } finally {
      await store.close();
    }
  },
};
