// A sign-language booth: the signer sees their own camera, the picture the channel's viewers get while
// they are live (go live, cough and handover are the microphone panel's buttons, as in a spoken booth).
import { useTranslation } from 'react-i18next';
import { MediaVideo } from '../../shared/media-video';
import { useBoothStore } from './booth-store';
import './sign-camera.css';

export function SignCameraPanel() {
  const { t } = useTranslation();
  const camera = useBoothStore((s) => s.signCamera);
  const booth = useBoothStore((s) => s.booth);
  if (!camera || !booth) return null;
  const language = t(`sign.languages.${booth}`, { defaultValue: booth });
  return (
    <section className="booth-panel" aria-labelledby="booth-sign-heading" data-testid="sign-camera">
      <h2 id="booth-sign-heading">{t('sign.heading')}</h2>
      <MediaVideo track={camera} aria-hidden="true" className="booth-sign-preview" />
      <p className="booth-hint">{t('sign.booth.camera', { language })}</p>
    </section>
  );
}
