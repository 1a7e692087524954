import type { types } from 'mediasoup';
import type { Room } from '../../rooms/room.js';

/**
 * The floor microphones a phone caller hears now, at most `max`, the floor holder's first, then the active
 * speaker's: what the room's audio selection lets through (with selective forwarding), or, forwarding
 * everything, every floor microphone that may be heard. Paused ones send nothing and take no place.
 */
export function floorVoices(room: Room, max: number): types.Producer[] {
  const mics = room.audio.selective
    ? room.audio.audibleMics()
    : [...room.participants.values()]
        .filter((p) => room.mayBeHeardOnFloor(p))
        .flatMap((p) => [...p.endpoint.producers.values()].filter((pr) => pr.kind === 'audio' && pr.appData.channel === 'floor').map((producer) => ({ producer, ownerId: p.id })));
  const first = [room.floor.speakerId, room.activeSpeaker];
  const rank = (ownerId: string): number => {
    const i = first.indexOf(ownerId);
    return i === -1 ? first.length : i;
  };
  return mics
    .filter((m) => !m.producer.closed && !m.producer.paused)
    .sort((a, b) => rank(a.ownerId) - rank(b.ownerId))
    .slice(0, max)
    .map((m) => m.producer);
}
