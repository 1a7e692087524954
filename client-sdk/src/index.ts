export {
  MeetingClient,
  MeetingClientError,
  type MeetingClientEvents,
  type MeetingClientOptions,
  type RemoteTrack,
  type LocalTrack,
  type InboundStats,
} from './meeting-client.js';
export { ErrorCode, type ErrorBody } from '../../protocol/errors.js';
export type { PeerInfo, ProducerInfo, MediaKind, MediaSource } from '../../protocol/signaling.js';
