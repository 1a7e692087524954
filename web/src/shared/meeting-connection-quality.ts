// The connection's quality for an indicator, from the SDK's own RTP figures sampled on an interval (the only
// thing on this page that is sampled rather than pushed): packet loss over the last interval.
import type { MeetingClient } from '../../../client-sdk/src/meeting-client';

export type ConnectionQuality = 'good' | 'fair' | 'poor' | 'unknown';

/** Loss ratio thresholds: under 2 % is good, under 8 % fair (speech stays intelligible), above is poor. */
export function qualityOf(received: number, lost: number, connected: boolean): ConnectionQuality {
  if (!connected) return 'poor';
  if (received + lost < 20) return 'unknown';
  const loss = lost / (received + lost);
  return loss < 0.02 ? 'good' : loss < 0.08 ? 'fair' : 'poor';
}

/**
 * Samples the client every `intervalMs` and reports the quality when it changes. With nothing received to
 * judge (alone in the room), a connected client that is sending counts as good. Returns a stop function.
 */
export function watchConnectionQuality(client: MeetingClient, onQuality: (quality: ConnectionQuality) => void, intervalMs = 2000): () => void {
  let last: { received: number; lost: number; sent: number } | undefined;
  let reported: ConnectionQuality | undefined;
  let stopped = false;
  const sample = async () => {
    if (!client.joined) return;
    const [inbound, outbound] = await Promise.all([client.getInboundStats(), client.getOutboundStats()]);
    const now = {
      received: inbound.reduce((n, s) => n + s.packetsReceived, 0),
      lost: inbound.reduce((n, s) => n + Math.max(0, s.packetsLost), 0),
      sent: outbound.reduce((n, s) => n + s.bytesSent, 0),
    };
    const connected = client.connection.state === 'connected';
    let quality: ConnectionQuality = 'unknown';
    if (last) {
      quality = qualityOf(now.received - last.received, now.lost - last.lost, connected);
      if (quality === 'unknown' && connected && now.sent > last.sent) quality = 'good';
    }
    last = now;
    if (!stopped && quality !== reported) {
      reported = quality;
      onQuality(quality);
    }
  };
  const timer = setInterval(() => void sample().catch(() => undefined), intervalMs);
  void sample().catch(() => undefined);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
