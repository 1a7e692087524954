// The demo page: sign in (embedded registry), pick a session, wait in the lobby if needed, see and hear
// everyone with the entity they represent. Secretariat users also get the lobby and the roster.
import { MeetingClient } from '/sdk/plenum-sdk.js';
import { $, esc, label, languageName, show, signInFlow, status } from '/common.js';

// Interpreters and captioners are staff of the session: heard through the channels, not shown as tiles.
const isStaff = (peer) => peer.role === 'interpreter' || peer.role === 'captioner';

function tile(peer, isSelf = false) {
  if (isStaff(peer) && !isSelf) return document.createElement('section'); // detached: never shown
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
  }
  // Audio plays through the SDK's channel mixer (the chosen language, the floor underneath).
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
    if (el && remote.kind === 'video') el.querySelector('video').srcObject = null;
  });
  client.on('listening', showListening);
  client.on('caption', (caption) => {
    if (caption.language !== client.selectedChannel) return;
    $('captions').textContent = caption.text;
  });
  client.on('lobby', () => status('Waiting in the lobby: the secretariat will admit you shortly.'));
  client.on('lobbyChanged', ({ waiting }) => renderLobby(client, waiting));
  client.on('closed', ({ reason, message }) => {
    $('tiles').replaceChildren();
    show('in-room', false);
    show('conduct', false);
    show('listen', false);
    flow.backToSessions();
    status(reason === 'LEFT' ? 'You left the room.' : message ?? `Disconnected: ${reason}`, reason !== 'LEFT');
  });
  client.on('error', (error) => status(`${error.code}: ${error.message}`, true));

  show('sessions', false);
  const self = await client.join();
  setUpListening(client);
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

const flow = signInFlow((answer, session) =>
  enterRoom(answer.joinToken, session.title, { canPublish: answer.grants.publishFloor, moderate: answer.grants.moderate }),
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
