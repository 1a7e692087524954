// The secretariat's vote routes (server/http/vote-routes.ts) with the identity token as Bearer: the
// session's votes, a vote's results as CSV or JSON (saved as a file), and who casts an entity's vote.
import type { VoteView } from '../../../../protocol/signaling';
import { ApiError } from './console-api';

export class VotesApi {
  constructor(
    private readonly token: string,
    private readonly eventId: string,
  ) {}

  private async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.body) headers['content-type'] = 'application/json';
    const res = await fetch(`/api/admin/events/${encodeURIComponent(this.eventId)}${path}`, { ...init, headers });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new ApiError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
    }
    return res;
  }

  async list(sessionId: string): Promise<VoteView[]> {
    return ((await (await this.fetch(`/sessions/${encodeURIComponent(sessionId)}/votes`)).json()) as { votes: VoteView[] }).votes;
  }

  /** A closed vote's results: CSV by entity (or by candidate), or the JSON view. */
  async results(sessionId: string, voteId: string, format: 'csv' | 'json'): Promise<Blob> {
    return (await this.fetch(`/sessions/${encodeURIComponent(sessionId)}/votes/${encodeURIComponent(voteId)}/results?format=${format}`)).blob();
  }

  async designate(entity: string, personId: string): Promise<void> {
    await this.fetch('/vote-designations', { method: 'PUT', body: JSON.stringify({ entity, personId }) });
  }
}
