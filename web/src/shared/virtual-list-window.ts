// The arithmetic of a virtualised list with rows of one height: which rows to render for a scroll position,
// where to scroll to bring a row into view, and where a key press moves the focus. Pure, so it is tested
// without a DOM (test/unit/webapp-console-virtual-list.test.ts).

export interface WindowInput {
  count: number;
  rowHeight: number;
  viewportHeight: number;
  scrollTop: number;
  /** Rows rendered beyond each edge, so a fast scroll shows no gap. */
  overscan?: number;
}

export interface ListWindow {
  /** First rendered row (inclusive) and the one after the last (exclusive). */
  start: number;
  end: number;
  /** The rendered rows' offset from the top of the list, in pixels. */
  offset: number;
  /** Height of the whole list, so the scrollbar says how long it is. */
  totalHeight: number;
}

export function visibleWindow({ count, rowHeight, viewportHeight, scrollTop, overscan = 5 }: WindowInput): ListWindow {
  const totalHeight = count * rowHeight;
  if (count === 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0, totalHeight };
  const top = Math.min(Math.max(0, scrollTop), Math.max(0, totalHeight - viewportHeight));
  const first = Math.floor(top / rowHeight);
  const last = Math.ceil((top + Math.max(viewportHeight, rowHeight)) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, last + overscan);
  return { start, end, offset: start * rowHeight, totalHeight };
}

/** The scroll position that shows row `index` whole, moving as little as possible (unchanged if it already shows). */
export function scrollTopFor(index: number, rowHeight: number, viewportHeight: number, scrollTop: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/** Where focus goes from row `current` on a key (ArrowUp/Down, Home, End, PageUp/Down); undefined: not a list key. */
export function nextIndex(key: string, current: number, count: number, pageSize: number): number | undefined {
  if (count === 0) return undefined;
  const clamp = (i: number) => Math.min(count - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowDown':
      return clamp(current + 1);
    case 'ArrowUp':
      return clamp(current - 1);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    case 'PageDown':
      return clamp(current + Math.max(1, pageSize));
    case 'PageUp':
      return clamp(current - Math.max(1, pageSize));
    default:
      return undefined;
  }
}

/** Whether the rows near the end show, so the next page should be fetched (infinite paging). */
export function nearEnd(window: Pick<ListWindow, 'end'>, count: number, margin = 10): boolean {
  return count > 0 && window.end >= count - margin;
}
