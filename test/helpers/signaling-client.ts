import { io, type Socket } from 'socket.io-client';
import type { Ack } from '../../protocol/errors.js';

/** A Node-side signaling client (socket.io-client), for protocol tests that need no browser. */
export async function connectSignaling(url: string, token: unknown): Promise<Socket> {
  const socket = io(url, { path: '/signaling', auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
    // A server that closes the transport during the handshake sends no connect_error, only a disconnect.
    socket.once('disconnect', (why) => {
      socket.close();
      reject(new Error(`the connection closed during the handshake (${why})`));
    });
  });
  return socket;
}

export async function call<T = unknown>(socket: Socket, method: string, data: unknown): Promise<Ack<T>> {
  return (await socket.timeout(10_000).emitWithAck(method, data)) as Ack<T>;
}

export async function devToken(baseUrl: string, name: string, room: string): Promise<string> {
  const res = await fetch(`${baseUrl}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, room }),
  });
  if (!res.ok) throw new Error(`dev token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Connects, following ROOM_ELSEWHERE redirects to the room's node (or an edge of it), as the SDK does. */
export async function connectFollowing(url: string, token: unknown, hops = 3): Promise<{ socket: Socket; url: string; redirects: string[] }> {
  const redirects: string[] = [];
  for (let at = url; ; ) {
    try {
      return { socket: await connectSignaling(at, token), url: at, redirects };
    } catch (error) {
      const data = (error as { data?: { code: string; url: string } }).data;
      if (data?.code !== 'ROOM_ELSEWHERE' || redirects.length >= hops) throw error;
      redirects.push(data.url);
      at = data.url;
    }
  }
}
