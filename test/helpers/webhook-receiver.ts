import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../accreditation/webhook-signature.js';

/** A real HTTP endpoint receiving the server's outgoing webhooks; it checks each signature. */
export class WebhookReceiver {
  readonly events: Array<{ id: string; type: string; data: Record<string, unknown>; validSignature: boolean }> = [];
  /** Answer 500 to this many requests first (retry tests). */
  failNext = 0;
  attempts = 0;

  private constructor(
    private readonly server: Server,
    private readonly secret: string,
  ) {}

  /** `port`: a fixed one, to come back where a stopped receiver was (outbox tests); a free one by default. */
  static async start(secret: string, port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(createServer(), secret);
    receiver.server.on('request', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        receiver.attempts += 1;
        if (receiver.failNext > 0) {
          receiver.failNext -= 1;
          res.writeHead(500).end();
          return;
        }
        const parsed = JSON.parse(body) as { id: string; type: string; data: Record<string, unknown> };
        receiver.events.push({ ...parsed, validSignature: verifyWebhook(receiver.secret, body, req.headers['x-plenum-signature'] as string | undefined) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
