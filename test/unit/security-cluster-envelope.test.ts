import { describe, expect, it } from 'vitest';
import { cascadeRequests, roomSnapshot, roomTopicMessage } from '../../server/cascade/cascade-protocol.js';
import { openEndpoint, sealEndpoint } from '../../server/cascade/srtp-seal.js';
import { BusEnvelopes, NonceGuard } from '../../server/cluster/bus-envelope.js';
import { ClusterKeys } from '../../server/cluster/cluster-keys.js';

// Issue 10, item 8, the parts that need no Redis: the envelope's rules, rotation, bounded replay memory,
// sealed SRTP parameters and the strictness of the cascade schemas.

const OLD = 'the-old-cluster-secret-0123456789-abcdefghij';
const NEW = 'the-new-cluster-secret-0123456789-abcdefghij';
const CHANNEL = 'plenum:topic:room:r1';

describe('8. signed bus envelopes', () => {
  it('8 (sign) a message opens once, on its own channel, within the window, only under an accepted key', () => {
    let now = 1_000_000;
    const clock = (): number => now;
    const sender = new BusEnvelopes('node-a', new ClusterKeys({ current: NEW }), 30_000, clock);
    const receiver = new BusEnvelopes('node-b', new ClusterKeys({ current: NEW }), 30_000, clock);
    const sealed = sender.seal(CHANNEL, { type: 'closed', reason: 'LEFT' });
    expect(receiver.open('plenum:topic:room:r2', sealed)).toEqual({ ok: false, reason: 'bad-mac' });
    expect(receiver.open(CHANNEL, sealed)).toEqual({ ok: true, from: 'node-a', body: { type: 'closed', reason: 'LEFT' } });
    expect(receiver.open(CHANNEL, sealed)).toEqual({ ok: false, reason: 'replayed' });
    // The sender named in the envelope is covered by the MAC.
    expect(receiver.open(CHANNEL, sealed.replace('"from":"node-a"', '"from":"node-c"'))).toEqual({ ok: false, reason: 'bad-mac' });
    expect(receiver.open(CHANNEL, JSON.stringify({ type: 'closed', reason: 'LEFT' }))).toEqual({ ok: false, reason: 'unsigned' });
    expect(receiver.open(CHANNEL, 'not json')).toEqual({ ok: false, reason: 'malformed' });
    const late = sender.seal(CHANNEL, {});
    now += 30_001;
    expect(receiver.open(CHANNEL, late)).toEqual({ ok: false, reason: 'stale' });
  });

  it('8 (secret) during a rotation, messages signed with the previous secret still verify; after it, they do not', () => {
    const oldNode = new BusEnvelopes('node-a', new ClusterKeys({ current: OLD }), 30_000);
    const rotating = new BusEnvelopes('node-b', new ClusterKeys({ current: NEW, previous: OLD }), 30_000);
    const rotated = new BusEnvelopes('node-c', new ClusterKeys({ current: NEW }), 30_000);
    expect(rotating.open(CHANNEL, oldNode.seal(CHANNEL, 1))).toMatchObject({ ok: true });
    // A rotating node signs with the new secret, which nodes not yet rotated do not know: restart them in order.
    expect(rotated.open(CHANNEL, rotating.seal(CHANNEL, 2))).toMatchObject({ ok: true });
    expect(rotated.open(CHANNEL, oldNode.seal(CHANNEL, 3))).toEqual({ ok: false, reason: 'bad-mac' });
  });

  it('8 (sign) the replay memory is bounded and never forgets a nonce without refusing everything as old', () => {
    const guard = new NonceGuard(30_000, 100);
    for (let i = 0; i < 1000; i++) expect(guard.admit(`n${i}`, 1000 + i, 2000)).toBe(true);
    expect(guard.size).toBe(100);
    // An early nonce was forgotten, but its timestamp is below the floor: still refused.
    expect(guard.admit('n0', 1000, 2000)).toBe(false);
    expect(guard.admit('n999', 1999, 2000)).toBe(false);
    expect(guard.admit('fresh', 2000, 2000)).toBe(true);
    // Past the window, memory drains.
    guard.admit('later', 100_000, 100_000);
    expect(guard.size).toBe(1);
  });

  it('8 (srtp) SRTP parameters travel sealed, bound to their pipe; in clear they are refused', () => {
    const keys = new ClusterKeys({ current: NEW });
    const pipe = { roomId: 'r1', originNode: 'node-a', edgeNode: 'node-b', side: 'edge' as const };
    const srtpParameters = { cryptoSuite: 'AEAD_AES_256_GCM' as const, keyBase64: Buffer.alloc(44, 7).toString('base64') };
    const wire = sealEndpoint({ ip: '10.0.0.2', port: 40100, srtpParameters }, keys, pipe);
    expect(JSON.stringify(wire)).not.toContain(srtpParameters.keyBase64);
    expect(openEndpoint(wire, keys, pipe)).toEqual({ ip: '10.0.0.2', port: 40100, srtpParameters });
    expect(() => openEndpoint(wire, keys, { ...pipe, side: 'origin' })).toThrow(/SRTP/);
    expect(() => openEndpoint(wire, keys, { ...pipe, roomId: 'r2' })).toThrow(/SRTP/);
    expect(() => openEndpoint(wire, new ClusterKeys({ current: OLD }), pipe)).toThrow(/SRTP/);
    const attach = cascadeRequests['cascade.attach'].params;
    expect(attach.safeParse({ roomId: 'r1', edge: wire }).success).toBe(true);
    expect(attach.safeParse({ roomId: 'r1', edge: { ip: '10.0.0.2', port: 40100, srtpParameters } }).success).toBe(false);
  });

  it('8 (schema) every relayed event, the snapshot and producer pause are checked strictly', () => {
    const producer = { producerId: 'p1', peerId: 'a', kind: 'audio', source: 'mic', channel: 'floor', paused: false };
    const ok = (m: unknown): boolean => roomTopicMessage.safeParse(m).success;
    expect(ok({ type: 'event', event: 'newProducer', data: producer })).toBe(true);
    expect(ok({ type: 'event', event: 'newProducer', data: { ...producer, extra: 1 } })).toBe(false);
    expect(ok({ type: 'event', event: 'peersChanged', data: producer })).toBe(false);
    expect(ok({ type: 'event', event: 'peersChanged', data: { joined: [], left: ['a'], total: 1 } })).toBe(true);
    expect(ok({ type: 'event', event: 'peersChanged', data: { joined: [], left: ['a'], total: 1, extra: 1 } })).toBe(false);
    expect(ok({ type: 'event', event: 'peerJoined', data: { id: 'a', name: 'A', role: 'delegate', entity: { name: 'Kenya', type: 'member_state' } } })).toBe(false);
    expect(ok({ type: 'event', event: 'caption', data: { language: 'en', text: 'hi', final: true, at: 1 } })).toBe(true);
    expect(ok({ type: 'event', event: 'caption', data: { language: 'en', text: 'x'.repeat(2001), final: true, at: 1 } })).toBe(false);
    expect(ok({ type: 'event', event: 'boothState', data: {} })).toBe(false);
    expect(ok({ type: 'paused', producerId: 'p1', paused: true })).toBe(true);
    expect(ok({ type: 'paused', producerId: 'p1', paused: true, by: 'x' })).toBe(false);
    expect(ok({ type: 'closed', reason: 'SESSION_CLOSED' })).toBe(true);
    expect(ok({ type: 'closed', reason: 'WHATEVER' })).toBe(false);
    const floor = { controlled: false, speaker: null, queue: [] };
    expect(roomSnapshot.safeParse({ peers: [], producers: [producer], channels: [], floor }).success).toBe(true);
    expect(roomSnapshot.safeParse({ peers: [], producers: [{ ...producer, ip: '1.2.3.4' }], channels: [], floor }).success).toBe(false);
    expect(roomSnapshot.safeParse({ peers: [], producers: [], channels: [], floor: { ...floor, extra: true } }).success).toBe(false);
  });
});
