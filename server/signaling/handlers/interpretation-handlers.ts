import { ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { Booth } from '../../interpretation/booth.js';
import { applyChannelSelection } from '../../interpretation/channel-selection.js';
import { forbidden, type HandlerSet, type JoinedContext } from './context.js';
import { participantIn } from './targets.js';

export type InterpretationMethod =
  | 'selectChannel'
  | 'boothGoLive'
  | 'boothGoOff'
  | 'boothCough'
  | 'boothHandover'
  | 'boothChat'
  | 'boothSignal'
  | 'publishCaption'
  | 'assignInterpreter';

/** A booth action by one of its interpreters (the booth must be among the caller's grants). */
async function boothAction(ctx: JoinedContext, language: string, action: (booth: Booth, participantId: string) => Promise<void>): Promise<Record<string, never>> {
  if (!ctx.grants.publish.booths.includes(language)) forbidden(`work in the ${language} booth`);
  await ctx.room.interpretation.act(language, (booth) => action(booth, ctx.participant.id));
  return {};
}

/** Listening to a language, the booth console, captions, and (moderators) assigning interpreters. */
export const interpretationHandlers: HandlerSet<InterpretationMethod> = {
  selectChannel: async ({ participant, room }, { channel, floorUnder }) => {
    room.interpretation.requireChannel(channel);
    // A sign channel is watched, not listened to: it is pinned with setView { sign } while the floor plays on.
    if (room.interpretation.isSign(channel)) throw new ProtocolError(ErrorCode.BAD_REQUEST, `${channel} is a sign-language channel: pin it with setView { sign }`);
    const wasUnder = participant.floorUnder;
    participant.selectedChannel = channel;
    if (floorUnder !== undefined) participant.floorUnder = floorUnder;
    await applyChannelSelection(participant.endpoint.consumers.values(), channel);
    // Only a listener who leaves the floor out (or did) receives other voices for a change of channel.
    if (!wasUnder || !participant.floorUnder) room.forwarding.listeningChanged(participant);
    return { channel, live: room.channelLive(channel) };
  },

  boothGoLive: async (ctx, { language }) => boothAction(ctx, language, (booth, id) => booth.goLive(id)),
  boothGoOff: async (ctx, { language }) => boothAction(ctx, language, (booth, id) => booth.goOff(id)),
  boothCough: async (ctx, { language, active }) => boothAction(ctx, language, (booth, id) => booth.cough(id, active)),
  boothHandover: async (ctx, { language, action }) => boothAction(ctx, language, (booth, id) => booth.handoverAction(id, action)),
  boothChat: async ({ participant, room }, { language, text }) => {
    room.interpretation.chat(participant, language, text);
    return {};
  },

  boothSignal: async (ctx, { language, kind }) => {
    if (!ctx.grants.publish.booths.includes(language)) forbidden(`work in the ${language} booth`);
    ctx.room.interpretation.signal(ctx.participant, language, kind);
    return {};
  },

  publishCaption: async ({ participant, room, deps }, { language, text, final }) => {
    room.interpretation.requireChannel(language);
    const at = Date.now();
    room.broadcast('caption', { language, text, final, at });
    if (final && text.trim()) await deps.transcripts.append(room.id, language, { at, by: participant.grants.name, text });
    return {};
  },

  assignInterpreter: async ({ room }, { participantId, language }) => {
    room.interpretation.assign(participantIn(room, participantId), language);
    return {};
  },
};
