// The speaker (the floor holder, else the dominant voice) large, named "name — entity".
import { useTranslation } from 'react-i18next';
import { MediaVideo } from '../../shared/media-video';
import { entityLabel } from '../../shared/person-labels';
import { useBoothStore } from './booth-store';

export function SpeakerStage() {
  const { t } = useTranslation();
  const speaker = useBoothStore((s) => s.speaker);
  const video = useBoothStore((s) => s.speakerVideo);
  return (
    <section className="booth-stage" aria-labelledby="booth-stage-heading" data-testid="speaker" data-peer-id={speaker?.id ?? ''}>
      <h2 id="booth-stage-heading">{t('booth.stage.heading')}</h2>
      <div className="booth-stage-video">
        {video ? <MediaVideo track={video} data-testid="speaker-video" aria-label={speaker ? speaker.name : t('booth.stage.nobody')} /> : <p className="booth-stage-empty">{t('booth.stage.noVideo')}</p>}
      </div>
      <p data-testid="speaker-name" className="booth-stage-name">
        {speaker ? (
          <>
            <bdi>{speaker.name}</bdi> — <bdi>{entityLabel(t, speaker.entity)}</bdi>
          </>
        ) : (
          t('booth.stage.nobody')
        )}
      </p>
    </section>
  );
}
