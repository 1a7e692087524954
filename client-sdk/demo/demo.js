// The demo page: sign in (embedded registry), pick a session, wait in the lobby if needed, see the active
// speaker and a paged gallery with the entity each represents, hear the floor. Secretariat users also get the
// lobby and the roster.
import { MeetingClient } from '/sdk/plenum-sdk.js';
import { $, label, languageName, show, signInFlow, status } from '/demo/common.js';
import { MeetingView } from '/demo/meeting-view.js';

function renderLobby(client, waiting) {
  const list = $('lobby-list');
  list.replaceChildren();
  if (waiting.length === 0) list.innerHTML = '<li class="empty">Nobody is waiting.</li>';
  for (const w of waiting) {
    const li = document.createElement('li');
    li.dataset.waiting = w.id;
    li.textContent = `${label(w)} (${w.role.replaceAll('_', ' ')})`;
    const admit = Object.assign(document.createElement('button'), { textContent: 'Admit', className: 'admit' });
    admit.onclick = () => client.admitFromLobby(w.id).then(() => refreshRoster(client));
    const deny = Object.assign(document.createElement('button'), { textContent: 'Deny', className: 'deny secondary' });
    deny.onclick = () => client.denyFromLobby(w.id);
    li.append(admit, deny);
    list.append(li);
  }
}

/**
 * The roster's first page (the floor holder and those conducting first); "More" appends the next. A large
 * room is never loaded whole: the count comes with each page and each batch of changes.
 */
async function refreshRoster(client) {
  const page = await client.getRoster();
  renderLobby(client, page.lobby);
  renderQuorum(page.quorum);
  $('roster').querySelector('tbody').replaceChildren();
  renderRosterPage(client, page);
}

function renderRosterPage(client, { participants, nextCursor, total }) {
  const body = $('roster').querySelector('tbody');
  const more = $('roster-more');
  more.hidden = !nextCursor;
  more.onclick = () => client.getRoster({ cursor: nextCursor }).then((next) => renderRosterPage(client, next)).catch((e) => status(e.message, true));
  for (const p of participants) {
    const tr = document.createElement('tr');
    tr.dataset.participant = p.id;
    const quality = p.quality === undefined ? '—' : p.quality >= 8 ? 'good' : p.quality >= 5 ? 'fair' : 'poor';
    for (const text of [p.name, p.entity.name, p.role.replaceAll('_', ' '), `${p.accreditation.status} (${p.accreditation.source})`, quality]) {
      tr.append(Object.assign(document.createElement('td'), { textContent: text }));
    }
    const cell = document.createElement('td');
    if (p.id !== client.self?.id) {
      const mute = Object.assign(document.createElement('button'), { textContent: 'Mute', className: 'secondary' });
      mute.onclick = () => client.muteParticipant(p.id);
      const remove = Object.assign(document.createElement('button'), { textContent: 'Remove', className: 'secondary' });
      remove.onclick = () => client.removeParticipant(p.id).then(() => refreshRoster(client));
      cell.append(mute, remove);
    }
    tr.append(cell);
    body.append(tr);
  }
  $('roster-count').textContent = `${body.rows.length} of ${total} shown`;
}

/** Connects with a join token and shows the room; `canPublish` decides whether camera and microphone go out. */
const CLOSE_REASONS = {
  SESSION_CLOSED: 'The secretariat closed the session.',
  SERVER_SHUTDOWN: 'The server is restarting; join again in a moment.',
  MEDIA_WORKER_DIED: 'The media server restarted this session; join again.',
  REPLACED: 'You joined from another window.',
};

