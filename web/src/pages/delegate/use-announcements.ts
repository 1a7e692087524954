// What a screen-reader user hears without moving focus: the floor passing (with the speaker's name), their
// own place on the list, the secretariat's mute and unmute request, the connection dropping and coming back.
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { languageName } from '../../shared/i18n';
import { announce } from '../../shared/live-region';
import { useDelegateStore } from './delegate-store';

export function useDelegateAnnouncements(): void {
  const { t, i18n } = useTranslation();
  const phase = useDelegateStore((s) => s.phase);
  const speaker = useDelegateStore((s) => s.floor.speaker);
  const selfId = useDelegateStore((s) => s.self?.id);
  const position = useDelegateStore((s) => (s.self ? s.floor.queue.findIndex((e) => e.id === s.self?.id) + 1 : 0));
  const moderated = useDelegateStore((s) => s.moderated);
  const unmuteRequested = useDelegateStore((s) => s.unmuteRequested);
  const connection = useDelegateStore((s) => s.connection);
  const speakingTime = useDelegateStore((s) => s.speakingTime);
  const boothSignal = useDelegateStore((s) => s.boothSignal);
  const first = useRef(true);

  useEffect(() => {
    if (phase === 'lobby') announce(t('delegate.lobby'));
    if (phase === 'room') announce(t('delegate.joined'));
  }, [phase, t]);

  const speakerId = speaker?.id ?? null;
  useEffect(() => {
    if (phase !== 'room') return;
    // The floor as it stands on entering is said once; every change after that too.
    if (first.current && !speaker) {
      first.current = false;
      return;
    }
    first.current = false;
    if (!speaker) announce(t('delegate.floor.free'));
    else if (speaker.id === selfId) announce(t('delegate.floor.youHaveFloor'));
    else announce(t('delegate.floor.hasFloor', { name: speaker.name, entity: speaker.entity }));
    // Only a change of holder is news (keyed on its id), not each update of the list.
  }, [speakerId, phase, t]);

  useEffect(() => {
    if (position > 0) announce(t('delegate.floor.position', { position }));
  }, [position, t]);

  useEffect(() => {
    if (moderated) announce(t(`delegate.media.moderated.${moderated}`));
  }, [moderated, t]);

  useEffect(() => {
    if (unmuteRequested) announce(t('delegate.media.unmuteRequested'));
  }, [unmuteRequested, t]);

  useEffect(() => {
    if (phase !== 'room') return;
    if (connection === 'reconnecting') announce(t('delegate.connection.reconnecting'));
  }, [connection, phase, t]);

  useEffect(() => {
    if (speakingTime) announce(t(`delegate.floor.time.${speakingTime}`));
  }, [speakingTime, t]);

  useEffect(() => {
    if (boothSignal) announce(t(`delegate.floor.boothSignal.${boothSignal.kind}`, { language: languageName(boothSignal.language, i18n.language) }));
  }, [boothSignal, t, i18n.language]);
}
