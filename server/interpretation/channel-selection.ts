import type { types } from 'mediasoup';

/**
 * Applies a listener's channel choice to their consumers: the floor and the chosen language flow, every
 * other language channel is paused. Nothing is created or renegotiated, so a switch costs one resume.
 */
export async function applyChannelSelection(consumers: Iterable<types.Consumer>, channel: string): Promise<void> {
  await Promise.all(
    [...consumers].map((c) => {
      const own = c.appData.channel as string | undefined;
      const wanted = own === undefined || own === 'floor' || own === channel;
      if (wanted && c.paused) return c.resume();
      if (!wanted && !c.paused) return c.pause();
      return undefined;
    }),
  );
}