async function enterRoom(token, roomTitle, { canPublish, moderate, admin }) {
  const client = new MeetingClient({ token });
  const view = new MeetingView(client);
  window.plenum = { client, view };
  // Joins and leaves arrive in batches: the console reloads its first page once per batch, not per join.
  client.on('peersChanged', () => {
    if (moderate) refreshRoster(client);
  });
  client.on('listening', showListening);
  client.on('caption', (caption) => {
    if (caption.language !== client.selectedChannel) return;
    $('captions').textContent = caption.text;
  });
  client.on('lobby', () => status('Waiting in the lobby: the secretariat will admit you shortly.'));
  client.on('lobbyChanged', ({ waiting }) => renderLobby(client, waiting));
  client.on('closed', ({ reason, message }) => {
    view.close();
    show('meeting', false);
    show('in-room', false);
    show('conduct', false);
    $('edge-listeners').textContent = '';
    show('listen', false);
    flow.backToSessions();
    show('floor', false);
    status(reason === 'LEFT' ? 'You left the room.' : message ?? CLOSE_REASONS[reason] ?? `Disconnected: ${reason}`, reason !== 'LEFT');
  });
  client.on('floorState', (state) => renderFloor(client, state, moderate));
  client.on('speakingTime', ({ state, participantId }) => {
    if (participantId === client.self?.id) notice(state === 'warning' ? 'Your speaking time is nearly over.' : 'Your speaking time is over.');
  });
  client.on('moderated', ({ action }) => notice(action === 'muted' ? 'The secretariat muted your microphone.' : 'The secretariat stopped your video.'));
  client.on('unmuteRequested', () => notice('The secretariat asks you to unmute.'));
  client.on('quorum', renderQuorum);
  client.on('listeners', renderEdgeListeners);
  client.on('channelsChanged', ({ channels }) => renderBooths(channels));
  client.on('error', (error) => status(`${error.code}: ${error.message}`, true));
  client.on('reconnecting', () => status('Connection lost: reconnecting…', true));
  client.on('reconnected', () => status('Connected.'));

  show('sessions', false);
  const self = await client.join();
  setUpListening(client);
  show('meeting', true);
  await view.reload();
  if (canPublish) {
    view.setOwnCamera((await client.publishCamera()).track);
    await client.publishMicrophone();
  }
  show('in-room', true);
  $('room-label').textContent = `In “${roomTitle}” as ${label(self)}`;
  setUpFloor(client, moderate);
  if (moderate) {
    setUpConsole(client, admin);
    show('conduct', true);
    await refreshRoster(client);
  }
  status('Connected.');
  return client;
}

function notice(text) {
  $('floor-notice').textContent = text;
  $('floor-notice').hidden = false;
}

let floorTimer;
function renderFloor(client, state, moderate) {
  const me = client.self?.id;
  const speaker = state.speaker;
  $('floor-speaker').textContent = speaker ? `${speaker.name} — ${speaker.entity} has the floor.` : 'Nobody has the floor.';
  clearInterval(floorTimer);
  const tick = () => {
    if (!speaker) return ($('floor-timer').textContent = '');
    const left = Math.max(0, Math.round((speaker.since + speaker.limitMs - Date.now()) / 1000));
    $('floor-timer').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
    $('floor-timer').className = left * 1000 <= speaker.warningMs ? 'warning' : '';
  };
  tick();
  if (speaker) floorTimer = setInterval(tick, 1000);
  const listed = state.queue.some((e) => e.id === me);
  $('request-floor').disabled = listed || speaker?.id === me;
  $('withdraw-floor').disabled = !listed;
  const list = $('speakers-list');
  list.replaceChildren();
  if (state.queue.length === 0) list.innerHTML = '<li class="empty">Nobody has asked for the floor.</li>';
  state.queue.forEach((entry, index) => {
    const li = document.createElement('li');
    li.dataset.speaker = entry.id;
    li.className = entry.kind === 'point_of_order' ? 'point-of-order' : '';
    li.textContent = `${entry.name} — ${entry.entity}${entry.kind === 'point_of_order' ? ' (point of order)' : ''}`;
    if (moderate) {
      const button = (text, cls, fn) => li.append(Object.assign(document.createElement('button'), { textContent: text, className: cls, onclick: () => fn().catch((e) => status(e.message, true)) }));
      button('Give floor', 'give', () => client.giveFloor(entry.id));
      if (index > 0) button('↑', 'up secondary', () => client.moveSpeaker(entry.id, index - 1));
      button('Remove', 'remove secondary', () => client.removeSpeaker(entry.id));
    }
    list.append(li);
  });
  $('take-floor').disabled = !speaker;
  $('give-next').disabled = state.queue.length === 0;
}

function setUpFloor(client, moderate) {
  const act = (fn) => () => fn().catch((e) => status(`${e.code}: ${e.message}`, true));
  $('request-floor').onclick = act(() => client.requestFloor('speaker'));
  $('point-of-order').onclick = act(() => client.requestFloor('point_of_order'));
  $('withdraw-floor').onclick = act(() => client.withdrawFloorRequest());
  $('floor-notice').hidden = true;
  renderFloor(client, client.floor, moderate);
  show('floor', client.floor.controlled || moderate);
}

function renderQuorum(view) {
  const parts = Object.entries(view.byType).map(([type, b]) => `${type.replaceAll('_', ' ')}: ${b.count}`);
  $('quorum').textContent = parts.length ? `${parts.join(' · ')} (total ${view.total})` : 'Nobody.';
}

