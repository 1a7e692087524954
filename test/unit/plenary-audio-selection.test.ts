import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { describe, expect, it } from 'vitest';
import type { AudioLevel, AudioLevels } from '../../media/index.js';
import { AudioSelection, type AudioSelectionOptions } from '../../server/rooms/audio-selection.js';
import { testLog } from '../helpers/media.js';

// The selection's hysteresis on a clock of the test's own: the levels are what mediasoup's observer would
// report each interval (loudest first). The real observer is exercised in test/integration/plenary-audio.test.ts.

const options: AudioSelectionOptions = { mode: 'selective', voices: 3, holdMs: 1000, intervalMs: 200, joinAfterIntervals: 2 };

function setup(controlled = false, heard: (ownerId: string) => boolean = () => true) {
  let now = 0;
  const levels = Object.assign(new EventEmitter(), { add: async () => undefined, close: () => undefined }) as unknown as AudioLevels;
  const selection = new AudioSelection(options, { controlled, mayBeHeard: heard }, async () => levels, testLog, () => now);
  const events: string[] = [];
  selection.on('audible', (p) => events.push(`+${p.id}`));
  selection.on('inaudible', (p) => events.push(`-${p.id}`));
  const mic = (id: string) => selection.track({ id, kind: 'audio', closed: false, appData: { channel: 'floor' } } as unknown as types.Producer, `owner-${id}`);
  const report = async (...ids: string[]) => {
    await Promise.resolve(); // the observer is made asynchronously
    now += options.intervalMs;
    levels.emit('levels', ids.map((producerId, i): AudioLevel => ({ producerId, volume: -10 - i })));
  };
  const tick = (ms: number) => {
    now += ms;
    selection.refresh();
  };
  return { selection, events, mic, report, tick, audible: () => selection.audibleIds().sort() };
}

describe('plenary audio selection: hysteresis on an open floor', () => {
  it('a room with no more microphones than voices hears them all', () => {
    const s = setup();
    for (const id of ['a', 'b', 'c']) s.mic(id);
    expect(s.audible()).toEqual(['a', 'b', 'c']);
  });

  it('a voice joins after two measurements among the loudest, and a short burst does not get in', async () => {
    const s = setup();
    for (const id of ['a', 'b', 'c', 'd', 'e']) s.mic(id);
    s.tick(options.holdMs); // the first three, silent since they were added, leave
    expect(s.audible()).toEqual([]);
    await s.report('d');
    expect(s.audible()).toEqual([]); // one measurement: not yet
    await s.report('e');
    await s.report('e');
    expect(s.audible()).toEqual(['e']); // d's streak was broken
    await s.report('e', 'd');
    await s.report('e', 'd');
    expect(s.audible()).toEqual(['d', 'e']);
  });

  it('at most three voices; a member leaves only after the hold time out of the loudest, then the waiting voice takes its place', async () => {
    const s = setup();
    for (const id of ['a', 'b', 'c', 'd', 'e']) s.mic(id);
    s.tick(options.holdMs);
    for (let i = 0; i < 2; i++) await s.report('a', 'b', 'c', 'd');
    expect(s.audible()).toEqual(['a', 'b', 'c']); // d is 4th: never among the three loudest
    // d speaks louder than c: c is out of the top but held; d waits.
    for (let t = 0; t + options.intervalMs < options.holdMs; t += options.intervalMs) {
      await s.report('a', 'b', 'd', 'c');
      expect(s.audible()).toEqual(['a', 'b', 'c']);
    }
    await s.report('a', 'b', 'd', 'c');
    expect(s.audible()).toEqual(['a', 'b', 'd']);
    expect(s.events.slice(-2)).toEqual(['-c', '+d']); // the old one leaves before the new one is announced
  });

  it('a muted voice (not to be heard) leaves at once', async () => {
    const muted = new Set<string>();
    const s = setup(false, (owner) => !muted.has(owner));
    for (const id of ['a', 'b', 'c', 'd', 'e']) s.mic(id);
    s.tick(options.holdMs);
    for (let i = 0; i < 2; i++) await s.report('a', 'b', 'c');
    expect(s.audible()).toEqual(['a', 'b', 'c']);
    muted.add('owner-b');
    s.selection.refresh();
    expect(s.audible()).toEqual(['a', 'c']);
  });
});

describe('plenary audio selection: moderated floor', () => {
  it('exactly those who may be heard, whatever the levels', async () => {
    let speaker = 'owner-a';
    const s = setup(true, (owner) => owner === speaker || owner === 'owner-chair');
    for (const id of ['a', 'b', 'c', 'd', 'chair']) s.mic(id);
    expect(s.audible()).toEqual(['a', 'chair']);
    await s.report('b', 'c', 'd');
    await s.report('b', 'c', 'd');
    expect(s.audible()).toEqual(['a', 'chair']);
    speaker = 'owner-d';
    s.selection.refresh();
    expect(s.audible()).toEqual(['chair', 'd']);
    expect(s.events.slice(-2)).toEqual(['-a', '+d']);
  });
});
