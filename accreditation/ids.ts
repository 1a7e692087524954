// Id formats, shared by the model, the HTTP routes and the CSV import. An id that reaches a lookup, a file
// name or a header has passed one of these first, so attacker-chosen strings never do.
import { z } from 'zod';

/** Session and meeting ids: also room names and parts of file names. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
/** Event ids (the CRM's, or chosen by the secretariat). */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
/** Person ids: CRMs use numbers, UUIDs, URNs and sometimes e-mail-like keys. */
export const PERSON_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._:@+-]{0,127}$/;

export const sessionId = z.string().regex(SESSION_ID_PATTERN, 'letters, digits, dot, dash and underscore; at most 64');
export const eventId = z.string().regex(EVENT_ID_PATTERN, 'letters, digits, dot, dash and underscore; at most 128');
export const personId = z.string().regex(PERSON_ID_PATTERN, 'letters, digits and . _ : @ + -; at most 128');
