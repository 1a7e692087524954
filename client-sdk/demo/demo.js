// The demo page: sign in (embedded registry), pick a session, wait in the lobby if needed, see and hear
// everyone with the entity they represent. Secretariat users also get the lobby and the roster.
import { MeetingClient, signIn, listSessions, requestJoin } from '/sdk/plenum-sdk.js';

const $ = (id) => document.getElementById(id);
const show = (id, visible) => ($(id).hidden = !visible);
const status = (text, isError = false) => {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
};
const esc = (s) => CSS.escape(s);
const label = (p) => `${p.name} — ${p.entity.name}`;
let identity;

function tile(peer, isSelf = false) {
  let el = document.querySelector(`.tile[data-peer="${esc(peer.id)}"]`);
  if (!el) {
    el = document.createElement('section');
    el.className = isSelf ? 'tile self' : 'tile';
    el.dataset.peer = peer.id;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // audio plays through its own <audio> element
    const name = document.createElement('div');
    name.className = 'label';
    name.textContent = peer.entity ? label(peer) : peer.name;
    const role = document.createElement('small');
    role.textContent = peer.role ? ` (${peer.role.replaceAll('_', ' ')})` : '';
    name.append(role);
    el.append(video, name);
    $('tiles').append(el);
  }
  return el;
}

function attach(peer, track, isSelf) {
  const el = tile(peer, isSelf);
  if (track.kind === 'video') {
    el.querySelector('video').srcObject = new MediaStream([track]);
  } else if (!isSelf) {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.track = track.id;
    audio.srcObject = new MediaStream([track]);
    el.append(audio);
  }
}

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

async function refreshRoster(client) {
  const { participants, lobby } = await client.getRoster();
  renderLobby(client, lobby);
  const body = $('roster').querySelector('tbody');
  body.replaceChildren();
  for (const p of participants) {
    const tr = document.createElement('tr');
    tr.dataset.participant = p.id;
    for (const text of [p.name, p.entity.name, p.role.replaceAll('_', ' '), `${p.accreditation.status} (${p.accreditation.source})`]) {
      tr.append(Object.assign(document.createElement('td'), { textContent: text }));
    }
    const cell = document.createElement('td');
    if (p.id !== client.self?.id) {
      const remove = Object.assign(document.createElement('button'), { textContent: 'Remove', className: 'secondary' });
      remove.onclick = () => client.removeParticipant(p.id).then(() => refreshRoster(client));
      cell.append(remove);
    }
    tr.append(cell);
    body.append(tr);
  }
}

/** Connects with a join token and shows the room; `canPublish` decides whether camera and microphone go out. */
async function enterRoom(token, roomTitle, { canPublish, moderate }) {
  const client = new MeetingClient({ token });
  window.plenum = { client };
  client.on('peerJoined', (peer) => {
    tile(peer);
    if (moderate) refreshRoster(client);
  });
  client.on('peerLeft', (peer) => {
    document.querySelector(`.tile[data-peer="${esc(peer.id)}"]`)?.remove();
    if (moderate) refreshRoster(client);
  });
  client.on('trackAdded', (remote) => attach(client.peers.get(remote.peerId) ?? { id: remote.peerId, name: '' }, remote.track, false));
  client.on('trackRemoved', (remote) => {
    const el = document.querySelector(`.tile[data-peer="${esc(remote.peerId)}"]`);
    if (!el) return;
    if (remote.kind === 'video') el.querySelector('video').srcObject = null;
    else el.querySelector(`audio[data-track="${esc(remote.track.id)}"]`)?.remove();
  });
  client.on('lobby', () => status('Waiting in the lobby: the secretariat will admit you shortly.'));
  client.on('lobbyChanged', ({ waiting }) => renderLobby(client, waiting));
  client.on('closed', ({ reason, message }) => {
    $('tiles').replaceChildren();
    show('in-room', false);
    show('conduct', false);
    show('sessions', Boolean(identity));
    status(reason === 'LEFT' ? 'You left the room.' : message ?? `Disconnected: ${reason}`, reason !== 'LEFT');
  });
  client.on('error', (error) => status(`${error.code}: ${error.message}`, true));

  show('sessions', false);
  const self = await client.join();
  for (const peer of client.peers.values()) tile(peer);
  if (canPublish) {
    const camera = await client.publishCamera();
    attach(self, camera.track, true);
    await client.publishMicrophone();
  } else tile(self, true);
  show('in-room', true);
  $('room-label').textContent = `In “${roomTitle}” as ${label(self)}`;
  if (moderate) {
    show('conduct', true);
    await refreshRoster(client);
  }
  status('Connected.');
  return client;
}

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
      info.querySelector('.meta').textContent = `${event.title} · ${s.open ? 'open' : 'closed'}${s.lobby ? ' · lobby' : ''}${s.languages.length ? ` · ${s.languages.join(', ')}` : ''}`;
      const join = Object.assign(document.createElement('button'), { textContent: 'Join' });
      join.onclick = () => joinSession(s).catch((error) => status(`${error.message}${error.reasons ? ` (${error.reasons.join(', ')})` : ''}`, true));
      li.append(info, join);
      list.append(li);
    }
  }
  $('signed-in-as').textContent = `Signed in as ${identity.name}.`;
  show('sign-in', false);
  show('sessions', true);
}

async function joinSession(session) {
  status('Checking your accreditation…');
  const answer = await requestJoin('', identity.token, session.sessionId);
  if (answer.decision === 'lobby') status('Waiting in the lobby: the secretariat will admit you shortly.');
  await enterRoom(answer.joinToken, session.title, {
    canPublish: answer.grants.publishFloor,
    moderate: answer.grants.moderate,
  });
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
