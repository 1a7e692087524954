// RTP for the plenary benchmark, for a server in the bench's own process: a few delegates are "wired" — their
// server endpoint gets a PlainTransport (from the bench) instead of a WebRTC one, so that their microphone's
// producer (made through the real `produce` request) receives RTP with audio levels, and their consumers (made
// through `consume`, or by the server itself) send RTP to a UDP socket of the RTP peer process (plenary-rtp.ts). Everything else about them (join,
// floor, selection) is the server's ordinary path.
import { fork, type ChildProcess } from 'node:child_process';
import type { types } from 'mediasoup';
import type { Room } from '../../server/rooms/room.js';
import type { RtpReply, RtpRequest } from './plenary-rtp.js';

/**
 * A PlainTransport put into a participant's endpoint as its send or receive transport (MediaEndpoint.adoptTransport).
 * A receive one must be adopted before the participant has any other: the server's consumers for it (selective
 * forwarding) go to the endpoint's first receive transport, so they land here and send RTP to `sinkPort`.
 */
export async function wireTransport(room: Room, participantId: string, direction: 'send' | 'recv', sinkPort?: number): Promise<types.PlainTransport> {
  const participant = room.participants.get(participantId);
  if (!participant) throw new Error(`wire: no participant ${participantId}`);
  if (direction === 'recv' && [...participant.endpoint.transports.values()].some((t) => t.appData.direction === 'recv')) {
    throw new Error(`wire: ${participantId} already has a receive transport; the server's consumers would go there`);
  }
  const router = room.media.router;
  const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: direction === 'send', appData: { direction } });
  if (direction === 'recv') await transport.connect({ ip: '127.0.0.1', port: sinkPort! });
  participant.endpoint.adoptTransport(transport, router);
  return transport;
}

/**
 * The wired delegates' RTP, sent and timestamped in a child process (plenary-rtp.ts): the server runs in
 * the bench's process, and its busy moments must not delay a talker's packets or the reading of a
 * receiver's socket.
 */
export class RtpPeer {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: RtpReply) => void>();

  constructor() {
    this.child = fork(new URL('./plenary-rtp.ts', import.meta.url), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: RtpReply) => {
      this.waiting.get(m.reqId)?.(m);
      this.waiting.delete(m.reqId);
    });
  }

  send(m: RtpRequest): void {
    this.child.send(m);
  }

  ask<R extends RtpReply>(m: RtpRequest & { reqId: number }): Promise<R> {
    return new Promise((resolve) => {
      this.waiting.set(m.reqId, resolve as (reply: RtpReply) => void);
      this.child.send(m);
    });
  }

  id(): number {
    return this.nextId++;
  }

  close(): void {
    this.child.kill();
  }
}

/** Opus-like RTP at 50 packets/s with audio levels, from the RTP peer to a wired send transport. */
export class Talker {
  private current = 127;
  private readonly id: string;

  constructor(
    private readonly peer: RtpPeer,
    private readonly port: number,
    private readonly ssrc: number,
  ) {
    this.id = `talker-${peer.id()}`;
  }

  get level(): number {
    return this.current;
  }

  /** -dBov (0 loudest, 127 silence). */
  set level(level: number) {
    if (level === this.current) return;
    this.current = level;
    if (this.started) this.peer.send({ type: 'level', id: this.id, level });
  }

  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    this.peer.send({ type: 'talker', id: this.id, port: this.port, ssrc: this.ssrc, level: this.current });
  }

  close(): void {
    // The peer process goes with the run.
  }
}

/**
 * A wired receiver: its UDP socket is the RTP peer's; it learns which SSRC carries which producer from the
 * participant's consumers on the server, and asks the peer when each stream (re)started.
 */
export class Receiver {
  private readonly id: string;

  constructor(
    private readonly room: Room,
    readonly participantId: string,
    private readonly peer: RtpPeer,
  ) {
    this.id = `receiver-${peer.id()}`;
  }

  async bind(): Promise<number> {
    const answer = await this.peer.ask<Extract<RtpReply, { type: 'bound' }>>({ type: 'receiver', id: this.id, reqId: this.peer.id() });
    return answer.port;
  }

  private ssrcOf(producerId: string): number | undefined {
    for (const c of this.room.participants.get(this.participantId)?.endpoint.consumers.values() ?? []) {
      if (c.producerId === producerId) return c.rtpParameters.encodings?.[0]?.ssrc;
    }
    return undefined;
  }

  /**
   * When (on this process's clock) the first packet of `producerId` after `since` arrived at the peer, or
   * null if none did within `timeoutMs`. The answer is the peer's timestamp: polling adds nothing to it.
   */
  async firstPacket(producerId: string, since: number, timeoutMs: number): Promise<number | null> {
    const deadline = performance.now() + timeoutMs;
    const sinceAbs = performance.timeOrigin + since;
    while (performance.now() < deadline) {
      const ssrc = this.ssrcOf(producerId);
      if (ssrc !== undefined) {
        const { at } = await this.peer.ask<Extract<RtpReply, { type: 'startedAt' }>>({ type: 'startedAt', id: this.id, ssrc, reqId: this.peer.id() });
        if (at !== null && at >= sinceAbs) return at - performance.timeOrigin;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return null;
  }

  close(): void {
    // The peer process goes with the run.
  }
}
