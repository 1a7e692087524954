import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on a free loopback port that the test controls: it can point at another target (a
 * database's floating address after a failover) or black-hole traffic (a partition: connections stay open,
 * nothing passes), and cut every connection it carries.
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private blackHoled = false;

  private constructor(
    private readonly server: Server,
    private target: { host: string; port: number },
  ) {}

  static async start(target: { host?: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, { host: target.host ?? '127.0.0.1', port: target.port });
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** New connections go to `port` from now on; existing ones are cut (as a moved address would do). */
  retarget(port: number, host = '127.0.0.1'): void {
    this.target = { host, port };
    this.cutAll();
  }

  /** Stops forwarding: bytes in either direction are dropped, connections stay open (a silent partition). */
  blackHole(on = true): void {
    this.blackHoled = on;
  }

  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!this.blackHoled) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }
}
