// A list that renders only the rows in view (plus a few), for rosters of thousands. Rows have one height.
// Keyboard: the list is one tab stop (roving tabindex); arrows, Home/End and Page Up/Down move between rows,
// scrolling as they go; Tab goes on into the focused row's buttons.
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { nearEnd, nextIndex, scrollTopFor, visibleWindow } from './virtual-list-window';

export interface VirtualListProps<T> {
  items: readonly T[];
  itemKey: (item: T) => string;
  renderRow: (item: T, index: number) => ReactNode;
  /** The list's accessible name. */
  label: string;
  rowHeight: number;
  /** Height of the scrolling area, in pixels. */
  height: number;
  /** How many there are in all (more than `items` while pages are still to come). */
  total?: number;
  /** Called when the rows near the end show: fetch the next page. */
  onNearEnd?: () => void;
  testId?: string;
}

export function VirtualList<T>({ items, itemKey, renderRow, label, rowHeight, height, total, onNearEnd, testId }: VirtualListProps<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useRef(new Map<number, HTMLLIElement>());
  const [scrollTop, setScrollTop] = useState(0);
  const [active, setActive] = useState(0);
  const focusPending = useRef(false);
  const count = items.length;
  const win = visibleWindow({ count, rowHeight, viewportHeight: height, scrollTop });
  const current = Math.min(active, Math.max(0, count - 1));

  useEffect(() => {
    if (onNearEnd && nearEnd(win, count)) onNearEnd();
  }, [win.end, count, onNearEnd]); // win.start does not matter: only reaching the end fetches

  // After a key moved the focus (and the scroll rendered that row), the row takes the focus.
  useLayoutEffect(() => {
    if (!focusPending.current) return;
    const row = rows.current.get(current);
    if (row) {
      focusPending.current = false;
      row.focus({ preventScroll: true });
    }
  });

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    if (!(e.target instanceof HTMLLIElement)) return; // keys inside a row's controls are theirs
    const to = nextIndex(e.key, current, count, Math.floor(height / rowHeight) - 1);
    if (to === undefined) return;
    e.preventDefault();
    const el = scroller.current;
    if (el) {
      const top = scrollTopFor(to, rowHeight, height, el.scrollTop);
      el.scrollTop = top;
      setScrollTop(top);
    }
    focusPending.current = true;
    setActive(to);
  };

  const shown: ReactNode[] = [];
  for (let index = win.start; index < win.end; index++) {
    const item = items[index]!;
    shown.push(
      <li
        key={itemKey(item)}
        ref={(el) => {
          if (el) rows.current.set(index, el);
          else rows.current.delete(index);
        }}
        className="virtual-row"
        tabIndex={index === current ? 0 : -1}
        aria-posinset={index + 1}
        aria-setsize={total ?? count}
        onFocus={(e) => e.target === e.currentTarget && setActive(index)}
        style={{ top: index * rowHeight, height: rowHeight }}
        data-index={index}
      >
        {renderRow(item, index)}
      </li>,
    );
  }

  return (
    <div className="virtual-list" ref={scroller} style={{ height }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} data-testid={testId} data-rendered={win.end - win.start}>
      <ul aria-label={label} onKeyDown={onKeyDown} style={{ height: win.totalHeight }}>
        {shown}
      </ul>
    </div>
  );
}
