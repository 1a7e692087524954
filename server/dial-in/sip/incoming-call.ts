// One inbound call as seen by the UAS (RFC 3261 §13.3, §15, §17.2.1): the INVITE server transaction's final
// response and its retransmission, the dialog, and the BYE in either direction.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../../logger.js';
import { getHeader, getHeaderValues, makeHeader, parseCSeq, parseNameAddr, parseSipUri, type SipRequest, type SipResponse } from './sip-message.js';
import { buildResponse, newBranch, randomToken, ALLOWED_METHODS } from './sip-response-builder.js';
import type { SipSource, SipTransport } from './sip-transport.js';
import { buildAnswer, type DialInCodecName, type Negotiation } from './sdp.js';

export type CallEndReason = 'remote-bye' | 'cancelled' | 'no-ack' | 'local' | 'gateway-closed';

export interface IncomingCallEvents {
  ended: [reason: CallEndReason];
}

/** What the gateway gives a call: where it sends, timers, and how we address ourselves. */
export interface CallContext {
  readonly transport: SipTransport;
  readonly invite: SipRequest;
  readonly source: SipSource;
  readonly negotiation: Negotiation;
  /** Our host for Contact and Via (never a wildcard address). */
  readonly advertisedHost: string;
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly logger: Logger;
}

type CallState = 'offered' | 'answering' | 'confirmed' | 'ended';

export class IncomingCall extends EventEmitter<IncomingCallEvents> {
  readonly callId: string;
  readonly from: { readonly user: string; readonly displayName?: string };
  readonly to: { readonly user: string };
  readonly transport: 'udp' | 'tcp';
  readonly source: { readonly address: string; readonly port: number };
  readonly codec: { readonly name: DialInCodecName; readonly payloadType: number; readonly clockRate: number };
  readonly dtmfPayloadType: number | undefined;
  /** RTP clock rate of the telephone-events (the codec's, or 8000 when the phone only offers that). */
  readonly dtmfClockRate: number | undefined;
  readonly remoteRtp: { readonly address: string; readonly port: number };
  /** Our tag in the dialog (the To tag of our responses). */
  readonly localTag = randomToken();

