import type { types } from 'mediasoup';

/** A rendered video area in CSS pixels. */
export interface TileSize {
  width: number;
  height: number;
}

/**
 * Heights of a camera's simulcast layers, lowest first, are taken from a 720-line source: the SDK sends
 * three encodings scaled down by 4, 2 and 1 (180, 360 and 720 lines).
 */
const SOURCE_HEIGHT = 720;

/**
 * The lowest spatial layer that fills a tile of this size (device pixels are not known here: a tile asks
 * for its CSS height, and the layer at or above it is chosen). A single-encoding producer has layer 0 only.
 */
export function layerForTile(producer: types.Producer, tile: TileSize): number {
  const encodings = producer.rtpParameters.encodings ?? [];
  if (encodings.length <= 1) return 0;
  // Without scales, each layer is taken as half the next one (what simulcast senders do by default).
  const heights = encodings.map((e, i) => SOURCE_HEIGHT / (e.scaleResolutionDownBy ?? 2 ** (encodings.length - 1 - i)));
  const wanted = Math.max(tile.height, (tile.width * 9) / 16);
  const fit = heights.findIndex((h) => h >= wanted);
  return fit === -1 ? encodings.length - 1 : fit;
}
