// A button acting on one person: its visible text, then the person's "name — entity" for screen readers,
// so its accessible name starts with what is seen (WCAG 2.5.3) and still says who it acts on.
import type { ButtonHTMLAttributes } from 'react';

export function PersonButton({ text, person, className = 'secondary', ...rest }: { text: string; person: string } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button type="button" className={className} {...rest}>
      {text}
      <span className="visually-hidden"> {person}</span>
    </button>
  );
}
