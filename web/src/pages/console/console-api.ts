// The secretariat's admin API (server/http/conduct-routes.ts, accreditation-routes.ts, webhook-routes.ts),
// called with the signed-in person's identity token as Bearer. Failures carry the API's stable code.

export interface SessionRules {
  sessionId: string;
  eventId: string;
  meetingId?: string;
  title: string;
  status: 'scheduled' | 'open' | 'suspended' | 'closed';
  startsAt?: string;
  endsAt?: string;
  lobby: boolean;
  locked: boolean;
  floorControl: boolean;
  languages: string[];
  [rule: string]: unknown;
}

export interface QuorumView {
  byType: Record<string, { entities: string[]; count: number }>;
  total: number;
}

export interface AttendanceSummary {
  participants: { byEntityType: Record<string, number>; total: number };
  listeners: { byEntity: Record<string, number>; byEntityType: Record<string, number>; total: number };
}

export interface AuditRecord {
  id?: number;
  at: string;
  sessionId: string;
  personId?: string;
  name?: string;
  entity?: string;
  role?: string;
  decision: string;
  reasons: string[];
  source: string;
  actor?: string;
}

export interface AuditFilter {
  sessionId?: string;
  decision?: string;
  personId?: string;
}

export type DeliveryState = 'pending' | 'retrying' | 'delivered' | 'failed';
export interface WebhookDelivery {
  deliveryId: string;
  type: string;
  sessionId: string;
  state: DeliveryState;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  lastError: string | null;
}
export interface WebhooksPage {
  configured: boolean;
  counts: Record<DeliveryState, number>;
  deliveries: WebhookDelivery[];
  nextCursor: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class AdminApi {
  constructor(
    private readonly token: string,
    readonly eventId: string,
  ) {}

  private url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return `/api/admin/events/${encodeURIComponent(this.eventId)}${path}${qs ? `?${qs}` : ''}`;
  }

  private async raw(path: string, init: RequestInit = {}, query: Record<string, string | number | undefined> = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.body) headers['content-type'] = 'application/json';
    const res = await fetch(this.url(path, query), { ...init, headers });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new ApiError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? res.statusText);
    }
    return res;
  }

  private async json<T>(path: string, init: RequestInit = {}, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return (await (await this.raw(path, init, query)).json()) as T;
  }

  sessions(): Promise<{ sessions: SessionRules[] }> {
    return this.json('/sessions');
  }

  /** Creates or replaces a session's rules (the whole set: pass the current rules with the changes). */
  putSession(sessionId: string, rules: Omit<SessionRules, 'sessionId' | 'eventId'>): Promise<{ session: SessionRules }> {
    return this.json(`/sessions/${encodeURIComponent(sessionId)}`, { method: 'PUT', body: JSON.stringify(rules) });
  }

  lifecycle(sessionId: string, action: 'open' | 'suspend' | 'resume' | 'close'): Promise<{ status: SessionRules['status'] }> {
    return this.json(`/sessions/${encodeURIComponent(sessionId)}/lifecycle`, { method: 'POST', body: JSON.stringify({ action }) });
  }

  lock(sessionId: string, locked: boolean): Promise<{ locked: boolean }> {
    return this.json(`/sessions/${encodeURIComponent(sessionId)}/lock`, { method: 'POST', body: JSON.stringify({ locked }) });
  }

  quorum(sessionId: string): Promise<QuorumView> {
    return this.json(`/sessions/${encodeURIComponent(sessionId)}/quorum`);
  }

  attendanceSummary(sessionId: string): Promise<AttendanceSummary> {
    return this.json(`/sessions/${encodeURIComponent(sessionId)}/attendance/summary`);
  }

  /** The whole attendance record as CSV (the server streams it); the page saves it as a file. */
  async attendanceCsv(sessionId: string): Promise<Blob> {
    return (await this.raw(`/sessions/${encodeURIComponent(sessionId)}/attendance`, {}, { format: 'csv' })).blob();
  }

  audit(filter: AuditFilter, cursor?: number): Promise<{ records: AuditRecord[]; nextCursor: number | null }> {
    return this.json('/audit', {}, { format: 'json', limit: 50, ...filter, cursor });
  }

  webhooks(query: { sessionId?: string; state?: DeliveryState; cursor?: number }): Promise<WebhooksPage> {
    return this.json('/webhooks', {}, { limit: 20, ...query });
  }
}

/** Saves a blob as a file through a temporary link (no navigation; the object URL is let go at once). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
