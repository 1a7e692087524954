import type { Registration } from '../model.js';

export const registrationKey = (eventId: string, personId: string): string => `${eventId}\u0000${personId}`;

/**
 * The embedded registry's registrations in file order, indexed by (event, person) and by e-mail, so a
 * lookup, a sign-in or an e-mail check costs the same with 50 registrations as with 50,000.
 */
export class RegistrationTable {
  private readonly rows: Registration[] = [];
  private readonly positions = new Map<string, number>();
  /** Positions of the registrations with each e-mail, across events. */
  private readonly byEmail = new Map<string, Set<number>>();
  private readonly perEvent = new Map<string, number>();

  constructor(rows: Iterable<Registration> = []) {
    for (const r of rows) this.put(r);
  }

  get size(): number {
    return this.rows.length;
  }

  get(eventId: string, personId: string): Registration | undefined {
    const i = this.positions.get(registrationKey(eventId, personId));
    return i === undefined ? undefined : this.rows[i];
  }

  /** Registrations with this e-mail (already lower-cased), in file order. */
  withEmail(email: string): Registration[] {
    const at = this.byEmail.get(email);
    return at ? [...at].sort((a, b) => a - b).map((i) => this.rows[i]!) : [];
  }

  hasEvent(eventId: string): boolean {
    return (this.perEvent.get(eventId) ?? 0) > 0;
  }

  list(eventId?: string): Registration[] {
    return eventId ? this.rows.filter((r) => r.eventId === eventId) : [...this.rows];
  }

  /** Adds the registration, or replaces the one with the same event and person id in place. */
  put(reg: Registration): void {
    const key = registrationKey(reg.eventId, reg.personId);
    const i = this.positions.get(key);
    if (i === undefined) {
      const at = this.rows.push(reg) - 1;
      this.positions.set(key, at);
      this.perEvent.set(reg.eventId, (this.perEvent.get(reg.eventId) ?? 0) + 1);
      this.indexEmail(reg.email, at);
      return;
    }
    const old = this.rows[i]!;
    this.rows[i] = reg;
    if (old.email === reg.email) return;
    const emails = this.byEmail.get(old.email);
    emails?.delete(i);
    if (emails?.size === 0) this.byEmail.delete(old.email);
    this.indexEmail(reg.email, i);
  }

  private indexEmail(email: string, at: number): void {
    const set = this.byEmail.get(email);
    if (set) set.add(at);
    else this.byEmail.set(email, new Set([at]));
  }
}
