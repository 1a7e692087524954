import { describe, expect, it } from 'vitest';
import { nearEnd, nextIndex, scrollTopFor, visibleWindow } from '../../web/src/shared/virtual-list-window.js';

// The console's roster list (web/src/shared/virtual-list.tsx) renders only the rows in view: its arithmetic.
const ROW = 56;
const VIEW = 448; // 8 rows

describe('visibleWindow', () => {
  it('renders a window of rows, not 10,000, wherever the list is scrolled', () => {
    for (const scrollTop of [0, 1, ROW * 123 + 17, ROW * 5000, ROW * 9992, ROW * 20_000]) {
      const w = visibleWindow({ count: 10_000, rowHeight: ROW, viewportHeight: VIEW, scrollTop, overscan: 5 });
      expect(w.end - w.start, `at ${scrollTop}`).toBeLessThanOrEqual(8 + 1 + 10);
      expect(w.end - w.start, `at ${scrollTop}`).toBeGreaterThanOrEqual(8);
      expect(w.totalHeight).toBe(10_000 * ROW);
      expect(w.offset).toBe(w.start * ROW);
      // The rows in view are among those rendered.
      const top = Math.min(scrollTop, 10_000 * ROW - VIEW);
      expect(w.start).toBeLessThanOrEqual(Math.floor(top / ROW));
      expect(w.end).toBeGreaterThanOrEqual(Math.min(10_000, Math.ceil((top + VIEW) / ROW)));
    }
  });

  it('stays inside the list at both ends, and is empty for an empty list', () => {
    expect(visibleWindow({ count: 10_000, rowHeight: ROW, viewportHeight: VIEW, scrollTop: -50 })).toMatchObject({ start: 0 });
    expect(visibleWindow({ count: 10_000, rowHeight: ROW, viewportHeight: VIEW, scrollTop: 1e9 }).end).toBe(10_000);
    expect(visibleWindow({ count: 3, rowHeight: ROW, viewportHeight: VIEW, scrollTop: 0 })).toEqual({ start: 0, end: 3, offset: 0, totalHeight: 3 * ROW });
    expect(visibleWindow({ count: 0, rowHeight: ROW, viewportHeight: VIEW, scrollTop: 0 })).toEqual({ start: 0, end: 0, offset: 0, totalHeight: 0 });
  });
});

describe('keyboard navigation', () => {
  it('moves by one, by a page, to the ends, and never past them', () => {
    expect(nextIndex('ArrowDown', 0, 10_000, 7)).toBe(1);
    expect(nextIndex('ArrowUp', 0, 10_000, 7)).toBe(0);
    expect(nextIndex('ArrowDown', 9_999, 10_000, 7)).toBe(9_999);
    expect(nextIndex('PageDown', 10, 10_000, 7)).toBe(17);
    expect(nextIndex('PageUp', 3, 10_000, 7)).toBe(0);
    expect(nextIndex('End', 3, 10_000, 7)).toBe(9_999);
    expect(nextIndex('Home', 5_000, 10_000, 7)).toBe(0);
    expect(nextIndex('Enter', 5, 10_000, 7)).toBeUndefined();
    expect(nextIndex('ArrowDown', 0, 0, 7)).toBeUndefined();
  });

  it('scrolls just enough to show the focused row, which is then rendered', () => {
    // Already in view: no scroll.
    expect(scrollTopFor(3, ROW, VIEW, 0)).toBe(0);
    // Below: its bottom edge at the bottom of the view.
    expect(scrollTopFor(8, ROW, VIEW, 0)).toBe(9 * ROW - VIEW);
    // Above: its top at the top.
    expect(scrollTopFor(10, ROW, VIEW, 50 * ROW)).toBe(10 * ROW);
    // End of 10,000: the last row is rendered after the scroll.
    const top = scrollTopFor(9_999, ROW, VIEW, 0);
    const w = visibleWindow({ count: 10_000, rowHeight: ROW, viewportHeight: VIEW, scrollTop: top });
    expect(w.start).toBeLessThanOrEqual(9_999);
    expect(w.end).toBe(10_000);
  });

  it('asks for the next page only near the end of what is loaded', () => {
    const at = (scrollTop: number) => visibleWindow({ count: 200, rowHeight: ROW, viewportHeight: VIEW, scrollTop });
    expect(nearEnd(at(0), 200)).toBe(false);
    expect(nearEnd(at(185 * ROW), 200)).toBe(true);
    expect(nearEnd(at(0), 0)).toBe(false);
  });
});
