// What the live region says on the booth page: the floor changing hands, handovers, who is on air.
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { announce } from '../../shared/live-region';
import { useBoothStore } from './booth-store';

export function useBoothAnnouncements() {
  const { t } = useTranslation();
  const speaker = useBoothStore((s) => s.speaker);
  const boothState = useBoothStore((s) => s.boothState);
  const selfId = useBoothStore((s) => s.selfId);
  const seen = useRef<{ speaker?: string | null; live?: string | null; handover?: string }>({});

  useEffect(() => {
    const id = speaker?.id ?? null;
    if (seen.current.speaker === id) return;
    const first = seen.current.speaker === undefined;
    seen.current.speaker = id;
    if (!first || id) announce(speaker ? t('booth.announce.speaker', { name: speaker.name }) : t('booth.announce.nobodySpeaks'));
  }, [speaker, t]);

  useEffect(() => {
    if (!boothState || !selfId) return;
    const nameOf = (id: string) => boothState.interpreters.find((i) => i.id === id)?.name ?? '';
    const messages: string[] = [];
    if (seen.current.live !== boothState.live) {
      const first = seen.current.live === undefined;
      seen.current.live = boothState.live;
      if (boothState.live === selfId) messages.push(t('booth.announce.youLive'));
      else if (boothState.live) messages.push(t('booth.announce.partnerLive', { name: nameOf(boothState.live) }));
      else if (!first) messages.push(t('booth.announce.nobodyLive'));
    }
    const h = boothState.handover;
    const key = h ? `${h.kind}:${h.from}:${h.since}` : '';
    if (seen.current.handover !== key) {
      seen.current.handover = key;
      if (h && h.from !== selfId) messages.push(t(h.kind === 'offer' ? 'booth.partner.offers' : 'booth.partner.requests', { name: nameOf(h.from) }));
    }
    if (messages.length > 0) announce(messages.join(' '));
  }, [boothState, selfId, t]);
}
