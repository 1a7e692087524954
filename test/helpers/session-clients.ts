import type { Socket } from 'socket.io-client';
import { idToken, type SigningKey } from './jwks-server.js';
import { call, connectFollowing } from './signaling-client.js';

/** A person in a session through signaling, as the SDK is: the node that serves them, their resume credential, what they were told. */
export interface SessionClient {
  email: string;
  socket: Socket;
  url: string;
  resumeToken: string;
  events: Array<{ event: string; data: unknown }>;
}

/**
 * Connects with `token` (a join token or a resume credential), following redirects to the room's node,
 * and joins. Every socket goes into `sockets`, for the test to close.
 */
export async function connectAndJoin(startAt: string, who: string, token: string, sockets: Socket[]): Promise<SessionClient> {
  const { socket, url } = await connectFollowing(startAt, token);
  sockets.push(socket);
  const events: SessionClient['events'] = [];
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  const caps = await call<{ rtpCapabilities: object }>(socket, 'getRouterRtpCapabilities', {});
  if (!caps.ok) throw new Error(`${who}: ${caps.error.code}`);
  const joined = await call<{ resumeToken: string }>(socket, 'join', { rtpCapabilities: caps.data.rtpCapabilities });
  if (!joined.ok) {
    socket.close();
    throw new Error(`${who}: ${joined.error.code} ${joined.error.message}`);
  }
  return { email: who, socket, url, resumeToken: joined.data.resumeToken, events };
}

/** Signs in with an identity token of the test identity provider (`key`), asks to join `sessionId`, and joins. */
export async function signInAndJoin(startAt: string, address: string, key: SigningKey, sessionId: string, sockets: Socket[]): Promise<SessionClient> {
  const res = await fetch(`${startAt}/api/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identityToken: idToken(key, { email: address, name: address }), sessionId }),
  });
  const body = (await res.json()) as { joinToken?: string };
  if (!body.joinToken) throw new Error(`${address}: ${JSON.stringify(body)}`);
  return connectAndJoin(startAt, address, body.joinToken, sockets);
}
