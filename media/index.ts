export { WorkerPool, type WorkerPoolOptions } from './worker-pool.js';
export { MediaWorker, type WorkerLoad } from './media-worker.js';
export { RoomMedia, type RoomMediaCloseReason, type RoomMediaOptions, type RouterSlot } from './room-media.js';
export {
  MediaEndpoint,
  MediaLimitError,
  MediaNotFoundError,
  MediaStateError,
  type EndpointLimits,
  type MediaPlacement,
  type TransportPlacement,
  type TransportDirection,
} from './media-endpoint.js';
export { routerMediaCodecs } from './codecs.js';
export { AudioLevels, type AudioLevel, type AudioLevelsOptions, type ReachRouter } from './audio-levels.js';
export type { MediaLogger } from './logger.js';
