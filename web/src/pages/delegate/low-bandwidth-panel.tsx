// Low bandwidth (docs/LOW-BANDWIDTH.md): the audio-only switch (aria-pressed, its state in words) and what the
// server does with this delegate's video on a weak link (lowest quality, paused, back), shown and announced.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AudioOnlyState } from '../../../../client-sdk/src/audio-only';
import { announce } from '../../shared/live-region';
import { meetingClient } from './delegate-store';

export function LowBandwidthPanel() {
  const { t } = useTranslation();
  const client = meetingClient();
  const [state, setState] = useState<AudioOnlyState>(() => client?.audioOnly ?? { audioOnly: false, videoFallback: 'full' });
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!client) return;
    setState(client.audioOnly);
    let last = client.audioOnly;
    return client.on('audioOnly', (next) => {
      // Said only when it changes; the video's state is news only when video is wanted at all.
      if (next.audioOnly !== last.audioOnly) announce(t(next.audioOnly ? 'bandwidth.audioOnly.on' : 'bandwidth.audioOnly.off'));
      else if (!next.audioOnly && next.videoFallback !== last.videoFallback) announce(t(`bandwidth.video.${next.videoFallback}`));
      last = next;
      setState(next);
    });
  }, [client, t]);

  if (!client) return null;
  const toggle = async () => {
    setBusy(true);
    try {
      await client.setAudioOnly(!state.audioOnly);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="low-bandwidth" aria-labelledby="low-bandwidth-heading" data-testid="low-bandwidth">
      <h2 id="low-bandwidth-heading">{t('bandwidth.heading')}</h2>
      <div className="toggle">
        <button
          type="button"
          className={state.audioOnly ? 'toggle-on' : 'toggle-off'}
          aria-pressed={state.audioOnly}
          aria-describedby="audio-only-state"
          disabled={busy}
          onClick={() => void toggle()}
          data-testid="audio-only-toggle"
        >
          {t('bandwidth.audioOnly.label')}
        </button>
        <span id="audio-only-state" className="toggle-state" data-testid="audio-only-state" data-state={state.audioOnly ? 'on' : 'off'}>
          {t(state.audioOnly ? 'bandwidth.audioOnly.stateOn' : 'bandwidth.audioOnly.stateOff')}
        </span>
      </div>
      {!state.audioOnly && state.videoFallback !== 'full' && (
        <p className="notice warning" data-testid="video-fallback" data-state={state.videoFallback}>
          {t(`bandwidth.video.${state.videoFallback}`)}
        </p>
      )}
      <p className="hint">{t('bandwidth.hint')}</p>
    </section>
  );
}
