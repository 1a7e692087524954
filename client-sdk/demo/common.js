// Shared by the delegate page and the booth page: DOM helpers, sign-in, the session list.
import { signIn, listSessions, requestJoin } from '/sdk/plenum-sdk.js';

export const $ = (id) => document.getElementById(id);
export const show = (id, visible) => ($(id).hidden = !visible);
export const esc = (s) => CSS.escape(s);
export const label = (p) => `${p.name} — ${p.entity.name}`;
export const LANGUAGE_NAMES = { en: 'English', fr: 'French', es: 'Spanish', ar: 'Arabic', zh: 'Chinese', ru: 'Russian' };
export const languageName = (code) => LANGUAGE_NAMES[code] ?? code;

export function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

/**
 * Wires the sign-in form and the session list. `onJoin(answer, session)` runs once the accreditation
 * check admitted the person (allow or lobby) to the session they clicked.
 */
export function signInFlow(onJoin) {
  let identity;
  // One sign-in form for every page.
  $('sign-in-form').innerHTML = `
    <label>E-mail <input id="email" type="email" required maxlength="254" autocomplete="email"></label>
    <label>Access code <input id="access-code" type="password" required maxlength="128" autocomplete="current-password"></label>
    <button id="sign-in-button" type="submit">Sign in</button>`;
  async function showSessions() {
    const { events } = await fetch('/api/events', { headers: { authorization: `Bearer ${identity.token}` } }).then((r) => r.json());
    const list = $('session-list');
    list.replaceChildren();
    for (const event of events) {
      const { sessions } = await listSessions('', identity.token, event.eventId);
      for (const s of sessions) {
        const li = document.createElement('li');
        li.dataset.session = s.sessionId;
        const info = document.createElement('div');
        info.innerHTML = `<strong></strong><div class="meta"></div>`;
        info.querySelector('strong').textContent = s.title;
        const when = s.startsAt ? `${new Date(s.startsAt).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })} · ` : '';
        info.querySelector('.meta').textContent = `${when}${event.title} · ${s.status}${s.access === 'lobby' ? ' · lobby' : ''}${
          s.languages.length ? ` · ${s.languages.map(languageName).join(', ')}` : ''
        }`;
        const join = Object.assign(document.createElement('button'), { textContent: 'Join' });
        join.onclick = () => {
          status('Checking your accreditation…');
          requestJoin('', identity.token, s.sessionId)
            .then((answer) => {
              if (answer.decision === 'lobby') status('Waiting in the lobby: the secretariat will admit you shortly.');
              show('sessions', false);
              return onJoin(answer, s, identity.token);
            })
            .catch((error) => status(`${error.message}${error.reasons ? ` (${error.reasons.join(', ')})` : ''}`, true));
        };
        li.append(info, join);
        list.append(li);
      }
    }
    $('signed-in-as').textContent = `Signed in as ${identity.name}.`;
    show('sign-in', false);
    show('sessions', true);
  }

  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    status('Signing in…');
    signIn('', $('email').value.trim(), $('access-code').value)
      .then(({ identityToken, name }) => {
        identity = { token: identityToken, name };
        status('');
        return showSessions();
      })
      .catch((error) => status(error.message, true));
  });
  return { backToSessions: () => identity && show('sessions', true) };
}