  private state: CallState = 'offered';
  private endReason: CallEndReason | undefined;
  private finalResponse: SipResponse | undefined;
  private retransmitTimer: NodeJS.Timeout | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;
  private byeTimer: NodeJS.Timeout | undefined;
  private byeGiveUp: NodeJS.Timeout | undefined;
  private bye: SipRequest | undefined;
  private byeAnswered = false;
  private localCSeq = 1;
  private ackWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly context: CallContext) {
    super();
    const { invite, source, negotiation } = context;
    this.callId = getHeader(invite, 'call-id') ?? '';
    const fromAddr = parseNameAddr(getHeader(invite, 'from') ?? '');
    const fromUri = parseSipUri(fromAddr?.uri ?? '');
    this.from = { user: fromUri?.user ?? '', ...(fromAddr?.displayName ? { displayName: fromAddr.displayName } : {}) };
    const toUri = parseSipUri(parseNameAddr(getHeader(invite, 'to') ?? '')?.uri ?? '');
    this.to = { user: parseSipUri(invite.uri)?.user ?? toUri?.user ?? '' };
    this.transport = source.transport;
    this.source = { address: source.address, port: source.port };
    const { codec } = negotiation;
    this.codec = { name: codec.name, payloadType: codec.payloadType, clockRate: codec.clockRate };
    this.dtmfPayloadType = negotiation.dtmf?.payloadType;
    this.dtmfClockRate = negotiation.dtmf?.clockRate;
    this.remoteRtp = negotiation.remoteRtp;
  }

  /** Whether the call has ended (the `ended` event has fired). */
  get ended(): boolean {
    return this.state === 'ended';
  }

  /** 180 Ringing while the application gets ready (optional). */
  ringing(): void {
    if (this.state !== 'offered') return;
    this.sendProvisional(180, 'Ringing');
  }

  /** Sends 200 OK with our SDP answer; resolves when the caller's ACK arrives. */
  answer(localRtp: { address: string; port: number }): Promise<void> {
    if (this.state !== 'offered') return Promise.reject(new Error(`cannot answer a call that is ${this.state}`));
    this.state = 'answering';
    const sdp = buildAnswer(this.context.negotiation, { localRtp, sessionId: String(Date.now()), sessionVersion: 1 });
    const response = buildResponse(this.context.invite, 200, 'OK', {
      toTag: this.localTag,
      headers: [makeHeader('Contact', this.contact()), makeHeader('Allow', ALLOWED_METHODS)],
      body: { type: 'application/sdp', content: Buffer.from(sdp, 'latin1') },
    });
    this.sendFinal(response, () => {
      // No ACK within 64*T1 (§13.3.1.4): the session is not established; end it with a BYE.
      this.sendBye();
      this.end('no-ack');
    });
    return new Promise<void>((resolve, reject) => {
      this.ackWaiter = { resolve, reject };
    });
  }

  /** Refuses the call before it is answered. */
  reject(status: number, reason: string): void {
    if (this.state !== 'offered') return;
    if (status < 300 || status > 699) throw new RangeError('a rejection is a 3xx-6xx status');
    this.sendFinal(buildResponse(this.context.invite, status, reason, { toTag: this.localTag }), () => this.stopRetransmitting());
    this.end('local');
  }

  /** Ends the call: BYE once answered, 480 before. */
  hangUp(): void {
    this.terminate('local');
  }

  // The gateway routes the call's SIP traffic to these.

  /** A retransmitted INVITE: repeat our last response. */
  onInviteRetransmission(): void {
    if (this.finalResponse) this.context.transport.sendResponse(this.finalResponse, this.context.source);
    else if (this.state === 'offered') this.sendProvisional(100, 'Trying');
  }

  onAck(ack: SipRequest): void {
    const cseq = parseCSeq(getHeader(ack, 'cseq') ?? '');
    const inviteCSeq = parseCSeq(getHeader(this.context.invite, 'cseq') ?? '');
    if (!cseq || cseq.seq !== inviteCSeq?.seq) return;
    this.stopRetransmitting();
    if (this.state === 'answering') {
      this.state = 'confirmed';
      this.ackWaiter?.resolve();
      this.ackWaiter = undefined;
    }
  }

  /** CANCEL before the final response ends the call with 487 (§9.2); after it, CANCEL has no effect. */
  onCancel(): void {
    if (this.state !== 'offered') return;
    this.sendFinal(buildResponse(this.context.invite, 487, 'Request Terminated', { toTag: this.localTag }), () => this.stopRetransmitting());
    this.end('cancelled');
  }

  onRemoteBye(): void {
    this.stopRetransmitting();
    this.end('remote-bye');
  }

  /** A response to our BYE stops its retransmission. */
  onResponse(response: SipResponse): void {
    const cseq = parseCSeq(getHeader(response, 'cseq') ?? '');
    if (cseq?.method === 'BYE' && this.bye && cseq.seq === this.localCSeq && response.status >= 200) {
      this.byeAnswered = true;
      this.stopBye();
    }
  }

  /** Whether our BYE (if any) is settled, so the gateway may close its sockets. */
  get byeSettled(): boolean {
    return !this.bye || this.byeAnswered;
  }

  /** Ends the call for the gateway's sake (close, or the call's linger time ran out). */
  terminate(reason: CallEndReason): void {
    if (this.state === 'offered') {
      const [status, text] = reason === 'gateway-closed' ? [503, 'Service Unavailable'] : [480, 'Temporarily Unavailable'];
      this.sendFinal(buildResponse(this.context.invite, status, text, { toTag: this.localTag }), () => this.stopRetransmitting());
    } else if (this.state === 'answering' || this.state === 'confirmed') {
      this.stopRetransmitting();
      this.sendBye();
    }
    this.end(reason);
  }

  /** Stops every timer; the gateway calls this when it forgets the call. */
  dispose(): void {
    this.stopRetransmitting();
    this.stopBye();
  }

  private end(reason: CallEndReason): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = reason;
    this.ackWaiter?.reject(new Error(`call ended before ACK (${reason})`));
    this.ackWaiter = undefined;
    this.context.logger.info({ reason }, 'dial-in call ended');
    this.emit('ended', reason);
  }

  get reason(): CallEndReason | undefined {
    return this.endReason;
  }

  private contact(): string {
    const port = this.context.transport.listeningPort(this.transport);
    const host = net.isIPv6(this.context.advertisedHost) ? `[${this.context.advertisedHost}]` : this.context.advertisedHost;
    return `<sip:${host}:${port}${this.transport === 'tcp' ? ';transport=tcp' : ''}>`;
  }

  private sendProvisional(status: number, reason: string): void {
    const response = buildResponse(this.context.invite, status, reason, status === 100 ? {} : { toTag: this.localTag });
    this.context.transport.sendResponse(response, this.context.source);
  }

  /** Sends a final response; over UDP repeats it T1, 2T1, ... (capped at T2) until ACK or 64*T1 (§17.2.1). */
  private sendFinal(response: SipResponse, onTimeout: () => void): void {
    this.finalResponse = response;
    const send = () => this.context.transport.sendResponse(response, this.context.source);
    send();
    if (this.transport !== 'udp' && response.status >= 300) return;
    let interval = this.context.t1Ms;
    const again = () => {
      this.retransmitTimer = setTimeout(() => {
        send();
        interval = Math.min(interval * 2, this.context.t2Ms);
        again();
      }, interval);
    };
    // Over TCP the transport is reliable: no retransmission, but the 2xx still waits for its ACK.
    if (this.transport === 'udp') again();
    this.giveUpTimer = setTimeout(onTimeout, 64 * this.context.t1Ms);
  }

  private stopRetransmitting(): void {
    clearTimeout(this.retransmitTimer);
    clearTimeout(this.giveUpTimer);
    this.retransmitTimer = undefined;
    this.giveUpTimer = undefined;
  }

  /** BYE within the dialog we are the UAS of (§12.2.1.1, §15.1.1). */
  private sendBye(): void {
    if (this.bye) return;
    const { invite, source, transport } = this.context;
    const routes = getHeaderValues(invite, 'record-route');
    const contactUri = parseNameAddr(getHeader(invite, 'contact') ?? '')?.uri ?? parseNameAddr(getHeader(invite, 'from') ?? '')?.uri ?? '';
    this.localCSeq += 1;
    const host = net.isIPv6(this.context.advertisedHost) ? `[${this.context.advertisedHost}]` : this.context.advertisedHost;
    const via = `SIP/2.0/${this.transport.toUpperCase()} ${host}:${transport.listeningPort(this.transport)};branch=${newBranch()};rport`;
    const to = getHeader(invite, 'to') ?? '';
    const headers = [
      makeHeader('Via', via),
      makeHeader('Max-Forwards', '70'),
      makeHeader('From', `${to};tag=${this.localTag}`),
      makeHeader('To', getHeader(invite, 'from') ?? ''),
      makeHeader('Call-ID', this.callId),
      makeHeader('CSeq', `${this.localCSeq} BYE`),
      ...routes.map((route) => makeHeader('Route', route)),
    ];
    const bye: SipRequest = { kind: 'request', method: 'BYE', uri: contactUri, headers, body: Buffer.alloc(0) };
    this.bye = bye;
    const target = this.byeTarget(routes[0], contactUri, source);
    const send = () => transport.sendRequest(bye, target);
    send();
    if (this.transport === 'udp') {
      let interval = this.context.t1Ms;
      const again = () => {
        this.byeTimer = setTimeout(() => {
          send();
          interval = Math.min(interval * 2, this.context.t2Ms);
          again();
        }, interval);
      };
      again();
    }
    this.byeGiveUp = setTimeout(() => {
      this.byeAnswered = true;
      this.stopBye();
    }, 64 * this.context.t1Ms);
  }

  /** The first Route, else the Contact; a host name (needs DNS) or none falls back to where the INVITE came from. */
  private byeTarget(firstRoute: string | undefined, contactUri: string, source: SipSource): SipSource {
    const uri = parseSipUri((firstRoute ? parseNameAddr(firstRoute)?.uri : undefined) ?? contactUri);
    if (!uri || net.isIP(uri.host) === 0) return source;
    // Over TCP the INVITE's connection is used while it is open; the URI only if it has gone.
    return { ...source, address: uri.host, port: uri.port ?? 5060 };
  }

  private stopBye(): void {
    clearTimeout(this.byeTimer);
    clearTimeout(this.byeGiveUp);
    this.byeTimer = undefined;
    this.byeGiveUp = undefined;
  }
}
