// The interpreter's booth console, on the SDK: listen (floor or relay), one live microphone per booth,
// cough, handover (offer / request / accept / take now), who is live, booth chat.
import { MeetingClient } from '/sdk/plenum-sdk.js';
import { $, languageName, show, signInFlow, status } from '/demo/common.js';

let client;
let booth;
let takeTimer;

function render(state) {
  if (!client.self) return; // states arriving during join() are rendered once it resolves
  const me = client.self.id;
  const liveName = state.interpreters.find((i) => i.id === state.live)?.name;
  const indicator = $('live-indicator');
  indicator.textContent = state.live === me ? (state.coughing ? 'You are live (muted: cough)' : 'You are live') : liveName ? `${liveName} is live` : 'Nobody is live';
  indicator.className = state.live === me ? 'on' : '';
  $('mic-on').disabled = state.live !== null;
  $('mic-off').disabled = state.live !== me;
  $('cough').disabled = state.live !== me;
  $('offer').disabled = state.live !== me || state.handover !== null;
  $('request').disabled = state.live === me || state.live === null || state.handover !== null;
  const h = state.handover;
  const mayAccept = h && ((h.kind === 'offer' && h.from !== me) || (h.kind === 'request' && state.live === me));
  $('accept').disabled = !mayAccept;
  const from = h && state.interpreters.find((i) => i.id === h.from)?.name;
  $('handover-state').textContent = !h ? '' : h.kind === 'offer' ? `· ${from} offers the microphone` : `· ${from} asks for the microphone`;
  // "Take now" opens once the live interpreter has let a request go unanswered for the booth's delay.
  clearTimeout(takeTimer);
  const mine = h?.kind === 'request' && h.from === me;
  $('take').disabled = true;
  if (mine) takeTimer = setTimeout(() => ($('take').disabled = false), Math.max(0, h.since + h.takeAfterMs - Date.now()));
}

async function enterBooth(answer, session) {
  if (answer.grants.booths.length === 0) throw new Error('you have no booth in this session');
  booth = answer.grants.booths[0];
  client = new MeetingClient({ token: answer.joinToken, floorVolume: 0 });
  window.plenum = { client };
  client.on('boothState', (state) => state.language === booth && render(state));
  client.on('boothChat', (m) => {
    const li = document.createElement('li');
    li.textContent = `${m.from.name}: ${m.text}`;
    $('chat-log').append(li);
    li.scrollIntoView();
  });
  client.on('listening', ({ channel, interpretationAvailable }) => {
    $('relay-status').hidden = interpretationAvailable;
    $('relay-status').textContent = interpretationAvailable ? '' : `No ${languageName(channel)} interpreter is live; you hear the floor.`;
  });
  client.on('closed', ({ reason, message }) => {
    show('console', false);
    status(message ?? `Disconnected: ${reason}`, true);
  });

  await client.join();
  // The microphone goes into the booth's channel, paused by the server until this interpreter is live.
  const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  await client.publish(mic.getAudioTracks()[0], 'mic', { channel: booth });

  const listen = $('listen-to');
  listen.replaceChildren(new Option('Floor', 'floor'));
  for (const c of client.channels) if (c.language !== booth) listen.append(new Option(`Relay: ${languageName(c.language)} booth`, c.language));
  listen.onchange = () => client.selectChannel(listen.value, { floorVolume: 0 }).catch((e) => status(e.message, true));
  $('volume').oninput = () => client.audio?.setVolume(Number($('volume').value) / 100);

  const act = (fn) => () => fn().catch((e) => status(`${e.code}: ${e.message}`, true));
  $('mic-on').onclick = act(() => client.boothGoLive(booth));
  $('mic-off').onclick = act(() => client.boothGoOff(booth));
  $('cough').onpointerdown = act(() => client.boothCough(booth, true));
  $('cough').onpointerup = act(() => client.boothCough(booth, false));
  for (const action of ['offer', 'request', 'accept', 'take']) $(action).onclick = act(() => client.boothHandover(booth, action));
  $('chat-form').onsubmit = (event) => {
    event.preventDefault();
    const text = $('chat-text').value.trim();
    if (text) act(() => client.boothChat(booth, text))();
    $('chat-text').value = '';
  };

  $('booth-title').textContent = `${languageName(booth)} booth — ${session.title}`;
  const state = client.booths.get(booth);
  if (state) render(state);
  show('console', true);
  status('Connected.');
}

signInFlow(enterBooth);
show('sign-in', true);
