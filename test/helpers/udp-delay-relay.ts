import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/**
 * A userspace UDP relay that adds a fixed delay each way (the kernel here has no netem). It listens on
 * `listen` (the address the server announces in its ICE candidates) and forwards each client, from a
 * socket of its own, to `target` (where the server's WebRtcServer really listens); answers go back to
 * the client the same way. `delayed(remote)` chooses which clients are delayed (the others pass at once).
 */
export class UdpDelayRelay {
  private readonly upstreams = new Map<string, Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** One-way delay in ms. */
  delayMs = 0;

  private constructor(
    private readonly front: Socket,
    private readonly target: { address: string; port: number },
    private readonly delayed: (remote: RemoteInfo) => boolean,
  ) {
    front.on('message', (msg, remote) => this.fromClient(msg, remote));
  }

  /** Binds `listen` (port 0: a free port, read it from `port`). */
  static async start(listen: { address: string; port: number }, target: { address: string; port: number }, delayed: (remote: RemoteInfo) => boolean): Promise<UdpDelayRelay> {
    const front = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(listen.port, listen.address, () => resolve());
    });
    return new UdpDelayRelay(front, target, delayed);
  }

  get port(): number {
    return this.front.address().port;
  }

  /** Where the relay forwards to; set once the server's port is known. */
  setTarget(port: number): void {
    this.target.port = port;
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.upstreams.values()) s.close();
    this.upstreams.clear();
    this.front.close();
  }

  private later(remote: RemoteInfo, send: () => void): void {
    const ms = this.delayed(remote) ? this.delayMs : 0;
    if (ms <= 0) return send();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, ms);
    this.timers.add(timer);
  }

  private fromClient(msg: Buffer, remote: RemoteInfo): void {
    const key = `${remote.address}:${remote.port}`;
    let up = this.upstreams.get(key);
    if (!up) {
      const socket = createSocket('udp4');
      socket.on('error', () => undefined);
      socket.on('message', (answer) => this.later(remote, () => this.front.send(answer, remote.port, remote.address)));
      socket.bind(0, '127.0.0.1');
      this.upstreams.set(key, socket);
      up = socket;
    }
    const socket = up;
    this.later(remote, () => socket.send(msg, this.target.port, this.target.address));
  }
}
