// The dial-in SIP gateway: a UAS for inbound calls from the organisation's PBX or SIP trunk. It owns the
// transport and the calls; close() ends every call with a BYE, then closes the sockets, and emits `close` once.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../logger.js';
import { RateLimiter } from '../../signaling/rate-limiter.js';
import { DigestAuthenticator, type DigestAlgorithm, type DigestCredentials } from './digest-auth.js';
import { IncomingCall, type CallEndReason } from './incoming-call.js';
import { DEFAULT_CODEC_PREFERENCE, negotiate, parseSdp, type DialInCodecName } from './sdp.js';
import {
  DEFAULT_SIP_LIMITS,
  getHeader,
  makeHeader,
  parseNameAddr,
  type SipParseError,
  type SipRequest,
  type SipResponse,
} from './sip-message.js';
import { ALLOWED_METHODS, buildResponse, randomToken, transactionKey } from './sip-response-builder.js';
import { SipTransport, type SipSource } from './sip-transport.js';

export interface SipGatewayOptions {
  /** Address to listen on (e.g. 0.0.0.0). */
  host: string;
  /** 0 = ephemeral; leave one out to not listen on that transport. */
  udpPort?: number;
  tcpPort?: number;
  /** Our address in Contact/Via; defaults to `host`, or 127.0.0.1 when `host` is a wildcard. */
  advertisedHost?: string;
  /** The trunk's digest credentials. */
  credentials: DigestCredentials;
  digestAlgorithms?: readonly DigestAlgorithm[];
  nonceTtlMs?: number;
  /** Source IPs or CIDRs allowed to talk to us; anything else is dropped silently. Default: all. */
  allowFrom?: readonly string[];
  /** Codec preference, best first (default opus, PCMU, PCMA). */
  codecs?: readonly DialInCodecName[];
  /** Concurrent calls; beyond it, 503. */
  maxCalls?: number;
  /** New INVITEs per second from one source IP, and the burst allowed. */
  invitesPerSecondPerSource?: number;
  inviteBurstPerSource?: number;
  maxMessageBytes?: number;
  maxHeaders?: number;
  maxTcpConnections?: number;
  tcpIdleTimeoutMs?: number;
  /** RFC 3261 timers; T1 is also the base of the 64*T1 give-up. */
  t1Ms?: number;
  t2Ms?: number;
  /** How long close() waits for answers to its BYEs. */
  closeGraceMs?: number;
  logger: Logger;
}

interface SipGatewayEvents {
  call: [call: IncomingCall];
  close: [];
}

/** Responses to requests that created no call (challenges, refusals), repeated when the request is. */
interface RememberedResponse {
  readonly response: SipResponse;
}

