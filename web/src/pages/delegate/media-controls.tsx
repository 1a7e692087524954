// The own microphone and camera: toggle buttons (aria-pressed, Alt+M / Alt+V), their state in words, the
// secretariat's mute and its request to unmute (with the button that does it).
import { useTranslation } from 'react-i18next';
import type { LocalMediaState } from '../../../../client-sdk/src/meeting-client';
import { MediaLevelMeter } from '../../shared/media-level-meter';
import { useDelegateStore } from './delegate-store';
import { DevicePicker } from './pre-join';
import { useShortcuts } from './use-shortcuts';

function Toggle({ source, state, onToggle }: { source: 'mic' | 'camera'; state: LocalMediaState; onToggle: () => void }) {
  const { t } = useTranslation();
  const held = state === 'muted-by-secretariat';
  const stateId = `${source}-state`;
  return (
    <div className="toggle" data-state={state}>
      <button
        type="button"
        className={state === 'on' ? 'toggle-on' : 'toggle-off'}
        aria-pressed={state === 'on'}
        aria-describedby={stateId}
        aria-keyshortcuts={source === 'mic' ? 'Alt+M' : 'Alt+V'}
        aria-disabled={held}
        onClick={() => !held && onToggle()}
        data-testid={`${source}-toggle`}
      >
        {t(`delegate.media.${source}`)}
      </button>
      <span id={stateId} className="toggle-state" data-testid={stateId} data-state={state}>
        {t(`delegate.media.state.${state}`)}
      </span>
    </div>
  );
}

export function MediaControls() {
  const { t } = useTranslation();
  const localMedia = useDelegateStore((s) => s.localMedia);
  const ownMic = useDelegateStore((s) => s.ownMic);
  const unmuteRequested = useDelegateStore((s) => s.unmuteRequested);
  const moderated = useDelegateStore((s) => s.moderated);
  const actionError = useDelegateStore((s) => s.actionError);
  const controlled = useDelegateStore((s) => s.floor.controlled);
  const canPublish = useDelegateStore((s) => s.answer?.grants.publishFloor ?? false);
  const toggleMic = useDelegateStore((s) => s.toggleMic);
  const toggleCamera = useDelegateStore((s) => s.toggleCamera);
  const acceptUnmute = useDelegateStore((s) => s.acceptUnmute);
  const chooseDevice = useDelegateStore((s) => s.chooseDevice);
  const devices = useDelegateStore((s) => s.devices);
  const micId = useDelegateStore((s) => s.micId);
  const cameraId = useDelegateStore((s) => s.cameraId);
  useShortcuts(canPublish, { mic: toggleMic, camera: toggleCamera });
  if (!canPublish) return <p className="notice">{t('delegate.prejoin.listenOnly')}</p>;
  return (
    <section className="media-controls" aria-labelledby="media-heading">
      <h2 id="media-heading">{t('delegate.media.heading')}</h2>
      <div className="row">
        <Toggle source="mic" state={localMedia.mic} onToggle={() => void toggleMic()} />
        <Toggle source="camera" state={localMedia.camera} onToggle={() => void toggleCamera()} />
      </div>
      {localMedia.mic === 'on' && <MediaLevelMeter track={ownMic} label={t('delegate.prejoin.micLevel')} data-testid="room-mic-level" />}
      <DevicePicker kind="mic" devices={devices.microphones} value={micId} onChange={(id) => void chooseDevice('mic', id)} />
      {localMedia.camera !== 'none' && <DevicePicker kind="camera" devices={devices.cameras} value={cameraId} onChange={(id) => void chooseDevice('camera', id)} />}
      {moderated && (
        <p className="notice warning" data-testid="moderated-notice" data-action={moderated}>
          {t(`delegate.media.moderated.${moderated}`)}
        </p>
      )}
      {unmuteRequested && (
        <div className="notice request" data-testid="unmute-request">
          <span>{t('delegate.media.unmuteRequested')}</span>{' '}
          <button type="button" onClick={() => void acceptUnmute()} data-testid="unmute-accept">
            {t('delegate.media.unmute')}
          </button>
        </div>
      )}
      {controlled && <p className="hint">{t('delegate.media.controlledFloor')}</p>}
      {actionError && (
        <p className="alert" role="alert" data-testid="action-error" data-code={actionError}>
          {actionError === 'FORBIDDEN' || actionError === 'MUTED_BY_MODERATOR' ? t(`delegate.media.refused.${actionError}`) : t('errors.generic', { code: actionError })}
        </p>
      )}
      <p className="hint" id="shortcuts-help" data-testid="shortcuts-help">
        {t('delegate.media.shortcuts')}
      </p>
    </section>
  );
}