/** Listeners served by other nodes: counts only (there may be thousands), by entity type, largest entities first. */
function renderEdgeListeners(census) {
  const types = Object.entries(census.byEntityType).map(([type, n]) => `${type.replaceAll('_', ' ')}: ${n}`);
  const top = census.byEntity.slice(0, 5).map((e) => `${e.entity} ${e.count}`);
  if (census.others > 0 || census.byEntity.length > 5) top.push('…');
  const detail = types.length ? ` (by entity type ${types.join(' · ')}; ${top.join(', ')})` : '';
  $('edge-listeners').textContent = `Listeners on other nodes: ${census.total}${detail}`;
}

function renderBooths(channels) {
  const list = $('booth-status');
  list.replaceChildren();
  for (const c of channels) {
    list.append(Object.assign(document.createElement('li'), { textContent: `${languageName(c.language)}: ${c.live ? `${c.interpreter} is live` : 'nobody live'}` }));
  }
  if (channels.length === 0) list.innerHTML = '<li>No interpretation in this session.</li>';
}

/** The secretariat console: lifecycle (REST, with the signed-in identity), the floor, booths, quorum. */
function setUpConsole(client, admin) {
  const act = (fn) => () => fn().catch((e) => status(`${e.code ?? 'ERROR'}: ${e.message}`, true));
  $('give-next').onclick = act(() => client.giveFloor());
  $('take-floor').onclick = act(() => client.takeFloor());
  renderBooths(client.channels);
  const showStatus = (s) => {
    $('session-status').textContent = `Status: ${s}`;
    $('lc-open').disabled = s !== 'scheduled';
    $('lc-suspend').disabled = s !== 'open';
    $('lc-resume').disabled = s !== 'suspended';
    $('lc-close').disabled = s === 'closed';
  };
  showStatus(admin?.status ?? 'open');
  $('lock').onchange = act(async () => {
    const res = await fetch(`/api/admin/events/${encodeURIComponent(admin.eventId)}/sessions/${encodeURIComponent(admin.sessionId)}/lock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.identityToken}` },
      body: JSON.stringify({ locked: $('lock').checked }),
    });
    if (!res.ok) throw new Error((await res.json()).error.message);
  });
  for (const action of ['open', 'suspend', 'resume', 'close']) {
    $(`lc-${action}`).onclick = act(async () => {
      if (!admin) throw new Error('sign in to conduct the session');
      const res = await fetch(`/api/admin/events/${encodeURIComponent(admin.eventId)}/sessions/${encodeURIComponent(admin.sessionId)}/lifecycle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.identityToken}` },
        body: JSON.stringify({ action }),
      });
      const body = await res.json();
      if (!res.ok) throw Object.assign(new Error(body.error.message), { code: body.error.code });
      showStatus(body.status);
    });
  }
}

/** The channel selector and floor volume: what a delegate hears. */
function setUpListening(client) {
  const select = $('channel');
  select.replaceChildren(new Option('Floor (original)', 'floor'));
  for (const c of client.channels) select.append(new Option(languageName(c.language), c.language));
  select.value = client.selectedChannel;
  select.onchange = () => client.selectChannel(select.value).catch((error) => status(error.message, true));
  $('floor-volume').oninput = () => client.setFloorVolume(Number($('floor-volume').value) / 100);
  show('listen', client.channels.length > 0);
  showListening({ channel: client.selectedChannel, interpretationAvailable: client.interpretationAvailable });
}

function showListening({ channel, interpretationAvailable }) {
  const note = $('interpretation-status');
  note.hidden = interpretationAvailable;
  note.textContent = interpretationAvailable ? '' : `Interpretation into ${languageName(channel)} is not available at the moment; you hear the floor.`;
  $('captions').textContent = '';
}

const flow = signInFlow((answer, session, identityToken) =>
  enterRoom(answer.joinToken, session.title, {
    canPublish: answer.grants.publishFloor,
    moderate: answer.grants.moderate,
    admin: { identityToken, eventId: answer.session.eventId, sessionId: answer.session.sessionId, status: session.status },
  }),
);

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('join').disabled = true;
  status('Joining…');
  const name = $('name').value.trim();
  const room = $('room').value.trim();
  fetch('/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, room }) })
    .then(async (res) => {
      const body = await res.json();
      if (!res.ok) throw new Error(body.error?.message ?? 'could not get a token');
      show('dev', false);
      show('sign-in', false);
      return enterRoom(body.token, room, { canPublish: true, moderate: false });
    })
    .catch((error) => status(error.message, true))
    .finally(() => ($('join').disabled = false));
});
$('leave').addEventListener('click', () => window.plenum?.client.leave());

const config = await fetch('/api/config').then((r) => r.json());
show('sign-in', config.embeddedSignIn);
show('dev', config.devMode);
if (config.devMode) $('dev').open = !config.embeddedSignIn;
