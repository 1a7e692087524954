import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import '../../shared/app.css';
import './delegate.css';
import { initI18n } from '../../shared/i18n';
import { DelegatePage } from './delegate-page';

const i18n = initI18n();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nextProvider i18n={i18n}>
      <DelegatePage />
    </I18nextProvider>
  </StrictMode>,
);
