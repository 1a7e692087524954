// Alt+M (microphone) and Alt+V (camera), by physical key so they work on every keyboard layout (Arabic,
// Russian, Chinese input methods...). Never while typing: a focused text field keeps its keys.
import { useEffect } from 'react';

const TYPING = new Set(['INPUT', 'TEXTAREA']);

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (!TYPING.has(target.tagName)) return false;
  // Checkboxes, ranges and buttons take no text.
  return !(target instanceof HTMLInputElement) || !['checkbox', 'radio', 'range', 'button', 'submit'].includes(target.type);
}

export function useShortcuts(enabled: boolean, actions: { mic: () => void; camera: () => void }): void {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || e.repeat || isTyping(e.target)) return;
      const action = e.code === 'KeyM' ? actions.mic : e.code === 'KeyV' ? actions.camera : undefined;
      if (!action) return;
      e.preventDefault();
      action();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled, actions.mic, actions.camera]);
}
