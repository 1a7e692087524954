// One polite live region per page: screen readers hear floor changes and results without losing focus.
import { useSyncExternalStore } from 'react';

/**
 * The latest messages, each its own line: a message is added, never replaced, so two said in quick
 * succession (a vote result and a floor change) are both heard. The oldest go beyond this many.
 */
const KEPT = 3;

interface Message {
  id: number;
  text: string;
}

let messages: readonly Message[] = [];
let nextId = 0;
const listeners = new Set<() => void>();

/** Says `text` politely; the same text twice is said twice (a new line each time). */
export function announce(text: string): void {
  messages = [...messages, { id: nextId++, text }].slice(-KEPT);
  listeners.forEach((fn) => fn());
}

const subscribe = (fn: () => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

export function LiveRegion() {
  const lines = useSyncExternalStore(subscribe, () => messages);
  // aria-relevant: additions only, so the lines that go are not read out.
  return (
    <div className="visually-hidden" role="status" aria-live="polite" aria-relevant="additions" data-testid="live-region">
      {lines.map((m) => (
        <p key={m.id}>{m.text}</p>
      ))}
    </div>
  );
}
