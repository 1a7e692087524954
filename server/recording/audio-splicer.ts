import { randomInt } from 'node:crypto';
import { OPUS_SILENCE_20MS, opusSamples, SAMPLES_PER_MS, SILENCE_SAMPLES } from './opus-packet.js';
import { readRtpHeader, rtpPacket } from './rtp-packet.js';
import { senderReports } from './rtcp-sender-report.js';
import { SourceClock } from './source-clock.js';

export interface AudioSplicerOptions {
  /** The session clock's origin, in monotonic ms. */
  originMs: number;
  /** Where the output starts on the session clock (48 kHz samples). */
  startAt: number;
  /** How far behind real time the output runs, so that late packets still find their place. */
  delayMs: number;
  payloadType: number;
  /** Receives each output packet, in order. */
  send: (packet: Buffer) => void;
  now: () => number;
}

/** At most this many packets wait (10 s of 20 ms packets): enough to ride out a recorder's restart. */
const MAX_QUEUED = 500;

interface Queued {
  ssrc: number;
  at: number;
  samples: number;
  payload: Buffer;
}

/**
 * Turns the Opus RTP of whichever source a channel follows now (the live interpreter, the floor, the next
 * speaker) into ONE continuous stream on the session clock: one SSRC, consecutive sequence numbers, and a
 * packet for every instant. Each source's packets are placed by its SourceClock; the instants nobody
 * covers (silence, a switch, a dead worker, a recorder being restarted) get Opus silence frames. Nothing is
 * decoded or re-encoded. Output runs `delayMs` behind real time; a packet later than that is dropped.
 */
export class AudioSplicer {
  private cursor: number;
  private readonly queue: Queued[] = [];
  private readonly clocks = new Map<number, SourceClock>();
  private selected: number | undefined;
  private sequence = randomInt(0, 0x10000);
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private paused = false;
  /** Counters for logs and tests. */
  readonly stats = { forwarded: 0, silence: 0, late: 0 };

  constructor(private readonly options: AudioSplicerOptions) {
    this.cursor = options.startAt;
  }

  /** Where the next output sample lies on the session clock. */
  get position(): number {
    return this.cursor;
  }

  /** Follows this source from now on (undefined: nobody; silence). Packets queued from another source are dropped. */
  follow(ssrc: number | undefined): void {
    if (ssrc === this.selected) return;
    this.selected = ssrc;
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.ssrc !== ssrc) this.queue.splice(i, 1);
  }

  /** An RTP packet from a source, as it arrives. */
  rtp(packet: Buffer, arrivalMs = this.options.now()): void {
    const header = readRtpHeader(packet);
    if (!header || header.ssrc !== this.selected) return;
    const payload = packet.subarray(header.payloadOffset, header.payloadEnd);
    const samples = opusSamples(payload);
    if (samples === undefined) return;
    const at = this.clock(header.ssrc).position(header.timestamp, arrivalMs);
    if (at + samples <= this.cursor) {
      this.stats.late += 1;
      return;
    }
    // While the recorder is down packets wait here, within bounds: the oldest go first.
    if (this.queue.length >= MAX_QUEUED) this.queue.shift();
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.at > at) i--;
    if (this.queue[i - 1]?.at === at) return; // a duplicate
    this.queue.splice(i, 0, { ssrc: header.ssrc, at, samples, payload: Buffer.from(payload) });
  }

  /** RTCP from the sources: their sender reports place them on the session clock. */
  rtcp(packet: Buffer): void {
    for (const sr of senderReports(packet)) this.clocks.get(sr.ssrc)?.report(sr);
  }

  /**
   * Sends everything due up to now minus the delay (`final`: up to now, the recording ends). Call it often
   * (every 20-100 ms); late calls catch up.
   */
  flush(final = false): void {
    if (this.paused) return;
    const horizon = Math.floor((this.options.now() - this.options.originMs - (final ? 0 : this.options.delayMs)) * SAMPLES_PER_MS);
    while (this.cursor < horizon) {
      const next = this.queue[0];
      if (next && next.at + next.samples <= this.cursor) {
        this.queue.shift(); // overtaken by silence already sent
        this.stats.late += 1;
      } else if (next && next.at - this.cursor < SILENCE_SAMPLES / 2) {
        this.queue.shift();
        this.emit(next.payload, next.samples);
        this.stats.forwarded += 1;
      } else {
        this.emit(OPUS_SILENCE_20MS, SILENCE_SAMPLES);
        this.stats.silence += 1;
      }
    }
  }

  /**
   * Stops output (the recorder is down) and answers where output had got to. Packets keep arriving and
   * wait (up to 10 s of them), so only what the dead recorder had not yet written is lost.
   */
  pause(): number {
    this.paused = true;
    return this.cursor;
  }

  /** Output goes on from `at` (where the file now ends): what was lost after it is filled with silence. */
  resumeAt(at: number): void {
    this.cursor = at;
    while (this.queue.length > 0 && this.queue[0]!.at + this.queue[0]!.samples <= at) this.queue.shift();
    this.paused = false;
  }

  /** Forgets a source (its consumer closed). */
  forget(ssrc: number): void {
    this.clocks.delete(ssrc);
    if (this.selected === ssrc) this.follow(undefined);
  }

  private clock(ssrc: number): SourceClock {
    let clock = this.clocks.get(ssrc);
    if (!clock) {
      clock = new SourceClock(this.options.originMs);
      this.clocks.set(ssrc, clock);
    }
    return clock;
  }

  private emit(payload: Buffer, samples: number): void {
    this.sequence = (this.sequence + 1) & 0xffff;
    this.options.send(rtpPacket({ payloadType: this.options.payloadType, sequence: this.sequence, timestamp: this.cursor, ssrc: this.ssrc }, payload));
    this.cursor += samples;
  }
}
