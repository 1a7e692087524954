// Error codes users and clients see. Defined once; the server and the SDK both import this file.
// Kept free of zod so the browser bundle does not pull the schema library in.

export const ErrorCode = {
  /** The message did not match its schema. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** No such signaling method. */
  UNKNOWN_METHOD: 'UNKNOWN_METHOD',
  /** The message is larger than the configured limit. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The connection sent more messages than its rate allows. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** No valid join token. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The token's grants do not allow this action. */
  FORBIDDEN: 'FORBIDDEN',
  /** The connection waits in the lobby: the secretariat has not admitted it yet. */
  IN_LOBBY: 'IN_LOBBY',
  /** The action needs a joined participant. */
  NOT_JOINED: 'NOT_JOINED',
  ALREADY_JOINED: 'ALREADY_JOINED',
  /** This connection left the room; it accepts no further requests (open a new connection to come back). */
  ALREADY_LEFT: 'ALREADY_LEFT',
  /** The secretariat removed this person from this session; their resume token no longer lets them back. */
  REMOVED: 'REMOVED',
  /** The secretariat muted this microphone (or stopped this video); it stays off until they allow it again. */
  MUTED_BY_MODERATOR: 'MUTED_BY_MODERATOR',
  /** A referenced transport, producer or consumer does not exist (or is not the caller's). */
  NOT_FOUND: 'NOT_FOUND',
  /** The action is valid but not in the current state (e.g. consuming before a receive transport exists). */
  INVALID_STATE: 'INVALID_STATE',
  /** A session lifecycle change that is not allowed from the current status (e.g. reopening a closed session). */
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  /** Another interpreter holds this booth's live microphone. */
  BOOTH_OCCUPIED: 'BOOTH_OCCUPIED',
  /** This room is served by another node; the error's `url` says which. */
  ROOM_ELSEWHERE: 'ROOM_ELSEWHERE',
  /** A configured limit (transports, producers, consumers per participant) is reached. */
  LIMIT_REACHED: 'LIMIT_REACHED',
  /** That floor microphone is not audible now (not the floor, not among the loudest voices); it is announced when it is. */
  NOT_AUDIBLE: 'NOT_AUDIBLE',
  /** Selective forwarding: the server sends this producer's consumer itself (newConsumer) when it is audible or on the client's screen (setView). */
  SERVER_SELECTED: 'SERVER_SELECTED',
  /** The client cannot receive this producer's codec. */
  CANNOT_CONSUME: 'CANNOT_CONSUME',
  /** The media layer refused the parameters. */
  MEDIA_ERROR: 'MEDIA_ERROR',
  /** The room has no media capacity left (no live worker). */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The accreditation check refused this person for this session; `reasons` says why. */
  NOT_ACCREDITED: 'NOT_ACCREDITED',
  /** The e-mail belongs to another registration: of another event (only the admin API key may reuse it), or another person's. */
  EMAIL_IN_USE: 'EMAIL_IN_USE',
  /** The id (a session's) belongs to another event; ids never move between events. */
  ID_IN_USE: 'ID_IN_USE',
  /** An uploaded CSV has invalid lines; nothing was imported. */
  CSV_INVALID: 'CSV_INVALID',
  /** The action does not apply to this deployment (e.g. editing registrations held by a remote CRM). */
  NOT_SUPPORTED: 'NOT_SUPPORTED',
  /** An uploaded document is not a PDF, a DOCX or plain UTF-8 text (judged from its content, never its name or declared type). */
  DOCUMENT_TYPE_REFUSED: 'DOCUMENT_TYPE_REFUSED',
  /** An uploaded document is larger than PLENUM_DOCUMENT_MAX_BYTES; nothing was stored. */
  DOCUMENT_TOO_LARGE: 'DOCUMENT_TOO_LARGE',
  /** A vote is already open in this session: one at a time. */
  VOTE_ALREADY_OPEN: 'VOTE_ALREADY_OPEN',
  /** The vote has closed (by the chair or its timer); no more ballots. */
  VOTE_CLOSED: 'VOTE_CLOSED',
  /** This entity has voted: one vote per entity. */
  VOTE_ALREADY_CAST: 'VOTE_ALREADY_CAST',
  /** The entity's type may not vote on this question, or this person does not cast the entity's vote. */
  VOTE_NOT_ENTITLED: 'VOTE_NOT_ENTITLED',
  /** A roll-call: another entity is called now. */
  VOTE_NOT_CALLED: 'VOTE_NOT_CALLED',
  /** Too few entities entitled to vote are present to open the vote. */
  QUORUM_NOT_MET: 'QUORUM_NOT_MET',
  /** The session is already being recorded: one recording at a time (HTTP 409). */
  RECORDING_ACTIVE: 'RECORDING_ACTIVE',
  /** The session has no recording under way to stop (HTTP 409). */
  RECORDING_NOT_ACTIVE: 'RECORDING_NOT_ACTIVE',
  /** An HTTP route that does not exist or is disabled. */
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  /** Something failed on the server; details are in its log, never in the answer. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** The acknowledgement every signaling request receives. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/** An error that carries a code and a message safe to show to the client. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/** Why a room or a participant's presence ended, as told to clients. */
export const CloseReason = {
  LEFT: 'LEFT',
  SERVER_SHUTDOWN: 'SERVER_SHUTDOWN',
  MEDIA_WORKER_DIED: 'MEDIA_WORKER_DIED',
  DISCONNECTED: 'DISCONNECTED',
  /** The secretariat closed the session. */
  SESSION_CLOSED: 'SESSION_CLOSED',
  /** The same person joined again from another connection. */
  REPLACED: 'REPLACED',
  /** The registry no longer accredits this person (revoked, withdrawn, ...). */
  ACCREDITATION_REVOKED: 'ACCREDITATION_REVOKED',
  /** The secretariat removed the participant. */
  REMOVED_BY_SECRETARIAT: 'REMOVED_BY_SECRETARIAT',
  /** The secretariat did not admit the participant from the lobby. */
  LOBBY_DENIED: 'LOBBY_DENIED',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];
