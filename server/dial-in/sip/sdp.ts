// SDP offer/answer for one audio stream (RFC 4566, RFC 3264): parse the caller's offer, pick a codec by
// our preference, build the answer. Bounded like every other parser here.
import net from 'node:net';

export type DialInCodecName = 'opus' | 'PCMU' | 'PCMA';

export interface NegotiatedCodec {
  readonly name: DialInCodecName;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly channels: number;
  /** The offer's fmtp for this payload type, if any. */
  readonly fmtp: string | undefined;
}

interface SdpFormat {
  readonly payloadType: number;
  readonly encoding: string | undefined;
  readonly clockRate: number | undefined;
  readonly channels: number;
  readonly fmtp: string | undefined;
}

export interface SdpMedia {
  readonly media: string;
  readonly port: number;
  readonly proto: string;
  readonly formats: SdpFormat[];
  readonly address: string | undefined;
  readonly ptime: number | undefined;
  /** The raw `m=` format list, echoed when the stream is refused. */
  readonly formatList: string;
}

export interface SdpOffer {
  readonly sessionAddress: string | undefined;
  readonly media: SdpMedia[];
}

export const DEFAULT_CODEC_PREFERENCE: readonly DialInCodecName[] = ['opus', 'PCMU', 'PCMA'];

const MAX_SDP_BYTES = 8192;
const MAX_SDP_LINES = 200;
const MAX_MEDIA = 8;

const STATIC_PAYLOADS: Record<number, { encoding: string; clockRate: number }> = {
  0: { encoding: 'PCMU', clockRate: 8000 },
  8: { encoding: 'PCMA', clockRate: 8000 },
};

const CODEC_CLOCK: Record<DialInCodecName, number> = { opus: 48000, PCMU: 8000, PCMA: 8000 };

export function parseSdp(text: string): SdpOffer | undefined {
  if (text.length > MAX_SDP_BYTES) return undefined;
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length > MAX_SDP_LINES || lines[0] !== 'v=0') return undefined;
  let sessionAddress: string | undefined;
  const media: {
    media: string;
    port: number;
    proto: string;
    formatList: string;
    payloadTypes: number[];
    address: string | undefined;
    ptime: number | undefined;
    rtpmap: Map<number, { encoding: string; clockRate: number; channels: number }>;
    fmtp: Map<number, string>;
  }[] = [];
  for (const line of lines) {
    if (line[1] !== '=') return undefined;
    const type = line[0];
    const value = line.slice(2);
    const current = media[media.length - 1];
    if (type === 'm') {
      if (media.length >= MAX_MEDIA) return undefined;
      const m = /^([a-z]+) (\d{1,5})(?:\/\d+)? (\S+) ?(.*)$/.exec(value);
      if (!m) return undefined;
      const formatList = (m[4] ?? '').trim();
      const payloadTypes = m[3]?.startsWith('RTP/') ? formatList.split(/\s+/).filter(Boolean).map(Number) : [];
      if (payloadTypes.some((pt) => !Number.isInteger(pt) || pt < 0 || pt > 127)) return undefined;
      media.push({
        media: m[1] ?? '',
        port: Number(m[2]),
        proto: m[3] ?? '',
        formatList,
        payloadTypes,
        address: undefined,
        ptime: undefined,
        rtpmap: new Map(),
        fmtp: new Map(),
      });
    } else if (type === 'c') {
      const c = /^IN IP[46] ([0-9A-Fa-f:.]+)(?:\/\d+)*$/.exec(value);
      if (!c || net.isIP(c[1] ?? '') === 0) return undefined;
      if (current) current.address = c[1];
      else sessionAddress = c[1];
    } else if (type === 'a' && current) {
      const rtpmap = /^rtpmap:(\d{1,3}) ([A-Za-z0-9_.-]+)\/(\d{1,6})(?:\/(\d{1,2}))?$/.exec(value);
      if (rtpmap) {
        current.rtpmap.set(Number(rtpmap[1]), {
          encoding: rtpmap[2] ?? '',
          clockRate: Number(rtpmap[3]),
          channels: rtpmap[4] === undefined ? 1 : Number(rtpmap[4]),
        });
        continue;
      }
      const fmtp = /^fmtp:(\d{1,3}) (.{1,512})$/.exec(value);
      if (fmtp) {
        current.fmtp.set(Number(fmtp[1]), fmtp[2] ?? '');
        continue;
      }
      const ptime = /^ptime:(\d{1,4})$/.exec(value);
      if (ptime) current.ptime = Number(ptime[1]);
    }
  }
  return {
    sessionAddress,
    media: media.map((m) => ({
      media: m.media,
      port: m.port,
      proto: m.proto,
      formatList: m.formatList,
      address: m.address ?? sessionAddress,
      ptime: m.ptime,
      formats: m.payloadTypes.map((pt) => {
        const mapped = m.rtpmap.get(pt) ?? (STATIC_PAYLOADS[pt] ? { ...STATIC_PAYLOADS[pt], channels: 1 } : undefined);
        return {
          payloadType: pt,
          encoding: mapped?.encoding,
          clockRate: mapped?.clockRate,
          channels: mapped?.channels ?? 1,
          fmtp: m.fmtp.get(pt),
        };
      }),
    })),
  };
}

