// What the `plenum` CLI prints and exits with when a command cannot do its job. The codes are stable: scripts
// and runbooks match on them, never on the wording.

export const CliErrorCode = {
  /** The command line is wrong (unknown command, missing or invalid argument). Exit 2. */
  USAGE: 'E_USAGE',
  /** The environment (PLENUM_DATA_DIR, PLENUM_DATABASE_URL) is invalid. Exit 2. */
  CONFIG: 'E_CONFIG',
  /** A server (or another command) holds the embedded database. */
  DATA_DIR_IN_USE: 'E_DATA_DIR_IN_USE',
  /** The embedded database does not exist yet (nothing to back up or export). */
  NO_DATABASE: 'E_NO_DATABASE',
  /** backup/restore apply to the embedded engine only; PostgreSQL has its own tools. Exit 2. */
  NOT_EMBEDDED: 'E_NOT_EMBEDDED',
  /** restore would replace a database that holds data, and --force was not given. */
  TARGET_NOT_EMPTY: 'E_TARGET_NOT_EMPTY',
  /** The output file exists, and --force was not given. */
  FILE_EXISTS: 'E_FILE_EXISTS',
  /** An input file cannot be read. */
  FILE_NOT_FOUND: 'E_FILE_NOT_FOUND',
  /** The backup file is not an embedded database archive (or is damaged). */
  BAD_BACKUP: 'E_BAD_BACKUP',
  /** No event with that id: no event row and no registration. */
  EVENT_NOT_FOUND: 'E_EVENT_NOT_FOUND',
  /** The CSV has invalid lines or e-mails of other registrations; nothing was imported. */
  CSV_INVALID: 'E_CSV_INVALID',
  /** The database refused or could not be reached. */
  DATABASE: 'E_DATABASE',
  /** The command exists but this build cannot run it yet. */
  NOT_AVAILABLE: 'E_NOT_AVAILABLE',
  /** Anything else; details only with PLENUM_LOG_LEVEL=debug. */
  INTERNAL: 'E_INTERNAL',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** A failure the CLI explains in one line: `plenum <command>: <code>: <message>`. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** 2 for usage and "not this engine", 1 otherwise. */
    readonly exitCode: number = code === CliErrorCode.USAGE || code === CliErrorCode.CONFIG || code === CliErrorCode.NOT_EMBEDDED ? 2 : 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
