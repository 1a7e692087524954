// One polite live region per page: screen readers hear floor changes and results without losing focus.
import { useSyncExternalStore } from 'react';

let message = '';
const listeners = new Set<() => void>();

/** Says `text` politely. The same text twice is still said again (cleared first, then set). */
export function announce(text: string): void {
  message = '';
  listeners.forEach((fn) => fn());
  queueMicrotask(() => {
    message = text;
    listeners.forEach((fn) => fn());
  });
}

const subscribe = (fn: () => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

export function LiveRegion() {
  const text = useSyncExternalStore(subscribe, () => message);
  return (
    <div className="visually-hidden" role="status" aria-live="polite" data-testid="live-region">
      {text}
    </div>
  );
}
