import { ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { HandlerSet } from './context.js';
import { participantIn, speakerEntry } from './targets.js';

export type FloorMethod = 'requestFloor' | 'withdrawFloorRequest' | 'giveFloor' | 'takeFloor' | 'addSpeaker' | 'removeSpeaker' | 'moveSpeaker';

/** The speakers list and the floor: delegates ask, moderators order the list and give and take the floor. */
export const floorHandlers: HandlerSet<FloorMethod> = {
  requestFloor: async ({ participant, room }, { kind }) => {
    room.floor.request(speakerEntry(participant, kind));
    return {};
  },
  withdrawFloorRequest: async ({ participant, room }) => {
    room.floor.withdraw(participant.id);
    return {};
  },
  giveFloor: async ({ room }, { participantId }) => {
    room.floor.give(participantId);
    return {};
  },
  takeFloor: async ({ room }) => {
    room.floor.take();
    return {};
  },
  addSpeaker: async ({ room }, { participantId, kind }) => {
    room.floor.request(speakerEntry(participantIn(room, participantId), kind));
    return {};
  },
  removeSpeaker: async ({ room }, { participantId }) => {
    if (!room.floor.withdraw(participantId)) throw new ProtocolError(ErrorCode.NOT_FOUND, `${participantId} is not on the speakers list`);
    return {};
  },
  moveSpeaker: async ({ room }, { participantId, position }) => {
    room.floor.move(participantId, position);
    return {};
  },
};
