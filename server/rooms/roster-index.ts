import { z } from 'zod';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { PeerInfo } from '../../protocol/signaling.js';

/** The roster's first page in a join answer. */
export const FIRST_PAGE_SIZE = 50;

export interface RosterQuery {
  cursor?: string;
  limit: number;
  /** Case-insensitive substring of the name or the entity's name. */
  search?: string;
  role?: string;
  /** The entity's name, case-insensitive. */
  entity?: string;
  /** Left out of the page (a joiner's own entry); still counted in `total`. */
  except?: string;
  /** A further condition the room knows and the index does not (the secretariat's accreditation filter). */
  where?: (peer: PeerInfo) => boolean;
}

export interface RosterPage {
  peers: PeerInfo[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
  /** Peers matching the query, on every page. */
  total: number;
}

interface Entry {
  peer: PeerInfo;
  /** 0: holds the floor; 1: conducts the session; 2: everyone else. */
  rank: number;
  name: string;
  entity: string;
}

type Key = [number, string, string];

const cursorSchema = z.tuple([z.number().int().min(0).max(2), z.string().max(1024), z.string().min(1).max(128)]);

/**
 * A room's roster in one stable order (the floor holder, then those conducting, then everyone by name),
 * sorted once per change, not per request, and paged by an opaque cursor (the last entry's sort key), so a
 * page follows the previous one without duplicates while people join and leave.
 */
export class RosterIndex {
  private sorted: Entry[] | undefined;

  constructor(private readonly source: () => { peers: Iterable<PeerInfo>; speakerId: string | null }) {}

  /** The roster changed (a join, a leave, the floor, a grant): sorted again on the next request. */
  invalidate(): void {
    this.sorted = undefined;
  }

  get size(): number {
    return this.entries().length;
  }

  page(query: RosterQuery): RosterPage {
    const entries = this.entries();
    const search = query.search?.toLowerCase();
    const entity = query.entity?.toLowerCase();
    const { where } = query;
    const filtered = search !== undefined || query.role !== undefined || entity !== undefined || where !== undefined;
    const matches = (e: Entry): boolean =>
      (search === undefined || e.name.includes(search) || e.entity.includes(search)) &&
      (query.role === undefined || e.peer.role === query.role) &&
      (entity === undefined || e.entity === entity) &&
      (where === undefined || where(e.peer));
    let start = 0;
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      start = firstAfter(entries, after);
    }
    const peers: PeerInfo[] = [];
    let last: Entry | undefined;
    let more = false;
    for (let i = start; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.peer.id === query.except || !matches(e)) continue;
      if (peers.length === query.limit) {
        more = true;
        break;
      }
      peers.push(e.peer);
      last = e;
    }
    const total = filtered ? entries.reduce((n, e) => n + (matches(e) ? 1 : 0), 0) : entries.length;
    return { peers, nextCursor: more && last ? encodeCursor(keyOf(last)) : null, total };
  }

  private entries(): Entry[] {
    if (!this.sorted) {
      const { peers, speakerId } = this.source();
      const entries: Entry[] = [];
      for (const peer of peers) {
        entries.push({ peer, rank: peer.id === speakerId ? 0 : peer.conducting ? 1 : 2, name: peer.name.toLowerCase(), entity: peer.entity.name.toLowerCase() });
      }
      this.sorted = entries.sort((a, b) => compare(keyOf(a), keyOf(b)));
    }
    return this.sorted;
  }
}

function keyOf(e: Entry): Key {
  return [e.rank, e.name, e.peer.id];
}

/** Code-unit order, not the locale's: the same on every node and for every cursor. */
function compare(a: Key, b: Key): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  if (a[2] !== b[2]) return a[2] < b[2] ? -1 : 1;
  return 0;
}

/** The index of the first entry sorted after `key` (binary search). */
function firstAfter(entries: Entry[], key: Key): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(keyOf(entries[mid]!), key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const key = cursorSchema.safeParse(parsed);
  if (!key.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, 'invalid cursor: pass the nextCursor of an earlier page');
  return key.data;
}
