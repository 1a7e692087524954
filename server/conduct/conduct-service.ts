import type { SessionStatus } from '../../accreditation/model.js';
import type { SessionDirectory } from '../../accreditation/session-directory.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { Participant } from '../rooms/participant.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { AttendanceLog } from './attendance-log.js';
import type { FloorStore } from './floor-store.js';
import type { ConductEventType, WebhookSender } from './webhook-sender.js';

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
    private readonly webhooks: WebhookSender | undefined,
    private readonly log: Logger,
  ) {
    rooms.on('roomcreated', (room) => this.attach(room));
  }

  async transition(sessionId: string, action: LifecycleAction): Promise<SessionStatus> {
    const session = this.sessions.get(sessionId);
    if (!session) throw new ProtocolError(ErrorCode.NOT_FOUND, `no session ${sessionId}`);
    const rule = TRANSITIONS[action];
    if (!rule.from.includes(session.status)) {
      throw new ProtocolError(ErrorCode.INVALID_TRANSITION, `a ${session.status} session cannot ${action}`);
    }
    this.sessions.upsert({ ...session, status: rule.to });
    const room = this.rooms.get(sessionId);
    if (rule.to === 'suspended') room?.floor.take();
    if (rule.to === 'closed' && room) {
      // Closing ends everyone's media: each is told why, their transports close, the room goes.
      room.close(CloseReason.SESSION_CLOSED);
    }
    const type = ({ open: 'session.opened', suspended: 'session.suspended', closed: 'session.closed' } as const)[rule.to as 'open' | 'suspended' | 'closed'];
    this.emitWebhook(type, { sessionId, eventId: session.eventId, status: rule.to });
    this.log.info({ sessionId, action, status: rule.to }, 'session lifecycle');
    return rule.to;
  }

  /** The speakers list saved for a session whose room is not open on this node. */
  storedFloor(sessionId: string): Promise<{ queue: unknown[]; speaker: unknown } | undefined> {
    return this.floors.load(sessionId);
  }

  /** Waits for attendance writes and webhooks under way (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
    await this.webhooks?.drain();
  }

  private attach(room: Room): void {
    const sessionId = room.id;
    const persistent = this.sessions.get(sessionId) !== undefined;
    room.on('participantjoined', (p) => {
      if (persistent) this.track(this.attendance.mark(sessionId, this.mark('join', p)));
      this.emitWebhook('participant.joined', { sessionId, ...this.who(p) });
      room.notifyModerators('quorum', room.quorum());
    });
    room.on('participantleft', (p) => {
      if (persistent) this.track(this.attendance.mark(sessionId, this.mark('leave', p)));
      this.emitWebhook('participant.left', { sessionId, ...this.who(p) });
      room.notifyModerators('quorum', room.quorum());
    });
    room.floor.on('changed', () => {
      if (persistent) this.track(this.floors.save(sessionId, room.floor.snapshot()), 'speakers list not saved');
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

  private mark(kind: 'join' | 'leave', p: Participant) {
    const g = p.grants;
    return { at: Date.now(), kind, personId: p.id, name: g.name, entity: g.entity.name, entityType: g.entity.type, role: g.role };
  }

  private who(p: Participant) {
    return { participantId: p.id, name: p.grants.name, entity: p.grants.entity.name, role: p.grants.role };
  }

  private emitWebhook(type: ConductEventType, data: Record<string, unknown>): void {
    this.webhooks?.send(type, data);
  }

  private track(p: Promise<unknown>, what = 'attendance write failed'): void {
    const tracked = p.catch((error: unknown) => this.log.error({ err: error, sessionId: undefined }, what)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}
