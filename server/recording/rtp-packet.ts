// Just enough of RTP (RFC 3550) for the recorders: read a packet's header, and write a new one for the
// continuous stream a recorder is fed.

export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Where the payload starts (after CSRCs and header extensions) and ends (before padding). */
  payloadOffset: number;
  payloadEnd: number;
}

/** RTCP shares the port with RTP (rtcp-mux): its packet types 192-223 sit in RTP's second byte (RFC 5761). */
export function isRtcp(packet: Buffer): boolean {
  return packet.length >= 8 && packet[1]! >= 192 && packet[1]! <= 223;
}

/** The header of an RTP packet, or undefined when the bytes are not one. */
export function readRtpHeader(packet: Buffer): RtpHeader | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const csrcCount = packet[0]! & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[packet.length - 1]!;
  if (offset > end) return undefined;
  return {
    payloadType: packet[1]! & 0x7f,
    marker: (packet[1]! & 0x80) !== 0,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payloadOffset: offset,
    payloadEnd: end,
  };
}

/** A packet with a plain 12-byte header (no CSRC, no extension) around `payload`. */
export function rtpPacket(h: { payloadType: number; marker?: boolean; sequence: number; timestamp: number; ssrc: number }, payload: Buffer): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  packet.writeUInt16BE(h.sequence & 0xffff, 2);
  packet.writeUInt32BE(h.timestamp >>> 0, 4);
  packet.writeUInt32BE(h.ssrc >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
}

/** RFC 4571 framing (a 16-bit length before each packet): how RTP reaches GStreamer's rtpstreamdepay on a pipe. */
export function framed(packet: Buffer): Buffer {
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(packet.length, 0);
  return Buffer.concat([length, packet]);
}
