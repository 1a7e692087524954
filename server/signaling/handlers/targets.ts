import { ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { Participant } from '../../rooms/participant.js';
import type { Room } from '../../rooms/room.js';

/** A participant of the caller's own room: ids of other rooms are not found. */
export function participantIn(room: Room, participantId: string): Participant {
  const target = room.participants.get(participantId);
  if (!target) throw new ProtocolError(ErrorCode.NOT_FOUND, `no participant ${participantId}`);
  return target;
}

export function speakerEntry(p: Participant, kind: 'speaker' | 'point_of_order') {
  return { id: p.id, name: p.grants.name, entity: p.grants.entity.name, kind };
}
