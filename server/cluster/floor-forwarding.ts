import { z } from 'zod';
import { eventId as eventIdFormat, personId as personIdFormat, sessionId as sessionIdFormat } from '../../accreditation/ids.js';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { FloorState } from '../../protocol/signaling.js';
import type { Logger } from '../logger.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { participantIn, speakerEntry } from '../signaling/handlers/targets.js';
import { BusRequestError, type ClusterBus } from './cluster-bus.js';
import { CoordinatorUnavailableError, forClient, type Coordinator } from './coordinator.js';

const PREFIX = 'floor.';
// The event goes along so that the owner checks it again: the bus proves a cluster member, not the check.
const addSpeakerParams = z.object({ eventId: eventIdFormat, sessionId: sessionIdFormat, personId: personIdFormat, kind: z.enum(['speaker', 'point_of_order']) }).strict();
export type AddSpeaker = z.infer<typeof addSpeakerParams>;

/**
 * Floor commands of the secretariat's HTTP API, applied where the speakers list lives: on the node serving
 * the room (its owner). A call reaching another node is forwarded over the signed bus to the owner, and the
 * caller gets the owner's answer; the owner persists the list as for a command over signaling.
 */
export class FloorForwarding {
  constructor(
    private readonly rooms: RoomRegistry,
    private readonly coordinator: Coordinator,
    private readonly bus: ClusterBus,
    private readonly log: Logger,
  ) {
    bus.serve((method, params) => this.serveRequest(method, params), PREFIX);
  }

  /** Puts a person present in the room on its speakers list; the floor as the owner has it afterwards. */
  async addSpeaker(command: AddSpeaker): Promise<FloorState> {
    const room = this.servedHere(command.sessionId);
    if (room) return this.applyAddSpeaker(room, command);
    const owner = await forClient(() => this.coordinator.roomOwner(command.sessionId));
    if (!owner || owner.nodeId === this.bus.nodeId) throw new ProtocolError(ErrorCode.NOT_FOUND, `the room of session ${command.sessionId} is not open`);
    try {
      return await this.bus.request<FloorState>(owner.nodeId, `${PREFIX}addSpeaker`, command);
    } catch (error) {
      throw this.asProtocolError(error, owner.nodeId);
    }
  }

  private async serveRequest(method: string, raw: unknown): Promise<unknown> {
    if (method !== `${PREFIX}addSpeaker`) throw new ProtocolError(ErrorCode.UNKNOWN_METHOD, `unknown cluster request ${method.slice(0, 64)}`);
    const parsed = addSpeakerParams.safeParse(raw);
    if (!parsed.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, `invalid ${method} parameters`);
    const room = this.servedHere(parsed.data.sessionId);
    // The room moved on since the caller looked: it asks again, or tells its client to.
    if (!room) throw new ProtocolError(ErrorCode.ROOM_ELSEWHERE, `this node does not serve room ${parsed.data.sessionId}`);
    return this.applyAddSpeaker(room, parsed.data);
  }

  /** Only someone in the room now, admitted for the event the caller named (a session belongs to one event). */
  private applyAddSpeaker(room: Room, command: AddSpeaker): FloorState {
    const participant = participantIn(room, command.personId);
    if (participant.grants.event !== command.eventId) throw new ProtocolError(ErrorCode.NOT_FOUND, `no participant ${command.personId}`);
    room.floor.request(speakerEntry(participant, command.kind));
    this.log.info({ room: room.id, personId: command.personId, kind: command.kind }, 'speaker added');
    return room.floor.state();
  }

  /** The origin room on this node, if this node serves it. */
  private servedHere(sessionId: string): Room | undefined {
    const room = this.rooms.get(sessionId);
    return room && !room.closed && !room.isEdge ? room : undefined;
  }

  /** The owner's refusal keeps its code when it is one of ours; a silent owner is UNAVAILABLE (retryable). */
  private asProtocolError(error: unknown, owner: string): Error {
    if (error instanceof BusRequestError) {
      // The room moved on since this node looked: for an HTTP caller, a retry finds the new owner.
      if (error.code === ErrorCode.ROOM_ELSEWHERE) return new ProtocolError(ErrorCode.UNAVAILABLE, 'the room is moving to another node; try again shortly');
      const code = (Object.values(ErrorCode) as string[]).includes(error.code) ? (error.code as ErrorCode) : ErrorCode.INTERNAL;
      return new ProtocolError(code, code === ErrorCode.INTERNAL ? 'the node serving the room failed' : error.message);
    }
    if (error instanceof CoordinatorUnavailableError) {
      this.log.warn({ owner, err: error.message }, 'owner did not answer a forwarded floor command');
      return new ProtocolError(ErrorCode.UNAVAILABLE, 'the node serving the room did not answer; try again shortly');
    }
    return error as Error;
  }
}