export interface Negotiation {
  /** Index of the accepted `m=audio` line in the offer. */
  readonly mediaIndex: number;
  readonly codec: NegotiatedCodec;
  /** The telephone-event format both sides use, if the offer has one. */
  readonly dtmf: { readonly payloadType: number; readonly clockRate: number } | undefined;
  readonly remoteRtp: { address: string; port: number };
  readonly offer: SdpOffer;
}

/** Picks the first codec of `preference` that the offer carries; undefined when nothing fits (488). */
export function negotiate(offer: SdpOffer, preference: readonly DialInCodecName[] = DEFAULT_CODEC_PREFERENCE): Negotiation | undefined {
  const mediaIndex = offer.media.findIndex((m) => m.media === 'audio' && m.port > 0 && m.proto === 'RTP/AVP' && m.address);
  const audio = offer.media[mediaIndex];
  if (!audio?.address) return undefined;
  for (const name of preference) {
    const format = audio.formats.find(
      (f) => f.encoding?.toLowerCase() === name.toLowerCase() && f.clockRate === CODEC_CLOCK[name] && (name !== 'opus' || f.channels === 2),
    );
    if (!format) continue;
    // RFC 4733 wants the codec's clock rate; many phones (baresip among them) offer only /8000 next to Opus.
    const events = audio.formats.filter((f) => f.encoding?.toLowerCase() === 'telephone-event');
    const dtmf = events.find((f) => f.clockRate === CODEC_CLOCK[name]) ?? events.find((f) => f.clockRate === 8000);
    return {
      mediaIndex,
      codec: { name, payloadType: format.payloadType, clockRate: CODEC_CLOCK[name], channels: format.channels, fmtp: format.fmtp },
      dtmf: dtmf ? { payloadType: dtmf.payloadType, clockRate: dtmf.clockRate ?? 8000 } : undefined,
      remoteRtp: { address: audio.address, port: audio.port },
      offer,
    };
  }
  return undefined;
}

export interface AnswerOptions {
  readonly localRtp: { address: string; port: number };
  /** o= session id and version (RFC 4566 §5.2). */
  readonly sessionId: string;
  readonly sessionVersion: number;
}

/** The answer: our one audio stream, every other offered stream refused with port 0 (RFC 3264 §6). */
export function buildAnswer(negotiation: Negotiation, options: AnswerOptions): string {
  const family = net.isIPv6(options.localRtp.address) ? 'IP6' : 'IP4';
  const { codec, dtmf } = negotiation;
  const dtmfPayloadType = dtmf?.payloadType;
  const lines = [
    'v=0',
    `o=plenum ${options.sessionId} ${options.sessionVersion} IN ${family} ${options.localRtp.address}`,
    's=plenum',
    `c=IN ${family} ${options.localRtp.address}`,
    't=0 0',
  ];
  negotiation.offer.media.forEach((m, index) => {
    if (index !== negotiation.mediaIndex) {
      lines.push(`m=${m.media} 0 ${m.proto} ${m.formatList || '0'}`);
      return;
    }
    const payloads = dtmfPayloadType === undefined ? `${codec.payloadType}` : `${codec.payloadType} ${dtmfPayloadType}`;
    lines.push(`m=audio ${options.localRtp.port} RTP/AVP ${payloads}`);
    lines.push(`a=rtpmap:${codec.payloadType} ${codec.name}/${codec.clockRate}${codec.name === 'opus' ? '/2' : ''}`);
    if (codec.name === 'opus') lines.push(`a=fmtp:${codec.payloadType} useinbandfec=1`);
    if (dtmfPayloadType !== undefined) {
      lines.push(`a=rtpmap:${dtmfPayloadType} telephone-event/${dtmf?.clockRate ?? codec.clockRate}`);
      lines.push(`a=fmtp:${dtmfPayloadType} 0-15`);
    }
    lines.push('a=ptime:20', 'a=sendrecv');
  });
  return `${lines.join('\r\n')}\r\n`;
}