export class SipGateway extends EventEmitter<SipGatewayEvents> {
  /** Calls by Call-ID; an ended call lingers 64*T1 to absorb retransmissions, then is forgotten. */
  private readonly calls = new Map<string, IncomingCall>();
  private readonly callsByInvite = new Map<string, IncomingCall>();
  private readonly lingerTimers = new Map<IncomingCall, NodeJS.Timeout>();
  private readonly remembered: LRUCache<string, RememberedResponse>;
  private readonly inviteLimiters: LRUCache<string, RateLimiter>;
  private readonly authenticator: DigestAuthenticator;
  private readonly allowList: net.BlockList | undefined;
  private readonly advertisedHost: string;
  private readonly t1Ms: number;
  private readonly t2Ms: number;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: SipGatewayOptions,
    private readonly transport: SipTransport,
  ) {
    super();
    this.t1Ms = options.t1Ms ?? 500;
    this.t2Ms = options.t2Ms ?? 4000;
    this.advertisedHost = options.advertisedHost ?? (isWildcard(options.host) ? '127.0.0.1' : options.host);
    this.authenticator = new DigestAuthenticator({
      credentials: options.credentials,
      ...(options.digestAlgorithms ? { algorithms: options.digestAlgorithms } : {}),
      ...(options.nonceTtlMs ? { nonceTtlMs: options.nonceTtlMs } : {}),
    });
    this.allowList = options.allowFrom ? buildAllowList(options.allowFrom) : undefined;
    this.remembered = new LRUCache({ max: 4096, ttl: 64 * this.t1Ms });
    this.inviteLimiters = new LRUCache({ max: 4096, ttl: 60_000 });
    transport.on('message', (message, source) => {
      // While closing, only answers to our BYEs matter.
      if (!this.allowed(source) || (this.closing && message.kind === 'request')) return;
      try {
        if (message.kind === 'request') this.onRequest(message, source);
        else this.onResponse(message);
      } catch (error) {
        // A bug handling one message must not take the gateway down.
        options.logger.error({ err: error }, 'sip message handling failed');
      }
    });
    transport.on('malformed', (error: SipParseError, source) => {
      if (this.allowed(source)) options.logger.debug({ code: error.code, detail: error.detail, source: source.address }, 'malformed sip message');
    });
  }

  static async listen(options: SipGatewayOptions): Promise<SipGateway> {
    const transport = await SipTransport.listen({
      host: options.host,
      ...(options.udpPort !== undefined ? { udpPort: options.udpPort } : {}),
      ...(options.tcpPort !== undefined ? { tcpPort: options.tcpPort } : {}),
      limits: {
        maxMessageBytes: options.maxMessageBytes ?? DEFAULT_SIP_LIMITS.maxMessageBytes,
        maxHeaders: options.maxHeaders ?? DEFAULT_SIP_LIMITS.maxHeaders,
      },
      maxTcpConnections: options.maxTcpConnections ?? 64,
      tcpIdleTimeoutMs: options.tcpIdleTimeoutMs ?? 300_000,
      logger: options.logger,
    });
    const gateway = new SipGateway(options, transport);
    options.logger.info({ udpPort: transport.udpPort, tcpPort: transport.tcpPort }, 'sip gateway listening');
    return gateway;
  }

  get udpPort(): number | undefined {
    return this.transport.udpPort;
  }

  get tcpPort(): number | undefined {
    return this.transport.tcpPort;
  }

  /** The bound ports (0 for a transport not listened on). */
  get ports(): { udp: number; tcp: number } {
    return { udp: this.transport.udpPort ?? 0, tcp: this.transport.tcpPort ?? 0 };
  }

  /** Calls not yet ended. */
  get activeCalls(): IncomingCall[] {
    return [...this.calls.values()].filter((c) => !c.ended);
  }

  /** Ends every call (BYE once answered), waits briefly for the BYEs' answers, closes the sockets. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const call of this.activeCalls) call.terminate('gateway-closed');
      const deadline = Date.now() + (this.options.closeGraceMs ?? 1000);
      while (Date.now() < deadline && [...this.calls.values()].some((c) => !c.byeSettled)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const [call, timer] of this.lingerTimers) {
        clearTimeout(timer);
        call.dispose();
      }
      for (const call of this.calls.values()) call.dispose();
      this.lingerTimers.clear();
      this.calls.clear();
      this.callsByInvite.clear();
      this.transport.close();
      this.emit('close');
    })();
    return this.closing;
  }

  private allowed(source: SipSource): boolean {
    if (!this.allowList) return true;
    const family = net.isIPv6(source.address) ? 'ipv6' : 'ipv4';
    return this.allowList.check(source.address, family);
  }

  private onRequest(request: SipRequest, source: SipSource): void {
    const callId = getHeader(request, 'call-id') ?? '';
    const key = transactionKey(request);
    switch (request.method) {
      case 'INVITE':
        return this.onInvite(request, source, callId, key);
      case 'ACK': {
        const call = (key ? this.callsByInvite.get(key) : undefined) ?? this.calls.get(callId);
        call?.onAck(request);
        return;
      }
      case 'CANCEL': {
        const call = key ? this.callsByInvite.get(key) : undefined;
        if (!call) return this.respond(request, source, 481, 'Call/Transaction Does Not Exist');
        this.respond(request, source, 200, 'OK', call.localTag);
        call.onCancel();
        return;
      }
      case 'BYE': {
        const call = this.calls.get(callId);
        if (!call || toTag(request) !== call.localTag) return this.respond(request, source, 481, 'Call/Transaction Does Not Exist');
        this.respond(request, source, 200, 'OK');
        call.onRemoteBye();
        return;
      }
      case 'OPTIONS':
        return this.respond(request, source, 200, 'OK', randomToken(), [
          makeHeader('Allow', ALLOWED_METHODS),
          makeHeader('Accept', 'application/sdp'),
        ]);
      case 'REGISTER':
      case 'SUBSCRIBE':
      case 'NOTIFY':
      case 'INFO':
      case 'UPDATE':
      case 'PRACK':
      case 'MESSAGE':
      case 'REFER':
      case 'PUBLISH':
        return this.respond(request, source, 405, 'Method Not Allowed', randomToken(), [makeHeader('Allow', ALLOWED_METHODS)]);
      default:
        return this.respond(request, source, 501, 'Not Implemented', randomToken());
    }
  }

  private onInvite(request: SipRequest, source: SipSource, callId: string, key: string | undefined): void {
    const existing = key ? this.callsByInvite.get(key) : undefined;
    if (existing) return existing.onInviteRetransmission();
    const repeated = key ? this.remembered.get(key) : undefined;
    if (repeated) return this.transport.sendResponse(repeated.response, source);
    if (!key) return this.respond(request, source, 400, 'Missing Branch');
    if (toTag(request)) {
      // A re-INVITE: we keep the session as it is (RFC 3261 §14.2 lets us refuse the change).
      const call = this.calls.get(callId);
      if (!call || call.ended) return this.respond(request, source, 481, 'Call/Transaction Does Not Exist');
      return this.respond(request, source, 488, 'Not Acceptable Here');
    }

    const log = this.options.logger.child({ callId, source: source.address, transport: source.transport });
    let limiter = this.inviteLimiters.get(source.address);
    if (!limiter) {
      limiter = new RateLimiter(this.options.invitesPerSecondPerSource ?? 5, this.options.inviteBurstPerSource ?? 10);
      this.inviteLimiters.set(source.address, limiter);
    }
    if (!limiter.tryTake()) {
      log.warn('dial-in INVITE rate exceeded');
      return this.remember(key, request, source, 503, 'Service Unavailable', [makeHeader('Retry-After', '5')]);
    }

    const verdict = this.authenticator.verify(getHeader(request, 'authorization'), request.method, request.uri);
    if (!verdict.ok) {
      if (verdict.reason === 'missing') log.debug('dial-in INVITE challenged');
      else log.warn({ reason: verdict.reason }, 'dial-in digest authentication refused');
      const challenges = this.authenticator.challenge(verdict.reason === 'stale');
      return this.remember(key, request, source, 401, 'Unauthorized', challenges.map((c) => makeHeader('WWW-Authenticate', c)));
    }

    if (this.activeCalls.length >= (this.options.maxCalls ?? 60)) {
      log.warn('dial-in call limit reached');
      return this.remember(key, request, source, 503, 'Service Unavailable', [makeHeader('Retry-After', '30')]);
    }
    if (this.calls.has(callId)) return this.remember(key, request, source, 482, 'Loop Detected');

    const contentType = (getHeader(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    const offer = contentType === 'application/sdp' ? parseSdp(request.body.toString('latin1')) : undefined;
    if (!offer) return this.remember(key, request, source, 488, 'Not Acceptable Here', [makeHeader('Accept', 'application/sdp')]);
    const negotiation = negotiate(offer, this.options.codecs ?? DEFAULT_CODEC_PREFERENCE);
    if (!negotiation) {
      log.info('dial-in offer has no common codec');
      return this.remember(key, request, source, 488, 'Not Acceptable Here');
    }
    if (!parseNameAddr(getHeader(request, 'contact') ?? '')) return this.remember(key, request, source, 400, 'Missing Contact');

    const call = new IncomingCall({
      transport: this.transport,
      invite: request,
      source,
      negotiation,
      advertisedHost: this.advertisedHost,
      t1Ms: this.t1Ms,
      t2Ms: this.t2Ms,
      logger: log,
    });
    this.calls.set(callId, call);
    this.callsByInvite.set(key, call);
    call.once('ended', (reason: CallEndReason) => {
      // Linger to answer retransmitted BYE/CANCEL and absorb ACKs, then forget.
      this.lingerTimers.set(
        call,
        setTimeout(() => {
          this.lingerTimers.delete(call);
          call.dispose();
          if (this.calls.get(callId) === call) this.calls.delete(callId);
          this.callsByInvite.delete(key);
        }, 64 * this.t1Ms),
      );
      log.debug({ reason }, 'dial-in call lingers');
    });
    call.onInviteRetransmission(); // 100 Trying
    log.info({ codec: call.codec.name, to: call.to.user }, 'dial-in call offered');
    if (this.listenerCount('call') === 0) {
      call.reject(480, 'Temporarily Unavailable');
      return;
    }
    this.emit('call', call);
  }

  private onResponse(response: SipResponse): void {
    const call = this.calls.get(getHeader(response, 'call-id') ?? '');
    call?.onResponse(response);
  }

  private respond(request: SipRequest, source: SipSource, status: number, reason: string, tag?: string, headers: ReturnType<typeof makeHeader>[] = []): void {
    this.transport.sendResponse(buildResponse(request, status, reason, { ...(tag ? { toTag: tag } : {}), headers }), source);
  }

  /** Sends a final response that created no call, and keeps it to repeat on a retransmitted INVITE. */
  private remember(key: string, request: SipRequest, source: SipSource, status: number, reason: string, headers: ReturnType<typeof makeHeader>[] = []): void {
    const response = buildResponse(request, status, reason, { toTag: randomToken(), headers });
    this.remembered.set(key, { response });
    this.transport.sendResponse(response, source);
  }
}

function toTag(request: SipRequest): string | undefined {
  return parseNameAddr(getHeader(request, 'to') ?? '')?.params.get('tag');
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function buildAllowList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (net.isIP(address) === 0) throw new Error(`sip allow-list: not an IP address: ${entry}`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}
