// The wired delegates' RTP for the plenary benchmark, in a process of its own: the talkers' packets are sent
// and the receivers' packets are timestamped here, off the server's event loop. In the server's process a
// busy loop (a floor move's broadcasts) would delay the talkers' timers and the reading of the receivers'
// sockets, and that delay would count as the switch's. Times are absolute (timeOrigin + now, in ms), which
// the bench process compares with its own.
import { createSocket, type Socket } from 'node:dgram';
import { AUDIO_LEVEL_EXT_ID, OPUS_PT } from './plenary-delegate.js';

export type RtpRequest =
  | { type: 'talker'; id: string; port: number; ssrc: number; level: number }
  | { type: 'level'; id: string; level: number }
  | { type: 'receiver'; id: string; reqId: number }
  | { type: 'startedAt'; id: string; ssrc: number; reqId: number }
  | { type: 'close' };
export type RtpReply = { type: 'bound'; reqId: number; port: number } | { type: 'startedAt'; reqId: number; at: number | null; packets: number };

const now = (): number => performance.timeOrigin + performance.now();
/** A silence longer than this (a talker sends every 20 ms) means the stream was paused and resumed. */
const RESTART_GAP_MS = 100;

interface Talker {
  socket: Socket;
  level: number;
  seq: number;
  timer: NodeJS.Timeout;
}
interface Receiver {
  socket: Socket;
  startedAt: Map<number, number>;
  lastAt: Map<number, number>;
  packets: number;
}
const talkers = new Map<string, Talker>();
const receivers = new Map<string, Receiver>();
const reply = (m: RtpReply): void => void process.send!(m);

/** Opus-like RTP carrying the ssrc-audio-level extension (RFC 6464): 0 is loudest, 127 silence. */
function packet(t: Talker, ssrc: number): Buffer {
  t.seq += 1;
  const p = Buffer.alloc(12 + 8 + 60, 0xab);
  p[0] = 0x90; // V=2, X=1
  p[1] = OPUS_PT;
  p.writeUInt16BE(t.seq & 0xffff, 2);
  p.writeUInt32BE((t.seq * 960) >>> 0, 4);
  p.writeUInt32BE(ssrc >>> 0, 8);
  p.writeUInt16BE(0xbede, 12); // one-byte header extensions
  p.writeUInt16BE(1, 14); // one 32-bit word
  p[16] = (AUDIO_LEVEL_EXT_ID << 4) | 0; // id, length - 1
  // Voice activity flag, and a level that moves a little, as a real voice does.
  const level = t.level >= 127 ? 127 : Math.min(126, t.level + Math.floor(Math.random() * 6));
  p[17] = (t.level < 127 ? 0x80 : 0) | level;
  return p;
}

function receiver(id: string, reqId: number): void {
  const r: Receiver = { socket: createSocket('udp4'), startedAt: new Map(), lastAt: new Map(), packets: 0 };
  r.socket.on('message', (msg) => {
    const at = now();
    const pt = msg[1]! & 0x7f;
    if (msg.length < 12 || (pt >= 72 && pt <= 78)) return; // RTCP
    r.packets += 1;
    const ssrc = msg.readUInt32BE(8);
    // When each stream (re)started: its first packet, or the first after a gap (a paused producer resumed).
    const last = r.lastAt.get(ssrc);
    if (last === undefined || at - last > RESTART_GAP_MS) r.startedAt.set(ssrc, at);
    r.lastAt.set(ssrc, at);
  });
  receivers.set(id, r);
  r.socket.bind(0, '127.0.0.1', () => reply({ type: 'bound', reqId, port: r.socket.address().port }));
}

process.on('message', (m: RtpRequest) => {
  switch (m.type) {
    case 'talker': {
      const t: Talker = { socket: createSocket('udp4'), level: m.level, seq: 0, timer: setInterval(() => t.socket.send(packet(t, m.ssrc), m.port, '127.0.0.1'), 20) };
      talkers.set(m.id, t);
      break;
    }
    case 'level':
      talkers.get(m.id)!.level = m.level;
      break;
    case 'receiver':
      receiver(m.id, m.reqId);
      break;
    case 'startedAt': {
      const r = receivers.get(m.id);
      reply({ type: 'startedAt', reqId: m.reqId, at: r?.startedAt.get(m.ssrc) ?? null, packets: r?.packets ?? 0 });
      break;
    }
    case 'close':
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
