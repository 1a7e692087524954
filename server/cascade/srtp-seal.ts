// SRTP keys never cross Redis in clear. mediasoup makes each pipe's keys itself and each side must give its
// keys to the other, so they have to travel; they travel sealed (AES-256-GCM under a key derived from the
// cluster secret), bound to the room, both nodes and the side they belong to.
import { z } from 'zod';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ClusterKeys } from '../cluster/cluster-keys.js';
import type { WireEndpoint } from './cascade-protocol.js';
import type { PipeEndpoint } from './pipe-addressing.js';

const srtpParameters = z
  .object({
    cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']),
    keyBase64: z.string().min(1).max(256),
  })
  .strict();

/** Which pipe, between which nodes, and whose end: what a sealed key is bound to. */
export interface PipeContext {
  roomId: string;
  originNode: string;
  edgeNode: string;
  side: 'origin' | 'edge';
}

const contextOf = (c: PipeContext): string => JSON.stringify(['plenum-pipe-srtp', c.roomId, c.originNode, c.edgeNode, c.side]);

export function sealEndpoint(endpoint: PipeEndpoint, keys: ClusterKeys, context: PipeContext): WireEndpoint {
  const { ip, port, srtpParameters: srtp } = endpoint;
  return srtp ? { ip, port, srtp: keys.seal(JSON.stringify(srtp), contextOf(context)) } : { ip, port };
}

/** The endpoint with its SRTP parameters opened; BAD_REQUEST when they were not sealed for this pipe. */
export function openEndpoint(wire: WireEndpoint, keys: ClusterKeys, context: PipeContext): PipeEndpoint {
  if (wire.srtp === undefined) return { ip: wire.ip, port: wire.port };
  const opened = keys.open(wire.srtp, contextOf(context));
  let parsed: ReturnType<typeof srtpParameters.safeParse> | undefined;
  try {
    parsed = opened === undefined ? undefined : srtpParameters.safeParse(JSON.parse(opened));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, `the ${context.side}'s SRTP parameters do not open with the cluster key`);
  return { ip: wire.ip, port: wire.port, srtpParameters: parsed.data };
}
