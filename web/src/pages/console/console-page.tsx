// /console: the secretariat's console. Sessions (create, schedule, lifecycle, lock); then, for the session
// conducted, the live room (floor and speakers list, lobby, roster, booths) and the records.
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { Layout } from '../../shared/layout';
import { useIdentityStore } from '../../shared/identity-store';
import { announce } from '../../shared/live-region';
import { SignInForm } from '../../shared/sign-in';
import { BoothsPanel } from './booths-panel';
import { boothSignalText, consoleError, errorCodeOf, personLabel } from './console-labels';
import { useConsoleStore } from './console-store';
import { DialInPinPanel } from './dial-in-pin-panel';
import { DocumentsPanel } from './documents-panel';
import { FloorPanel } from './floor-panel';
import { RecordsPanel } from './records-panel';
import { RecordingPanel } from './recording-panel';
import { LobbyPanel, RosterPanel } from './roster-panel';
import { SessionsPanel } from './sessions-panel';
import { useRoomStore } from './room-store';
import { VotesPanel } from './votes-panel';
import './console.css';

/** Floor changes, moderation results and session changes go to the live region. */
function useAnnouncements() {
  const { t, i18n } = useTranslation();
  const speaker = useRoomStore((s) => s.floor.speaker);
  const done = useRoomStore((s) => s.done);
  const sessionDone = useConsoleStore((s) => s.done);
  const speakingTime = useRoomStore((s) => s.speakingTime);
  const lastSpeaker = useRef<string | null | undefined>(undefined);
  useEffect(() => {
    const id = speaker?.id ?? null;
    if (lastSpeaker.current === undefined) {
      lastSpeaker.current = id;
      return;
    }
    if (id === lastSpeaker.current) return;
    lastSpeaker.current = id;
    announce(speaker ? t('console.floor.hasFloor', { person: personLabel(t, speaker) }) : t('console.floor.nobody'));
  }, [speaker, t]);
  useEffect(() => {
    if (done && done.action !== 'giveFloor' && done.action !== 'takeFloor') announce(t(`console.done.${done.action}`, { name: done.name }));
  }, [done, t]);
  useEffect(() => {
    if (sessionDone) announce(t(`console.sessionDone.${sessionDone.what}`, { id: sessionDone.sessionId }));
  }, [sessionDone, t]);
  useEffect(() => {
    if (speakingTime) announce(t(`console.floor.${speakingTime.state}`));
  }, [speakingTime, t]);
  const signal = useRoomStore((s) => s.boothSignals[0]);
  useEffect(() => {
    if (signal) announce(boothSignalText(t, signal, i18n.language));
  }, [signal]); // a new signal only, not a language change

}

function ErrorAlert() {
  const { t } = useTranslation();
  const sessionError = useConsoleStore((s) => s.error);
  const roomError = useRoomStore((s) => s.error);
  const error = roomError ?? sessionError;
  return (
    <div className="alert" role="alert" data-testid="console-error" data-code={errorCodeOf(error)}>
      {error !== undefined ? consoleError(t, error) : ''}
    </div>
  );
}

function Room({ sessionId }: { sessionId: string }) {
  const { t } = useTranslation();
  const status = useRoomStore((s) => s.status);
  const closedReason = useRoomStore((s) => s.closedReason);
  const connect = useRoomStore((s) => s.connect);
  const token = useIdentityStore((s) => s.identity?.token);
  useEffect(() => {
    if (token) void connect(token, sessionId);
    return () => void useRoomStore.getState().disconnect();
  }, [token, sessionId, connect]);
  return (
    <>
      <p className="connection" data-testid="room-status" data-status={status}>
        {status === 'closed' ? t('console.room.closed', { reason: closedReason ?? '' }) : t(`console.room.${status}`)}
        {status === 'closed' && token && (
          <>
            {' '}
            <button type="button" className="secondary" onClick={() => void connect(token, sessionId)} data-testid="reconnect">
              {t('console.room.reconnect')}
            </button>
          </>
        )}
      </p>
      {status === 'connected' && (
        <div className="console-grid">
          <FloorPanel />
          <LobbyPanel />
          <RosterPanel />
          <BoothsPanel />
        </div>
      )}
      {status === 'connected' && <VotesPanel sessionId={sessionId} />}
      <DocumentsPanel sessionId={sessionId} />
      <RecordingPanel sessionId={sessionId} />
      <RecordsPanel sessionId={sessionId} />
    </>
  );
}

function Console() {
  const { t } = useTranslation();
  const identity = useIdentityStore((s) => s.identity)!;
  const signOut = useIdentityStore((s) => s.signOut);
  const start = useConsoleStore((s) => s.start);
  const selected = useConsoleStore((s) => s.selected);
  const api = useConsoleStore((s) => s.api);
  const busy = useConsoleStore((s) => s.busy);
  const sessions = useConsoleStore((s) => s.sessions);
  useEffect(() => {
    void start(identity.token, identity.eventId, new URLSearchParams(window.location.search).get('session') ?? undefined);
  }, [identity.token, identity.eventId, start]);
  return (
    <div>
      <p data-testid="signed-in-as">
        {t('signIn.signedInAs', { name: identity.name })}{' '}
        <button type="button" className="link" onClick={signOut} data-testid="sign-out">
          {t('signIn.signOut')}
        </button>
      </p>
      <ErrorAlert />
      {busy && !sessions && <p>{t('console.loading')}</p>}
      <SessionsPanel />
      {api && selected && <Room key={selected} sessionId={selected} />}
      {api && <DialInPinPanel />}
    </div>
  );
}

export function ConsolePage() {
  const { t, i18n } = useTranslation();
  const identity = useIdentityStore((s) => s.identity);
  useAnnouncements();
  useEffect(() => {
    document.title = `${t('console.title')} — ${t('app.name')}`;
  }, [t, i18n.language]);
  return <Layout title={t('console.title')}>{identity ? <Console /> : <SignInForm />}</Layout>;
}
