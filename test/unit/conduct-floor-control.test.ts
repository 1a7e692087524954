import { describe, expect, it } from 'vitest';
import { FloorControl } from '../../server/conduct/floor-control.js';
import { nextEvent } from '../helpers/wait.js';

const options = { controlled: true, speakingTimeLimitMs: 60_000, speakingTimeWarningMs: 10_000 };
const who = (id: string, kind: 'speaker' | 'point_of_order' = 'speaker') => ({ id, name: id.toUpperCase(), entity: `E-${id}`, kind });

describe('conduct: the speakers list and the floor', () => {
  it('keeps requests in order; points of order go first, after earlier points of order', () => {
    const floor = new FloorControl(options);
    floor.request(who('ke'));
    floor.request(who('br'));
    floor.request(who('fr', 'point_of_order'));
    floor.request(who('jp', 'point_of_order'));
    floor.request(who('ke')); // asking twice changes nothing
    expect(floor.state().queue.map((e) => e.id)).toEqual(['fr', 'jp', 'ke', 'br']);
    floor.request(who('br', 'point_of_order')); // a listed speaker raising a point of order moves up
    expect(floor.state().queue.map((e) => [e.id, e.kind])).toEqual([
      ['fr', 'point_of_order'],
      ['jp', 'point_of_order'],
      ['br', 'point_of_order'],
      ['ke', 'speaker'],
    ]);
  });

  it('lets the secretariat reorder, remove, give to the next or to anyone listed, and take back', () => {
    const floor = new FloorControl(options);
    for (const id of ['a', 'b', 'c']) floor.request(who(id));
    floor.move('c', 0);
    expect(floor.state().queue.map((e) => e.id)).toEqual(['c', 'a', 'b']);
    expect(floor.withdraw('a')).toBe(true);
    expect(floor.withdraw('zz')).toBe(false);
    const given: string[] = [];
    const taken: string[] = [];
    floor.on('given', (e) => given.push(e.id));
    floor.on('taken', (e) => taken.push(e.id));
    floor.give();
    expect(floor.speakerId).toBe('c');
    floor.give('b'); // giving to the next speaker ends the current turn
    expect(given).toEqual(['c', 'b']);
    expect(taken).toEqual(['c']);
    expect(floor.take()?.id).toBe('b');
    expect(floor.take()).toBeNull();
    expect(() => floor.give()).toThrow(/empty/);
    expect(() => floor.give('nobody')).toThrow(/not on the speakers list/);
    floor.close();
  });

  it('warns before the speaking time ends and says when it is over', async () => {
    const floor = new FloorControl({ controlled: true, speakingTimeLimitMs: 300, speakingTimeWarningMs: 200 });
    floor.request(who('ke'));
    const warning = nextEvent(floor, 'warning', 5000);
    const expired = nextEvent(floor, 'expired', 5000);
    floor.give();
    expect((await warning)[0]).toMatchObject({ id: 'ke' });
    expect((await expired)[0]).toMatchObject({ id: 'ke' });
    floor.close();
  });

  it('restores from a snapshot, and forgets someone who leaves', () => {
    const first = new FloorControl(options);
    first.request(who('a'));
    first.request(who('b'));
    first.give('a');
    const again = new FloorControl(options, first.snapshot());
    first.close();
    expect(again.speakerId).toBe('a');
    expect(again.state().queue.map((e) => e.id)).toEqual(['b']);
    again.forget('a');
    again.forget('b');
    expect(again.state()).toMatchObject({ speaker: null, queue: [] });
    again.close();
  });
});
