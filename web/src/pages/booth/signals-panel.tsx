// "Slow down" and "repeat": lit at the chair's and the secretariat's consoles and the speaker's screen.
import { useTranslation } from 'react-i18next';
import type { BoothSignalKind } from '../../../../protocol/signaling';
import { useBoothStore } from './booth-store';

const KINDS: BoothSignalKind[] = ['slow_down', 'repeat'];

export function SignalsPanel() {
  const { t } = useTranslation();
  const { signal, sendSignal } = useBoothStore();
  return (
    <section className="booth-panel" aria-labelledby="booth-signals-heading">
      <h2 id="booth-signals-heading">{t('booth.signals.heading')}</h2>
      <p className="booth-hint">{t('booth.signals.hint')}</p>
      <div className="booth-row">
        {KINDS.map((kind) => (
          <button key={kind} type="button" className="secondary" onClick={() => void sendSignal(kind)} data-testid={`signal-${kind}`}>
            {t(`booth.signals.${kind}`)}
          </button>
        ))}
      </div>
      <p role="status" data-testid="signal-status" data-outcome={signal?.outcome ?? ''} data-kind={signal?.kind ?? ''}>
        {signal ? t(`booth.signals.${signal.outcome}`, { request: t(`booth.signals.${signal.kind}`) }) : ''}
      </p>
    </section>
  );
}
