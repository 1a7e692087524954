import type { AuditDecision } from '../../../accreditation/audit-log.js';
import { CloseReason, ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { JoinGrants } from '../../auth/join-token.js';
import type { HandlerSet, JoinedContext } from './context.js';
import { participantIn } from './targets.js';

export type ModerationMethod =
  | 'muteParticipant'
  | 'askToUnmute'
  | 'stopVideo'
  | 'allowVideo'
  | 'getRoster'
  | 'admitFromLobby'
  | 'denyFromLobby'
  | 'removeParticipant';

function audit({ grants, deps, log }: JoinedContext, decision: AuditDecision, target: JoinGrants, reasons: string[]): void {
  deps.audit
    .append({
      eventId: grants.event,
      sessionId: grants.room,
      personId: target.person,
      name: target.name,
      role: target.role,
      entity: target.entity.name,
      decision,
      reasons,
      source: 'secretariat',
      actor: grants.person,
    })
    .catch((error: unknown) => log.error({ err: error }, 'audit append failed'));
}

function waiterIn(ctx: JoinedContext, participantId: string) {
  const waiter = ctx.room.lobby.get(participantId);
  if (!waiter) throw new ProtocolError(ErrorCode.NOT_FOUND, `nobody with id ${participantId} waits in the lobby`);
  return waiter;
}

/**
 * The secretariat's hold on people (the gate requires `moderate` and a joined connection). A mute and a
 * stopped video are enforced by the room, on any floor: the participant cannot switch them back on until
 * a moderator asks them to unmute, or allows video again.
 */
export const moderationHandlers: HandlerSet<ModerationMethod> = {
  muteParticipant: async ({ room }, { participantId }) => {
    const target = participantIn(room, participantId);
    room.setBlock(target.id, 'mic', true);
    if (room.floor.speakerId === participantId) room.floor.take();
    await room.setFloorAudio(participantId, false);
    target.notify('moderated', { action: 'muted' });
    return {};
  },

  askToUnmute: async ({ room }, { participantId }) => {
    const target = participantIn(room, participantId);
    // The request is the permission: the participant may now resume their microphone (it stays their choice).
    room.setBlock(target.id, 'mic', false);
    target.notify('unmuteRequested', {});
    return {};
  },

  stopVideo: async ({ room }, { participantId }) => {
    const target = participantIn(room, participantId);
    room.setBlock(target.id, 'video', true);
    for (const producer of [...target.endpoint.producers.values()]) if (producer.kind === 'video') producer.close();
    target.notify('moderated', { action: 'video-stopped' });
    return {};
  },

  allowVideo: async ({ room }, { participantId }) => {
    const target = participantIn(room, participantId);
    room.setBlock(target.id, 'video', false);
    target.notify('videoAllowed', {});
    return {};
  },

  // One page of the roster (its order and filters), with each participant's accreditation and connection quality.
  getRoster: async ({ room }, { cursor, limit, search, role, entity, accreditation }) => {
    const accredited = (peer: { id: string }) => {
      const a = room.participants.get(peer.id)?.grants.accreditation;
      return a !== undefined && (a.source === accreditation || a.status === accreditation);
    };
    const page = room.peersPage({ cursor, limit, search, role, entity, ...(accreditation ? { where: accredited } : {}) });
    const participants = page.peers.flatMap((peer) => room.participants.get(peer.id)?.rosterEntry ?? []);
    return { participants, nextCursor: page.nextCursor, total: page.total, lobby: [...room.lobby.values()].map((w) => w.entry), quorum: room.quorum() };
  },

  admitFromLobby: async (ctx, { participantId }) => {
    const waiter = waiterIn(ctx, participantId);
    // Admitting someone removed earlier is the secretariat taking them back: their removal ends.
    await ctx.deps.removals.clear(ctx.room.id, waiter.grants.person);
    waiter.admit();
    audit(ctx, 'lobby-admit', waiter.grants, ['ADMITTED_BY_SECRETARIAT']);
    return {};
  },

  denyFromLobby: async (ctx, { participantId, reason }) => {
    const waiter = waiterIn(ctx, participantId);
    waiter.remove(CloseReason.LOBBY_DENIED, reason ?? 'The secretariat did not admit you to this session.');
    audit(ctx, 'lobby-deny', waiter.grants, ['DENIED_BY_SECRETARIAT']);
    return {};
  },

  removeParticipant: async (ctx, { participantId, reason }) => {
    const { room } = ctx;
    const target = participantIn(room, participantId);
    // Recorded cluster-wide before they go, so their resume token cannot bring them back on any node.
    await ctx.deps.removals.record(room.id, target.grants.person);
    room.remove(target, CloseReason.REMOVED_BY_SECRETARIAT, reason ?? 'The secretariat removed you from this session.');
    audit(ctx, 'remove', target.grants, ['REMOVED_BY_SECRETARIAT']);
    return {};
  },
};
