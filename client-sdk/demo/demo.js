// The demo page: join a room with a dev token, publish camera and microphone, show every participant.
import { MeetingClient } from '/sdk/plenum-sdk.js';

const $ = (id) => document.getElementById(id);
const status = (text, isError = false) => {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
};

function tile(peerId, label, isSelf = false) {
  let el = document.querySelector(`.tile[data-peer="${CSS.escape(peerId)}"]`);
  if (!el) {
    el = document.createElement('section');
    el.className = isSelf ? 'tile self' : 'tile';
    el.dataset.peer = peerId;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // audio plays through its own <audio> element
    const name = document.createElement('div');
    name.className = 'label';
    name.textContent = label;
    el.append(video, name);
    $('tiles').append(el);
  }
  return el;
}

function attach(peerId, label, track, isSelf) {
  const el = tile(peerId, label, isSelf);
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

async function join(name, room) {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, room }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error?.message ?? 'could not get a token');

  const client = new MeetingClient({ token: body.token });
  window.plenum = { client };
  client.on('peerJoined', (peer) => tile(peer.id, peer.name));
  client.on('peerLeft', (peer) => document.querySelector(`.tile[data-peer="${CSS.escape(peer.id)}"]`)?.remove());
  client.on('trackAdded', (remote) => attach(remote.peerId, client.peers.get(remote.peerId)?.name ?? '', remote.track, false));
  client.on('trackRemoved', (remote) => {
    const el = document.querySelector(`.tile[data-peer="${CSS.escape(remote.peerId)}"]`);
    if (!el) return;
    if (remote.kind === 'video') el.querySelector('video').srcObject = null;
    else el.querySelector(`audio[data-track="${CSS.escape(remote.track.id)}"]`)?.remove();
  });
  client.on('closed', ({ reason }) => {
    $('tiles').replaceChildren();
    $('in-room').hidden = true;
    $('join-form').hidden = false;
    status(reason === 'LEFT' ? 'You left the room.' : `Disconnected: ${reason}`, reason !== 'LEFT');
  });
  client.on('error', (error) => status(`${error.code}: ${error.message}`, true));

  const self = await client.join();
  for (const peer of client.peers.values()) tile(peer.id, peer.name);
  const camera = await client.publishCamera();
  attach(self.id, self.name, camera.track, true);
  await client.publishMicrophone();
  $('join-form').hidden = true;
  $('in-room').hidden = false;
  $('room-label').textContent = `In room “${room}” as ${self.name}`;
  status('Connected.');
  return client;
}

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('join').disabled = true;
  status('Joining…');
  join($('name').value.trim(), $('room').value.trim())
    .catch((error) => status(error.message, true))
    .finally(() => ($('join').disabled = false));
});
$('leave').addEventListener('click', () => window.plenum?.client.leave());
