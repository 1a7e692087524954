import type { SessionStatus } from '../../accreditation/model.js';
import type { SessionDirectory } from '../../accreditation/session-directory.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { Participant } from '../rooms/participant.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { StaleOwnerError } from '../../store/room-fence.js';
import type { AttendanceLog, Attendee } from './attendance-log.js';
import type { FloorStore } from './floor-store.js';
import type { EdgeListenerCensus } from './listener-census.js';
import type { ConductEventType, WebhookOutbox } from './webhook-outbox.js';

export type LifecycleAction = 'open' | 'suspend' | 'resume' | 'close';

/** scheduled → open → suspended ⇄ open → closed. Closed is final. */
const TRANSITIONS: Record<LifecycleAction, { from: SessionStatus[]; to: SessionStatus }> = {
  open: { from: ['scheduled'], to: 'open' },
  suspend: { from: ['open'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'open' },
  close: { from: ['scheduled', 'open', 'suspended'], to: 'closed' },
};

/**
 * Meeting conduct around the rooms: the session lifecycle and its effect on media, attendance marks,
 * the speakers list's persistence, speaking-time notices, the quorum view and outgoing webhooks.
 */
export class ConductService {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly rooms: RoomRegistry,
    private readonly sessions: SessionDirectory,
    readonly attendance: AttendanceLog,
    private readonly floors: FloorStore,
    private readonly webhooks: WebhookOutbox | undefined,
    private readonly log: Logger,
    /** Counts listeners on edge nodes for the moderators of the rooms served here. */
    private readonly census?: EdgeListenerCensus,
  ) {
    rooms.on('roomcreated', (room) => this.attach(room));
    // Written here or re-read after another node wrote it (StoreChanges): the room here follows either way.
    sessions.on('changed', (rules, previous) => {
      if (previous && rules.status !== previous.status) this.applyStatus(rules.sessionId, rules.status);
    });
  }

  async transition(sessionId: string, action: LifecycleAction): Promise<SessionStatus> {
    const session = this.sessions.get(sessionId);
    if (!session) throw new ProtocolError(ErrorCode.NOT_FOUND, `no session ${sessionId}`);
    const rule = TRANSITIONS[action];
    if (!rule.from.includes(session.status)) {
      throw new ProtocolError(ErrorCode.INVALID_TRANSITION, `a ${session.status} session cannot ${action}`);
    }
    // The room follows through the directory's `changed` (applyStatus), as on every other node.
    await this.sessions.upsert({ ...session, status: rule.to });
    const type = ({ open: 'session.opened', suspended: 'session.suspended', closed: 'session.closed' } as const)[rule.to as 'open' | 'suspended' | 'closed'];
    this.emitWebhook(type, { sessionId, eventId: session.eventId, status: rule.to });
    this.log.info({ sessionId, action, status: rule.to }, 'session lifecycle');
    return rule.to;
  }

  /** A session's new status, applied to its room on this node (if it has it). */
  private applyStatus(sessionId: string, status: SessionStatus): void {
    const room = this.rooms.get(sessionId);
    if (!room || room.closed) return;
    if (status === 'suspended') room.floor.take();
    // Closing ends everyone's media: each is told why, their transports close, the room goes.
    if (status === 'closed') room.close(CloseReason.SESSION_CLOSED);
  }

  /** The speakers list saved for a session whose room is not open on this node. */
  storedFloor(sessionId: string): Promise<{ queue: unknown[]; speaker: unknown } | undefined> {
    return this.floors.load(sessionId);
  }

  /** Waits for attendance writes and webhooks under way (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
    await this.attendance.settled();
    await this.census?.settled();
    await this.webhooks?.drain();
  }

  /** Shutdown: writes under way land, then the webhook loop stops (its pending rows stay for any node). */
  async close(): Promise<void> {
    await this.flush();
    await this.webhooks?.stop();
  }

  private attach(room: Room): void {
    const sessionId = room.id;
    const persistent = this.sessions.get(sessionId) !== undefined;
    /** Participants' open intervals here: the row id once written (undefined if the write was refused). */
    const intervals = new Map<Participant, Promise<number | undefined>>();
    let shutDown = false;
    // The new owner's first write: intervals an earlier owner left open (it crashed) are closed now.
    if (persistent) this.record(() => this.attendance.takeOver(this.attendance.owner(sessionId), sessionId));
    // Only sessions of record have edge listeners in the attendance.
    if (persistent) this.census?.watch(room);
    room.on('participantjoined', (p) => {
      if (persistent) {
        intervals.set(p, this.record(() => this.attendance.open(this.attendance.owner(sessionId), sessionId, this.attendee(p))));
        // After the room's own handler (participantleft), still inside the close: the epoch is read while the room holds its lease.
        p.once('close', (reason) => {
          const opened = intervals.get(p);
          intervals.delete(p);
          if (!opened) return;
          if (room.closed && reason === CloseReason.SERVER_SHUTDOWN) {
            if (shutDown) return;
            shutDown = true;
            const all = [opened, ...intervals.values()];
            this.record((owner = this.attendance.owner(sessionId)) => Promise.all(all).then(() => this.attendance.closeOpen(owner, sessionId, 'shutdown')));
            return;
          }
          this.record((owner = this.attendance.owner(sessionId)) => opened.then((id) => (id === undefined ? undefined : this.attendance.close(owner, id, 'leave'))));
        });
      }
      this.emitWebhook('participant.joined', { sessionId, ...this.who(p) });
      room.quorumChanged();
    });
    room.on('participantleft', (p) => {
      this.emitWebhook('participant.left', { sessionId, ...this.who(p) });
      room.quorumChanged();
    });
    room.floor.on('changed', () => {
      if (persistent) this.record(() => this.floors.save(sessionId, room.floor.snapshot()), 'speakers list not saved');
    });
    room.floor.on('given', (e) => this.emitWebhook('floor.given', { sessionId, participantId: e.id, name: e.name, entity: e.entity }));
    room.floor.on('taken', (e) => this.emitWebhook('floor.taken', { sessionId, participantId: e.id, name: e.name, entity: e.entity }));
    for (const state of ['warning', 'expired'] as const) {
      room.floor.on(state, (e) => {
        const notice = { state, participantId: e.id };
        room.participants.get(e.id)?.notify('speakingTime', notice);
        room.notifyModerators('speakingTime', notice);
      });
    }
  }

  private attendee(p: Participant): Attendee {
    const g = p.grants;
    return { eventId: g.event, personId: p.id, name: g.name, entity: g.entity.name, entityType: g.entity.type, role: g.role };
  }

  private who(p: Participant) {
    return { participantId: p.id, name: p.grants.name, entity: p.grants.entity.name, role: p.grants.role };
  }

  private emitWebhook(type: ConductEventType, data: Record<string, unknown>): void {
    this.webhooks?.send(type, data);
  }

  /**
   * Starts a durable write now (its epoch is read synchronously) and tracks it until it lands. A stale
   * owner's refusal has been reported by OwnerWrites (the room is given up); anything else is logged here.
   */
  private record<T>(write: () => Promise<T>, what = 'attendance not recorded'): Promise<T | undefined> {
    let started: Promise<T>;
    try {
      started = write();
    } catch (error) {
      started = Promise.reject(error);
    }
    const tracked = started.catch((error: unknown) => {
      if (!(error instanceof StaleOwnerError)) this.log.error({ err: error }, what);
      return undefined;
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    return tracked;
  }
}
