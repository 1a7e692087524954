// The session being conducted, live: the console joins the room with the chair's or secretariat's grants
// (moderate) and keeps the roster, the lobby, the speakers list, the booths and the quorum from the SDK's
// events. The roster is paged with getRoster's cursor and filtered on the server; nothing is polled.
import { create } from 'zustand';
import { requestJoin } from '../../../../client-sdk/src/accreditation-api';
import { MeetingClient } from '../../../../client-sdk/src/meeting-client';
import { wireConsoleRecording } from './recording-store';
import { wireConsoleVotes } from './votes-store';
import type { ChannelInfo, FloorState, PeerInfo, QuorumView, RosterEntry, ServerEvents } from '../../../../protocol/signaling';

export type BoothSignal = ServerEvents['boothSignal'];

export type RosterStatus = 'room' | 'lobby' | 'all';
export interface RosterFilters {
  search: string;
  role: string;
  entity: string;
  status: RosterStatus;
  /** How accreditation was confirmed (live, cache, grace): '' for any. */
  accreditation: string;
}

/** A roster row: someone in the room (their accreditation once a roster page told it) or waiting in the lobby. */
export interface RosterRow {
  where: 'room' | 'lobby';
  person: PeerInfo & Partial<Pick<RosterEntry, 'accreditation' | 'quality'>>;
}

export type ModerationAction = 'mute' | 'askToUnmute' | 'stopVideo' | 'allowVideo' | 'remove' | 'addSpeaker' | 'removeSpeaker' | 'moveSpeaker' | 'giveFloor' | 'takeFloor' | 'admit' | 'deny' | 'assign';

interface RoomState {
  sessionId?: string;
  status: 'idle' | 'connecting' | 'connected' | 'closed';
  closedReason?: string;
  selfId?: string;
  floor: FloorState;
  lobby: RosterEntry[];
  quorum?: QuorumView;
  channels: ChannelInfo[];
  roster: RosterEntry[];
  rosterTotal: number;
  nextCursor: string | null;
  loadingMore: boolean;
  filters: RosterFilters;
  interpreters: RosterEntry[];
  speakingTime?: { state: 'warning' | 'expired'; participantId: string };
  /** The booths' latest requests to the speaker (slow down, repeat), newest first. */
  boothSignals: BoothSignal[];
  /** Whose video this console stopped (the server tells nobody else): they get Allow video instead. */
  videoStopped: string[];
  error?: unknown;
  /** The last moderation done, for the live region. */
  done?: { action: ModerationAction; name: string; at: number };
  connect(identityToken: string, sessionId: string): Promise<void>;
  disconnect(): Promise<void>;
  setFilters(filters: Partial<RosterFilters>): void;
  loadMore(): Promise<void>;
  act(action: ModerationAction, person: { id: string; name: string }, run: (client: MeetingClient) => Promise<void>): Promise<boolean>;
  clearError(): void;
}

const EMPTY_FLOOR: FloorState = { controlled: false, speaker: null, queue: [] };
const PAGE = 100;
/** Up to this many rows loaded, a batch of joins and leaves reloads the first page; beyond, it is applied in place. */
const RELOAD_UP_TO = PAGE;

let client: MeetingClient | undefined;
let generation = 0;
/** Counts connect() calls: only the latest one's client and outcome count. */
let connectAttempts = 0;
let reloadTimer: ReturnType<typeof setTimeout> | undefined;

/** Whether someone matches the filters as the server applies them (for joins applied in place). */
export function matches(p: PeerInfo, f: RosterFilters): boolean {
  const search = f.search.trim().toLowerCase();
  if (search && !p.name.toLowerCase().includes(search) && !p.entity.name.toLowerCase().includes(search)) return false;
  if (f.role && p.role !== f.role) return false;
  if (f.accreditation) {
    const a = (p as Partial<Pick<RosterEntry, 'accreditation'>>).accreditation;
    if (!a || (a.source !== f.accreditation && a.status !== f.accreditation)) return false;
  }
  return !f.entity || p.entity.name.toLowerCase() === f.entity.toLowerCase();
}

/** The rows the roster shows for a status filter: the lobby (filtered here), the room (filtered by the server), or both. */
export function rosterRows(s: Pick<RoomState, 'lobby' | 'roster' | 'filters'>): RosterRow[] {
  const lobby = s.filters.status === 'room' ? [] : s.lobby.filter((p) => matches(p, s.filters)).map((person) => ({ where: 'lobby' as const, person }));
  const room = s.filters.status === 'lobby' ? [] : s.roster.map((person) => ({ where: 'room' as const, person }));
  return [...lobby, ...room];
}

