// "Hold to cough": pressed while a pointer (mouse, touch, pen) or a key is held on the button, or while the
// shortcut key is held anywhere outside a text field; always released on pointer loss, key up or window blur.
import { useEffect, useRef, type KeyboardEvent, type PointerEvent } from 'react';

const isTextField = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export function useHold(onChange: (held: boolean) => void, shortcutCode: string, enabled: boolean) {
  const held = useRef(false);
  const change = useRef(onChange);
  change.current = onChange;

  const press = (on: boolean) => {
    if (held.current === on) return;
    if (on && !enabled) return;
    held.current = on;
    change.current(on);
  };
  const pressRef = useRef(press);
  pressRef.current = press;

  useEffect(() => {
    const down = (e: globalThis.KeyboardEvent) => {
      if (e.code !== shortcutCode || e.repeat || e.ctrlKey || e.metaKey || e.altKey || isTextField(e.target)) return;
      e.preventDefault();
      pressRef.current(true);
    };
    const up = (e: globalThis.KeyboardEvent) => e.code === shortcutCode && pressRef.current(false);
    const release = () => pressRef.current(false);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', release);
    document.addEventListener('visibilitychange', release);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', release);
      document.removeEventListener('visibilitychange', release);
    };
  }, [shortcutCode]);

  // Off air (a handover, the secretariat): whatever is held no longer counts.
  useEffect(() => {
    if (!enabled) held.current = false;
  }, [enabled]);

  return {
    onPointerDown: (e: PointerEvent<HTMLButtonElement>) => {
      e.currentTarget.setPointerCapture(e.pointerId);
      press(true);
    },
    onPointerUp: () => press(false),
    onPointerCancel: () => press(false),
    onLostPointerCapture: () => press(false),
    onKeyDown: (e: KeyboardEvent<HTMLButtonElement>) => {
      if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
        e.preventDefault();
        press(true);
      }
    },
    onKeyUp: (e: KeyboardEvent<HTMLButtonElement>) => {
      if (e.key === ' ' || e.key === 'Enter') press(false);
    },
    onContextMenu: (e: { preventDefault(): void }) => e.preventDefault(), // a long touch must not open a menu
  };
}
