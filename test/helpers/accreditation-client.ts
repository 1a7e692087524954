import type { Socket } from 'socket.io-client';
import { DEMO_ACCESS_CODE } from '../../accreditation/demo-seed.js';
import { call, connectSignaling } from './signaling-client.js';

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Embedded sign-in with the demo access code. */
export async function signInAs(baseUrl: string, email: string): Promise<string> {
  const res = await post(`${baseUrl}/api/auth/sign-in`, { email, accessCode: DEMO_ACCESS_CODE });
  if (res.status !== 200) throw new Error(`sign-in ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.identityToken as string;
}

export async function requestJoinAs(baseUrl: string, email: string, sessionId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return post(`${baseUrl}/api/join`, { identityToken: await signInAs(baseUrl, email), sessionId });
}

/** Signs in, is admitted, connects and joins the media room; the socket is ready for media requests. */
export async function joinedSocket(baseUrl: string, email: string, sessionId: string): Promise<Socket> {
  const answer = await requestJoinAs(baseUrl, email, sessionId);
  if (answer.status !== 200) throw new Error(`join ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
  const socket = await connectSignaling(baseUrl, answer.body.joinToken);
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(`${email}: ${caps.error.code}`);
  const joined = await call(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) throw new Error(`${email}: ${joined.error.code}`);
  return socket;
}

/** RTP parameters as a browser would send for Opus; enough for the server to create a producer. */
export const opusRtpParameters = (ssrc: number) => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
  encodings: [{ ssrc }],
  rtcp: { cname: `c${ssrc}` },
});

const sendTransports = new WeakMap<Socket, string>();

/** Tries to produce audio into a channel (on one send transport per socket); answers the error code, or 'ok'. */
export async function tryProduce(socket: Socket, channel: string, ssrc: number): Promise<string> {
  let transportId = sendTransports.get(socket);
  if (!transportId) {
    const transport = await call<{ id: string }>(socket, 'createWebRtcTransport', { direction: 'send' });
    if (!transport.ok) return transport.error.code;
    transportId = transport.data.id;
    sendTransports.set(socket, transportId);
  }
  const produced = await call(socket, 'produce', { transportId, kind: 'audio', source: 'mic', channel, rtpParameters: opusRtpParameters(ssrc) });
  return produced.ok ? 'ok' : produced.error.code;
}
