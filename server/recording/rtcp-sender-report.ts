// RTCP sender reports (RFC 3550 §6.4.1): what a sender says about its clock. mediasoup writes the NTP field
// from libuv's monotonic clock in milliseconds (uv_hrtime, not wall time), the same clock as Node's
// process.hrtime, so a report maps a consumer's RTP timestamps onto this host's monotonic time.

export interface SenderReport {
  ssrc: number;
  /** The sender's clock at the report, in ms (for mediasoup: monotonic ms, see above). */
  ntpMs: number;
  /** The RTP timestamp that corresponds to `ntpMs`. */
  rtpTimestamp: number;
}

const SR = 200;

/** Every sender report in a compound RTCP packet; anything malformed ends the walk. */
export function senderReports(packet: Buffer): SenderReport[] {
  const reports: SenderReport[] = [];
  let offset = 0;
  while (offset + 4 <= packet.length) {
    if (packet[offset]! >> 6 !== 2) break;
    const length = (packet.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + length > packet.length) break;
    if (packet[offset + 1] === SR && length >= 28) {
      const seconds = packet.readUInt32BE(offset + 8);
      const fraction = packet.readUInt32BE(offset + 12);
      reports.push({ ssrc: packet.readUInt32BE(offset + 4), ntpMs: seconds * 1000 + (fraction / 2 ** 32) * 1000, rtpTimestamp: packet.readUInt32BE(offset + 16) });
    }
    offset += length;
  }
  return reports;
}

/** This host's monotonic clock in ms: the clock mediasoup's sender reports speak. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
