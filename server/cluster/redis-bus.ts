import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { BusEnvelopes } from './bus-envelope.js';
import { SignedBus } from './cluster-bus.js';
import { CoordinatorUnavailableError } from './coordinator.js';

/**
 * The cluster bus on Redis pub/sub: one connection publishes (shared with the coordinator), a second one
 * subscribes, as Redis requires. Each node listens on its own inbox channel for requests and replies.
 * After Redis comes back, ioredis restores the subscriptions and the bus says `resubscribed`, so that
 * followers of a topic fetch what they missed. Anyone who can publish to Redis can put a message on a
 * channel: `SignedBus` drops whatever its cluster key did not sign.
 */
export class RedisBus extends SignedBus {
  private readonly subscriber: Redis;
  private wasReady = false;

  constructor(nodeId: string, envelopes: BusEnvelopes, private readonly publisher: Redis, log: Logger, prefix = 'plenum:') {
    super(nodeId, envelopes, log, prefix);
    // A dedicated connection: a subscribed connection can issue no other command. It queues while
    // disconnected (unlike the coordinator's) so that subscriptions survive an outage. No ready check: a
    // SUBSCRIBE sent between connect and ready puts the connection in subscriber mode, the check's INFO is
    // then refused, and ioredis fails every queued subscription (the inbox's among them).
    this.subscriber = publisher.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, enableReadyCheck: false });
    this.subscriber.on('error', (error: Error) => log.debug({ err: error.message }, 'bus subscriber error'));
    this.subscriber.on('ready', () => {
      if (this.wasReady) this.emit('resubscribed');
      this.wasReady = true;
    });
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
    this.started = this.listen(this.inbox(nodeId)).catch((error: Error) => log.warn({ err: error.message }, 'bus inbox subscription failed'));
  }

  override async close(): Promise<void> {
    await super.close();
    this.subscriber.disconnect();
  }

  protected async transmit(channel: string, payload: string): Promise<number> {
    try {
      return await this.publisher.publish(channel, payload);
    } catch (error) {
      throw new CoordinatorUnavailableError(`bus unavailable: ${(error as Error).message}`, { cause: error });
    }
  }

  protected async listen(channel: string): Promise<void> {
    await this.subscriber.subscribe(channel);
  }

  protected async unlisten(channel: string): Promise<void> {
    await this.subscriber.unsubscribe(channel);
  }
}
