// Before joining: the camera preview, the microphone's level, a speaker test, the devices, audio only.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { canChooseSpeaker, playTestTone } from '../../shared/media-devices';
import { MediaLevelMeter } from '../../shared/media-level-meter';
import { MediaVideo } from '../../shared/media-video';
import { useDelegateStore } from './delegate-store';

export function DevicePicker({ kind, devices, value, onChange }: { kind: 'mic' | 'camera' | 'speaker'; devices: MediaDeviceInfo[]; value: string | undefined; onChange: (id: string) => void }) {
  const { t } = useTranslation();
  if (devices.length === 0) return null;
  return (
    <label className="field">
      <span>{t(`delegate.devices.${kind}`)}</span>
      <select value={value ?? devices[0]?.deviceId ?? ''} onChange={(e) => onChange(e.target.value)} data-testid={`${kind}-select`}>
        {devices.map((d, i) => (
          <option key={d.deviceId || i} value={d.deviceId}>
            {d.label || t(`delegate.devices.unnamed.${kind}`, { n: i + 1 })}
          </option>
        ))}
      </select>
    </label>
  );
}

export function SpeakerTest({ speakerId }: { speakerId: string | undefined }) {
  const { t } = useTranslation();
  const [playing, setPlaying] = useState(false);
  const play = () => {
    setPlaying(true);
    void playTestTone(speakerId).finally(() => setPlaying(false));
  };
  return (
    <button type="button" className="secondary" onClick={play} disabled={playing} aria-describedby="speaker-test-hint" data-testid="speaker-test">
      {playing ? t('delegate.prejoin.speakerTestPlaying') : t('delegate.prejoin.speakerTest')}
    </button>
  );
}

export function PreJoin() {
  const { t } = useTranslation();
  const s = useDelegateStore();
  const canPublish = s.answer?.grants.publishFloor ?? false;
  const { startPreview, stopPreview } = s;
  useEffect(() => {
    void startPreview();
    return () => stopPreview();
  }, [startPreview, stopPreview]);
  const video = s.preview?.getVideoTracks()[0];
  const audio = s.preview?.getAudioTracks()[0];
  const participant = s.answer?.participant;
  return (
    <section className="panel prejoin" data-testid="prejoin" aria-labelledby="prejoin-heading">
      <h2 id="prejoin-heading">{t('delegate.prejoin.heading', { title: s.answer?.session.title ?? '' })}</h2>
      {participant && <p data-testid="prejoin-self">{t('delegate.personLabel', { name: participant.name, entity: participant.entity.name })}</p>}
      {s.answer?.decision === 'lobby' && <p className="notice">{t('delegate.prejoin.throughLobby')}</p>}
      {!canPublish && <p className="notice">{t('delegate.prejoin.listenOnly')}</p>}
      <div className="prejoin-grid">
        {canPublish && (
          <div className="preview">
            {video ? (
              <MediaVideo track={video} className="preview-video" aria-label={t('delegate.prejoin.preview')} data-testid="preview-video" />
            ) : (
              <p className="preview-off" data-testid="preview-off">
                {s.audioOnly ? t('delegate.prejoin.cameraOff') : s.previewError ? t('delegate.prejoin.noDevices', { name: s.previewError }) : t('delegate.prejoin.opening')}
              </p>
            )}
            <MediaLevelMeter track={audio} label={t('delegate.prejoin.micLevel')} data-testid="mic-level" />
          </div>
        )}
        <div className="prejoin-settings">
          {canPublish && (
            <>
              <DevicePicker kind="mic" devices={s.devices.microphones} value={s.micId} onChange={(id) => void s.chooseDevice('mic', id)} />
              {!s.audioOnly && <DevicePicker kind="camera" devices={s.devices.cameras} value={s.cameraId} onChange={(id) => void s.chooseDevice('camera', id)} />}
            </>
          )}
          {canChooseSpeaker() && <DevicePicker kind="speaker" devices={s.devices.speakers} value={s.speakerId} onChange={(id) => void s.chooseDevice('speaker', id)} />}
          <div className="speaker-test">
            <SpeakerTest speakerId={s.speakerId} />
            <span id="speaker-test-hint" className="hint">
              {t('delegate.prejoin.speakerTestHint')}
            </span>
          </div>
          {canPublish && (
            <label className="check">
              <input type="checkbox" checked={s.audioOnly} onChange={(e) => void s.setAudioOnly(e.target.checked)} data-testid="audio-only" />
              {t('delegate.prejoin.audioOnly')}
            </label>
          )}
          <p>
            <button type="button" className="primary" onClick={() => void s.join()} data-testid="join">
              {t('delegate.prejoin.join')}
            </button>
          </p>
        </div>
      </div>
    </section>
  );
}
