// In the room: the reconnecting banner, who one is, whether the session is recorded, the connection's quality, leave; the stage and the
// gallery; the own microphone and camera, the floor, and what one listens to.
import { useTranslation } from 'react-i18next';
import { RecordingIndicator } from '../../shared/recording-indicator';
import { useDelegateStore } from './delegate-store';
import { FloorPanel } from './floor-panel';
import { ListeningPanel } from './listening-panel';
import { SignLanguagePin } from './sign-language-pin';
import { LowBandwidthPanel } from './low-bandwidth-panel';
import { MediaControls } from './media-controls';
import { StageGallery } from './stage-gallery';

function ConnectionBanner() {
  const { t } = useTranslation();
  const connection = useDelegateStore((s) => s.connection);
  if (connection !== 'reconnecting') return null;
  return (
    <p className="banner" data-testid="reconnecting-banner">
      {t('delegate.connection.reconnecting')}
    </p>
  );
}

function Quality() {
  const { t } = useTranslation();
  const quality = useDelegateStore((s) => s.quality);
  return (
    <span className="quality" data-testid="connection-quality" data-quality={quality}>
      <span className="quality-dot" aria-hidden="true" />
      {t('delegate.connection.quality', { quality: t(`delegate.connection.level.${quality}`) })}
    </span>
  );
}

export function Room() {
  const { t } = useTranslation();
  const self = useDelegateStore((s) => s.self);
  const title = useDelegateStore((s) => s.answer?.session.title ?? '');
  const leave = useDelegateStore((s) => s.leave);
  const recording = useDelegateStore((s) => s.recording);
  return (
    <div className="delegate-room" data-testid="room">
      <ConnectionBanner />
      <div className="room-bar">
        <div>
          <h2 className="room-title">{title}</h2>
          {self && <p data-testid="self-label">{t('delegate.youAre', { label: t('delegate.personLabel', { name: self.name, entity: self.entity.name }) })}</p>}
        </div>
        <RecordingIndicator status={recording} />
        <Quality />
        <button type="button" className="danger" onClick={() => void leave()} data-testid="leave">
          {t('delegate.leave')}
        </button>
      </div>
      <div className="room-grid">
        <StageGallery />
        <div className="room-side">
          <SignLanguagePin />
          <MediaControls />
          <LowBandwidthPanel />
          <FloorPanel />
          <ListeningPanel />
        </div>
      </div>
    </div>
  );
}
