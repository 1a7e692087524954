/** A refusal with the server's stable code (protocol/errors.ts), from signaling or from the HTTP API. */
export class MeetingClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MeetingClientError';
  }
}
