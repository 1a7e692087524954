import { z } from 'zod';
import { sessionId as sessionIdFormat } from '../../accreditation/ids.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ClusterBus } from '../cluster/cluster-bus.js';
import type { Coordinator } from '../cluster/coordinator.js';
import type { Logger } from '../logger.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { documentId as documentIdFormat } from './document-model.js';
import type { SessionRef } from './document-repository.js';

const PREFIX = 'documents.';
const focusParams = z.object({ sessionId: sessionIdFormat, documentId: documentIdFormat.nullable(), at: z.number().int().nonnegative() }).strict();

/**
 * Tells a session's room that the document in focus changed (`documentFocus`), once the focus is stored.
 * Only the id goes out: each client reads the listing again with its own token, so a document outside
 * someone's audience is never named to them. The room is told where it lives: on this node, or, when the
 * HTTP request reached another node of a cluster, on its owner over the signed bus (as the floor commands
 * are forwarded); the owner's broadcast reaches edge nodes' listeners through the room's relay.
 * Announcing never fails the request: the focus is stored, and every listing reports it.
 */
export class DocumentFocusAnnouncer {
  constructor(
    private readonly rooms: RoomRegistry,
    private readonly coordinator: Coordinator,
    private readonly bus: ClusterBus,
    private readonly log: Logger,
  ) {
    bus.serve((method, params) => this.serveRequest(method, params), PREFIX);
  }

  /** Broadcasts the new focus in the session's room, wherever it is served; a room not open is nobody to tell. */
  async focusChanged(ref: SessionRef, documentId: string | null): Promise<void> {
    const notice = { sessionId: ref.sessionId, documentId, at: Date.now() };
    const room = this.servedHere(ref.sessionId);
    if (room) return this.broadcast(room, notice);
    try {
      const owner = await this.coordinator.roomOwner(ref.sessionId);
      if (!owner || owner.nodeId === this.bus.nodeId) return;
      await this.bus.request(owner.nodeId, `${PREFIX}focus`, notice);
    } catch (error) {
      // Those present see the new focus on their next listing; nothing else is lost.
      this.log.warn({ room: ref.sessionId, err: (error as Error).message }, 'document focus not announced to the room');
    }
  }

  private async serveRequest(method: string, raw: unknown): Promise<null> {
    if (method !== `${PREFIX}focus`) throw new ProtocolError(ErrorCode.UNKNOWN_METHOD, `unknown cluster request ${method.slice(0, 64)}`);
    const parsed = focusParams.safeParse(raw);
    if (!parsed.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, `invalid ${method} parameters`);
    const room = this.servedHere(parsed.data.sessionId);
    if (!room) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, `this node does not serve room ${parsed.data.sessionId}`);
    this.broadcast(room, parsed.data);
    return null;
  }

  private broadcast(room: Room, notice: z.infer<typeof focusParams>): void {
    room.broadcast('documentFocus', { documentId: notice.documentId, at: notice.at });
    this.log.info({ room: room.id, documentId: notice.documentId }, 'document focus announced');
  }

  /** The origin room on this node, if this node serves it. */
  private servedHere(sessionId: string): Room | undefined {
    const room = this.rooms.get(sessionId);
    return room && !room.closed && !room.isEdge ? room : undefined;
  }
}
