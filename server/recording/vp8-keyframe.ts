// Whether an RTP packet of VP8 (RFC 7741) starts a keyframe: a video file can only begin on one.

/** True if the payload is the first packet of a VP8 keyframe. */
export function startsVp8Keyframe(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const first = payload[0]!;
  const start = (first & 0x10) !== 0;
  const partition = first & 0x07;
  if (!start || partition !== 0) return false;
  let offset = 1;
  if (first & 0x80) {
    if (payload.length < 2) return false;
    const ext = payload[1]!;
    offset = 2;
    if (ext & 0x80) {
      if (payload.length <= offset) return false;
      offset += payload[offset]! & 0x80 ? 2 : 1; // picture id: 7 or 15 bits
    }
    if (ext & 0x40) offset += 1; // TL0PICIDX
    if (ext & 0x30) offset += 1; // TID / KEYIDX
  }
  // The VP8 payload header's P bit: 0 for a keyframe.
  return payload.length > offset && (payload[offset]! & 0x01) === 0;
}
