// The booth chat: a log screen readers follow (role=log), and a one-line form.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useBoothStore } from './booth-store';

export function BoothChat() {
  const { t, i18n } = useTranslation();
  const { selfId, sendChat } = useBoothStore();
  const booth = useBoothStore((s) => s.booth);
  const chat = useBoothStore((s) => s.chat).filter((m) => m.language === booth);
  const [text, setText] = useState('');
  const time = new Intl.DateTimeFormat(i18n.language, { timeStyle: 'short' });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const message = text.trim();
    if (!message) return;
    setText('');
    void sendChat(message);
  };
  return (
    <section className="booth-panel" aria-labelledby="booth-chat-heading">
      <h2 id="booth-chat-heading">{t('booth.chat.heading')}</h2>
      <div className="booth-chat-log" role="log" aria-labelledby="booth-chat-heading" data-testid="chat-log" tabIndex={0}>
        <ol>
          {chat.map((m) => (
            <li key={m.id} data-testid="chat-message" data-mine={m.fromId === selfId}>
              <time dateTime={new Date(m.at).toISOString()}>{time.format(m.at)}</time> <strong>{m.fromId === selfId ? t('booth.chat.you') : <bdi>{m.name}</bdi>}</strong>: <bdi>{m.text}</bdi>
            </li>
          ))}
        </ol>
      </div>
      <form className="booth-row" onSubmit={submit} data-testid="chat-form">
        <label className="booth-grow">
          {t('booth.chat.message')}{' '}
          <input type="text" maxLength={1000} autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} data-testid="chat-input" />
        </label>
        <button type="submit" data-testid="chat-send">
          {t('booth.chat.send')}
        </button>
      </form>
    </section>
  );
}
