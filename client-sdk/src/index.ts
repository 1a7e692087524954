export {
  MeetingClient,
  MeetingClientError,
  type MeetingClientEvents,
  type MeetingClientOptions,
  type RemoteTrack,
  type LocalTrack,
  type InboundStats,
  type OutboundStats,
  type LocalMedia,
  type LocalMediaState,
  type SwitchableSource,
  type ConnectionState,
  type ConnectionView,
  type DeviceList,
  type OpenVoteOptions,
  type SignVideo,
} from './meeting-client.js';
export type { IceRestartOptions } from './ice-restarter.js';
export { OPUS_CODEC_OPTIONS, type AudioOnlyState, type VideoFallbackState } from './audio-only.js';
export { Gallery, type GalleryPage, type GalleryEvents } from './gallery.js';
export { signIn, listSessions, requestJoin, type JoinAnswer, type SessionSummary, type OwnAccreditation } from './accreditation-api.js';
export * from './documents-api.js';
export { ErrorCode, type ErrorBody } from '../../protocol/errors.js';
export type {
  PeerInfo,
  RosterEntry,
  EntityInfo,
  ProducerInfo,
  MediaKind,
  MediaSource,
  ChannelInfo,
  SignChannelInfo,
  BoothState,
  BoothSignalKind,
  FloorState,
  SpeakerEntry,
  QuorumView,
  ListenerCensus,
  Ballot,
  EntityVote,
  VoteKind,
  VotePosition,
  VoteResult,
  VoteState,
  VoteView,
} from '../../protocol/signaling.js';