export const useRoomStore = create<RoomState>((set, get) => {
  const query = (cursor?: string | null) => {
    const f = get().filters;
    return { limit: PAGE, ...(f.search.trim() ? { search: f.search.trim() } : {}), ...(f.role ? { role: f.role } : {}), ...(f.entity ? { entity: f.entity } : {}), ...(f.accreditation ? { accreditation: f.accreditation } : {}), ...(cursor ? { cursor } : {}) };
  };

  /** The first page for the current filters; answers to an older query are dropped. */
  const reload = async () => {
    const c = client;
    if (!c) return;
    const mine = ++generation;
    try {
      const [page, interpreters] = await Promise.all([c.request('getRoster', query()), c.request('getRoster', { limit: PAGE, role: 'interpreter' })]);
      if (mine !== generation || c !== client) return;
      set({ roster: page.participants, nextCursor: page.nextCursor, rosterTotal: page.total, lobby: page.lobby, quorum: page.quorum, interpreters: interpreters.participants });
    } catch (error) {
      if (c === client) set({ error });
    }
  };
  const reloadSoon = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void reload(), 400);
  };

  return {
    status: 'idle',
    floor: EMPTY_FLOOR,
    lobby: [],
    channels: [],
    roster: [],
    rosterTotal: 0,
    nextCursor: null,
    loadingMore: false,
    filters: { search: '', role: '', entity: '', status: 'all', accreditation: '' },
    interpreters: [],
    boothSignals: [],
    videoStopped: [],

    async connect(identityToken, sessionId) {
      const attempt = ++connectAttempts;
      await get().disconnect();
      set({ sessionId, status: 'connecting', error: undefined, closedReason: undefined, roster: [], lobby: [], floor: EMPTY_FLOOR, channels: [], quorum: undefined, nextCursor: null, rosterTotal: 0, boothSignals: [], videoStopped: [] });
      try {
        const answer = await requestJoin('', identityToken, sessionId);
        if (attempt !== connectAttempts) return;
        if (!answer.grants.moderate) throw Object.assign(new Error('not a moderator'), { code: 'FORBIDDEN' });
        const c = new MeetingClient({ token: answer.joinToken });
        client = c;
        wireConsoleVotes(c);
        wireConsoleRecording(c, sessionId);
        const alive = () => c === client;
        c.on('floorState', (floor) => alive() && set({ floor }));
        c.on('lobbyChanged', ({ waiting }) => alive() && set({ lobby: waiting }));
        c.on('quorum', (quorum) => alive() && set({ quorum }));
        c.on('channelsChanged', ({ channels }) => alive() && set({ channels }));
        c.on('speakingTime', (notice) => alive() && set({ speakingTime: notice }));
        c.on('boothSignal', (signal) => alive() && set((s) => ({ boothSignals: [signal, ...s.boothSignals].slice(0, 5) })));
        c.on('peersChanged', ({ joined, left }) => {
          if (!alive()) return;
          const s = get();
          // Joins carry no accreditation: under that filter the server says who matches.
          if (s.roster.length <= RELOAD_UP_TO || s.filters.accreditation) return reloadSoon();
          // A long list is patched in place: who left goes; who joined is added when the list is loaded to its end.
          const gone = new Set(left.map((p) => p.id));
          const added = s.nextCursor === null ? joined.filter((p) => matches(p, s.filters) && !s.roster.some((r) => r.id === p.id)) : [];
          const kept = s.roster.filter((p) => !gone.has(p.id));
          set({ roster: [...kept, ...(added as RosterEntry[])], rosterTotal: Math.max(0, s.rosterTotal - (s.roster.length - kept.length) + added.length) });
        });
        c.on('closed', ({ reason }) => alive() && set({ status: 'closed', closedReason: reason }));
        const self = await c.join();
        if (!alive()) return;
        // The console shows no video: no stage, no gallery (it hears the floor).
        await c.setView({ stage: null, tiles: [] });
        set({ status: 'connected', selfId: self.id, floor: c.floor, channels: c.channels });
        await reload();
      } catch (error) {
        // A newer connect() (a second call close by, a session switch) decides the state, not this one.
        if (attempt === connectAttempts) set({ status: 'idle', error });
      }
    },

    async disconnect() {
      const c = client;
      client = undefined;
      clearTimeout(reloadTimer);
      if (c) await c.leave().catch(() => undefined);
      set({ status: 'idle', sessionId: undefined });
    },

    setFilters(filters) {
      set((s) => ({ filters: { ...s.filters, ...filters } }));
      // The lobby filter is applied here; the others go to the server.
      if (Object.keys(filters).some((k) => k !== 'status')) void reload();
    },

    async loadMore() {
      const s = get();
      const c = client;
      if (!c || !s.nextCursor || s.loadingMore || s.filters.status === 'lobby') return;
      set({ loadingMore: true });
      const mine = generation;
      try {
        const page = await c.request('getRoster', query(s.nextCursor));
        if (mine !== generation || c !== client) return;
        const known = new Set(get().roster.map((p) => p.id));
        set({ roster: [...get().roster, ...page.participants.filter((p) => !known.has(p.id))], nextCursor: page.nextCursor, rosterTotal: page.total });
      } catch (error) {
        set({ error });
      } finally {
        set({ loadingMore: false });
      }
    },

    async act(action, person, run) {
      const c = client;
      if (!c) return false;
      set({ error: undefined });
      try {
        await run(c);
        set((s) => ({
          done: { action, name: person.name, at: Date.now() },
          videoStopped: action === 'stopVideo' ? [...s.videoStopped, person.id] : action === 'allowVideo' ? s.videoStopped.filter((id) => id !== person.id) : s.videoStopped,
        }));
        if (action === 'remove' || action === 'admit' || action === 'deny' || action === 'assign') reloadSoon();
        return true;
      } catch (error) {
        set({ error });
        return false;
      }
    },

    clearError() {
      set({ error: undefined });
    },
  };
});
