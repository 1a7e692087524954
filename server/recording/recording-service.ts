import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { SessionDirectory } from '../../accreditation/session-directory.js';
import { sessionId as sessionIdFormat } from '../../accreditation/ids.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ClusterBus } from '../cluster/cluster-bus.js';
import type { Coordinator } from '../cluster/coordinator.js';
import type { Logger } from '../logger.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { VoteService } from '../votes/vote-service.js';
import type { GapReason, MarkData } from './recording-model.js';
import { RecordingActiveError, type RecordingStore } from './recording-store.js';
import { SessionRecording, type SessionRecordingSettings } from './session-recording.js';

const PREFIX = 'recording.';
/** `stoppedBy` of a recording that ended with its session (not a person's decision). */
const SESSION_CLOSED = 'session-closed';

/**
 * What makes the recorders look at the recordings row again. A session that records whenever it is open
 * starts a recording when it opens or when that setting is turned on; when its room opens, only if no
 * person stopped the last one since (a stop is the secretariat's decision until the session opens again).
 */
type Trigger = 'session-opened' | 'auto-enabled' | 'room-opened' | 'changed';
const reconcileParams = z.object({ sessionId: sessionIdFormat }).strict();

/**
 * Makes the recorders of the rooms this node owns match the system of record. The desired state is the
 * `recordings` row (started or stopped through the API, on any node, or by the session's `recording.auto`
 * when it opens); the owner of the room records. It continues a recording it finds under way when it takes a
 * room over (after a failover, or when the room opens again here), and finishes its files when the room
 * closes here. Lifecycle changes and votes of a recorded session go into the meeting index.
 */
export class RecordingService {
  private readonly recordings = new Map<string, SessionRecording>();
  /** Per session, one reconciliation at a time, in order. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Why a room last closed here: the gap reason when its recording continues here. */
  private readonly closedBecause = new Map<string, GapReason>();
  private gstChecked: Promise<boolean> | undefined;
  private closed = false;

  constructor(
    private readonly deps: {
      store: RecordingStore;
      rooms: RoomRegistry;
      sessions: SessionDirectory;
      votes?: VoteService;
      coordinator: Coordinator;
      bus: ClusterBus;
      settings: SessionRecordingSettings;
      log: Logger;
    },
  ) {
    deps.rooms.on('roomcreated', (room) => this.watch(room));
    deps.bus.serve((method, params) => this.serveRequest(method, params), PREFIX);
    deps.sessions.on('changed', (rules, previous) => {
      if (!previous || rules.status === previous.status) {
        if (rules.recording.auto && !previous?.recording.auto) this.reconcile(rules.sessionId, 'auto-enabled');
        return;
      }
      void this.markHere(rules.sessionId, { kind: 'session', status: rules.status });
      this.reconcile(rules.sessionId, rules.status === 'open' ? 'session-opened' : 'changed');
    });
    deps.votes?.on('opened', ({ sessionId, vote }) => void this.markHere(sessionId, { kind: 'vote-opened', voteId: vote.voteId, voteKind: vote.definition.kind, question: vote.definition.question }));
    deps.votes?.on('closed', ({ sessionId, vote }) =>
      void this.markHere(sessionId, { kind: 'vote-closed', voteId: vote.voteId, voteKind: vote.definition.kind, question: vote.definition.question, result: vote.result }),
    );
  }

  /** Whether this machine can record (gst-launch-1.0 runs); checked once. */
  available(): Promise<boolean> {
    this.gstChecked ??= promisify(execFile)(this.deps.settings.gstLaunch, ['--version'], { timeout: 10_000 }).then(
      () => true,
      (error: unknown) => {
        this.deps.log.error({ err: (error as Error).message, bin: this.deps.settings.gstLaunch }, 'GStreamer is missing: sessions cannot be recorded (install gstreamer1.0-tools, -plugins-good, -plugins-bad; see PLENUM_GST_LAUNCH)');
        return false;
      },
    );
    return this.gstChecked;
  }

  /**
   * The recording's row changed (started or stopped through the API): the room's owner follows, here or over
   * the bus. Never throws: the row is the truth, and the owner also reads it whenever the room opens.
   */
  async changed(sessionId: string): Promise<void> {
    if (this.servedHere(sessionId)) return this.reconcileNow(sessionId, 'changed');
    try {
      const owner = await this.deps.coordinator.roomOwner(sessionId);
      if (!owner || owner.nodeId === this.deps.bus.nodeId) return;
      await this.deps.bus.request(owner.nodeId, `${PREFIX}reconcile`, { sessionId });
    } catch (error) {
      this.deps.log.warn({ room: sessionId, err: (error as Error).message }, 'recording change not passed to the room owner');
    }
  }

