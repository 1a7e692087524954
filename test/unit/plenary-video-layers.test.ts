import type { types } from 'mediasoup';
import { describe, expect, it } from 'vitest';
import { layerForTile } from '../../server/rooms/video-layers.js';

// layerForTile reads only the producer's declared encodings: a producer is described by them here.
const camera = (encodings: types.RtpEncodingParameters[]): types.Producer => ({ kind: 'video', rtpParameters: { codecs: [], encodings } }) as unknown as types.Producer;
const tile = (width: number, height: number) => ({ width, height });

describe('layerForTile: the lowest simulcast layer that fills a tile', () => {
  it('three encodings scaled down by 4, 2 and 1 (180, 360 and 720 lines)', () => {
    const cam = camera([{ ssrc: 1, scaleResolutionDownBy: 4 }, { ssrc: 2, scaleResolutionDownBy: 2 }, { ssrc: 3, scaleResolutionDownBy: 1 }]);
    expect(layerForTile(cam, tile(160, 90))).toBe(0);
    expect(layerForTile(cam, tile(320, 180))).toBe(0); // exactly the low layer's height
    expect(layerForTile(cam, tile(336, 189))).toBe(1); // one step above it
    expect(layerForTile(cam, tile(640, 360))).toBe(1);
    expect(layerForTile(cam, tile(641, 361))).toBe(2);
    expect(layerForTile(cam, tile(1280, 720))).toBe(2);
    // Larger than the source: the highest layer there is.
    expect(layerForTile(cam, tile(3840, 2160))).toBe(2);
    // A wide, flat tile asks for the height its width needs at 16:9; a tall one for its height.
    expect(layerForTile(cam, tile(1280, 100))).toBe(2);
    expect(layerForTile(cam, tile(100, 400))).toBe(2);
    // A hidden (zero-sized) tile still gets the lowest layer, not nothing.
    expect(layerForTile(cam, tile(0, 0))).toBe(0);
  });

  it('other scales: the layers are placed by their own heights (720/8 = 90, 720/4 = 180, 720)', () => {
    const cam = camera([{ rid: 'q', scaleResolutionDownBy: 8 }, { rid: 'h', scaleResolutionDownBy: 4 }, { rid: 'f', scaleResolutionDownBy: 1 }]);
    expect(layerForTile(cam, tile(160, 90))).toBe(0);
    expect(layerForTile(cam, tile(320, 180))).toBe(1);
    expect(layerForTile(cam, tile(640, 360))).toBe(2);
  });

  it('without scaleResolutionDownBy, each layer is half the next (what simulcast senders do by default)', () => {
    const three = camera([{ rid: 'r0' }, { rid: 'r1' }, { rid: 'r2' }]);
    expect(layerForTile(three, tile(160, 90))).toBe(0);
    expect(layerForTile(three, tile(640, 360))).toBe(1);
    expect(layerForTile(three, tile(1280, 720))).toBe(2);
    // Two encodings: 360 and 720 lines.
    const two = camera([{ rid: 'r0' }, { rid: 'r1' }]);
    expect(layerForTile(two, tile(160, 90))).toBe(0);
    expect(layerForTile(two, tile(640, 360))).toBe(0);
    expect(layerForTile(two, tile(1280, 720))).toBe(1);
  });

  it('a single encoding (or none declared) has layer 0 only, whatever the tile', () => {
    for (const cam of [camera([{ ssrc: 1 }]), camera([{ ssrc: 1, scaleResolutionDownBy: 1 }]), camera([])]) {
      expect(layerForTile(cam, tile(160, 90))).toBe(0);
      expect(layerForTile(cam, tile(1920, 1080))).toBe(0);
    }
  });
});
