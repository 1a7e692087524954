import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as registrationStatusAndEmail from './0002-registration-status-and-email.js';
import * as documents from './0003-documents.js';
import * as votes from './0004-votes.js';
import * as recordings from './0005-recordings.js';
import * as dialInPins from './0006-dial-in-pins.js';

/**
 * Every migration, in order. Names sort by their number; a released migration never changes, a change is a
 * new one. Forward only: a backup (embedded) or the database's own tools (PostgreSQL) take you back.
 */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-registration-status-and-email': registrationStatusAndEmail,
  '0003-documents': documents,
  '0004-votes': votes,
  '0005-recordings': recordings,
  '0006-dial-in-pins': dialInPins,
};