  /** Finishes every file here (node shutdown); the recordings stay under way for whichever node serves the rooms next. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()]);
    await Promise.all([...this.recordings.values()].map((r) => r.finish()));
    this.recordings.clear();
  }

  private watch(room: Room): void {
    room.once('close', (reason) => {
      this.closedBecause.set(room.id, reason === CloseReason.MEDIA_WORKER_DIED ? 'worker-died' : 'room-closed');
      this.enqueue(room.id, () => this.closeRoom(room.id, reason));
    });
    this.reconcile(room.id, 'room-opened');
  }

  reconcile(sessionId: string, trigger: Trigger): void {
    void this.reconcileNow(sessionId, trigger);
  }

  private reconcileNow(sessionId: string, trigger: Trigger): Promise<void> {
    return this.enqueue(sessionId, () => this.apply(sessionId, trigger));
  }

  private enqueue(sessionId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(sessionId) ?? Promise.resolve()).then(work).catch((error: unknown) => {
      this.deps.log.error({ room: sessionId, err: (error as Error).message }, 'recording not reconciled');
    });
    this.queues.set(sessionId, next);
    void next.finally(() => {
      if (this.queues.get(sessionId) === next) this.queues.delete(sessionId);
    });
    return next;
  }

  /** Starts, continues or finishes this node's recorders of a session as its row and its room say. */
  private async apply(sessionId: string, trigger: Trigger): Promise<void> {
    if (this.closed) return;
    const { store, sessions, settings, log } = this.deps;
    const room = this.servedHere(sessionId);
    let active = await store.active(sessionId);
    const rules = sessions.get(sessionId);
    if (!active && rules?.recording.auto && rules.status === 'open' && (await this.mayStartByItself(sessionId, trigger)) && (await this.available())) {
      try {
        active = await store.start({ eventId: rules.eventId, sessionId, startedBy: 'auto', retentionDays: rules.recording.retentionDays });
        log.info({ room: sessionId, recording: active.recordingId }, 'recording started (the session records whenever it is open)');
      } catch (error) {
        if (!(error instanceof RecordingActiveError)) throw error;
        active = await store.active(sessionId);
      }
    }
    const current = this.recordings.get(sessionId);
    if (current && (current.record.recordingId !== active?.recordingId || !room)) {
      this.recordings.delete(sessionId);
      if (room) this.announce(room, { recording: false, since: null });
      await current.finish();
      if (!active || active.recordingId !== current.record.recordingId) await current.mark({ kind: 'recording', action: 'stopped', node: this.deps.bus.nodeId });
    }
    if (!active || !room || this.recordings.has(sessionId)) return;
    if (!(await this.available())) return;
    // Files of this recording already written (here or by another node) are continued.
    const resumed = (await store.files(active.recordingId)).length > 0 ? (this.closedBecause.get(sessionId) ?? 'failover') : null;
    const recording = await SessionRecording.open(active, room, store, settings, log, this.deps.bus.nodeId, resumed);
    if (room.closed || this.closed) {
      await recording.finish();
      return;
    }
    this.recordings.set(sessionId, recording);
    this.announce(room, { recording: true, since: active.startedAt.getTime() });
    log.info({ room: sessionId, recording: active.recordingId, resumed }, resumed ? 'recording continued' : 'recording started');
  }

  /** Whether a session that records whenever open starts a recording now (see Trigger). */
  private async mayStartByItself(sessionId: string, trigger: Trigger): Promise<boolean> {
    if (trigger === 'session-opened' || trigger === 'auto-enabled') return true;
    if (trigger !== 'room-opened') return false;
    const [latest] = await this.deps.store.listForSession(sessionId);
    return !latest || latest.stoppedBy === SESSION_CLOSED;
  }

  /** The room closed here: its files are finished; a session closed for good also ends its recording. */
  private async closeRoom(sessionId: string, reason: CloseReason): Promise<void> {
    const current = this.recordings.get(sessionId);
    this.recordings.delete(sessionId);
    await current?.finish();
    if (reason !== CloseReason.SESSION_CLOSED || !current) return;
    await this.deps.store.stop(current.record.recordingId, SESSION_CLOSED);
    await current.mark({ kind: 'recording', action: 'stopped', node: this.deps.bus.nodeId });
  }

  /** Tells the room (and its edges, and later newcomers) whether it is being recorded. */
  private announce(room: Room, state: { recording: boolean; since: number | null }): void {
    if (room.closed) return;
    room.recording = state;
    room.broadcast('recordingState', state);
  }

  private async markHere(sessionId: string, data: MarkData): Promise<void> {
    const recording = this.recordings.get(sessionId);
    if (!recording) return;
    try {
      await recording.mark(data);
    } catch (error) {
      this.deps.log.warn({ room: sessionId, err: (error as Error).message }, 'meeting index mark not written');
    }
  }

  private async serveRequest(method: string, raw: unknown): Promise<null> {
    if (method !== `${PREFIX}reconcile`) throw new ProtocolError(ErrorCode.UNKNOWN_METHOD, `unknown cluster request ${method.slice(0, 64)}`);
    const parsed = reconcileParams.safeParse(raw);
    if (!parsed.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, `invalid ${method} parameters`);
    await this.reconcileNow(parsed.data.sessionId, 'changed');
    return null;
  }

  /** The origin room on this node, if this node serves it. */
  private servedHere(sessionId: string): Room | undefined {
    const room = this.deps.rooms.get(sessionId);
    return room && !room.closed && !room.isEdge ? room : undefined;
  }
}
