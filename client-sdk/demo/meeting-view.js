// The delegate page's screen: the active speaker large on the stage, a paged gallery of the roster below.
// The server sends only the cameras this screen declares (setView), each at the size it is shown, so a page
// costs the same in a room of 10 or of 1,000.
import { Gallery } from '/sdk/plenum-sdk.js';
import { $, esc, label, status } from '/demo/common.js';

/** At most this many tiles per page (the server's limit on declared tiles). */
const MAX_TILES = 25;

/** Interpreters and captioners are staff of the session: heard through the channels, not shown as tiles. */
const isStaff = (peer) => peer.role === 'interpreter' || peer.role === 'captioner';

/** Tiles per gallery page: 9, or `?tiles=N` (1…25). */
export function galleryPageSize() {
  const n = Number(new URLSearchParams(location.search).get('tiles'));
  return Number.isInteger(n) && n >= 1 && n <= MAX_TILES ? n : 9;
}

const sizeOf = (el) => {
  const r = el.getBoundingClientRect();
  return { width: Math.round(r.width), height: Math.round(r.height) };
};

function showVideo(el, track) {
  const video = el.querySelector('video');
  if ((video.srcObject?.getVideoTracks()[0] ?? null) !== (track ?? null)) video.srcObject = track ? new MediaStream([track]) : null;
  el.classList.toggle('no-video', !track); // a peer without a camera shows its name only
}

export class MeetingView {
  constructor(client, pageSize = galleryPageSize()) {
    this.client = client;
    /** The roster's pages, kept current by the SDK (staff are heard, not shown, but for oneself). */
    this.gallery = new Gallery(client, pageSize, (p) => !isStaff(p) || p.id === client.self?.id);
    this.shown = [];
    /** Every peer this page has seen, to name whoever comes on the stage. */
    this.known = new Map();
    /** Camera tracks received, by peer (and this client's own camera). */
    this.cameras = new Map();
    this.lastView = '';
    client.on('peerJoined', (peer) => this.known.set(peer.id, peer));
    client.on('activeSpeaker', () => this.renderStage());
    client.on('trackAdded', (remote) => {
      if (remote.kind !== 'video') return;
      this.cameras.set(remote.peerId, remote.track);
      this.renderVideo(remote.peerId);
    });
    client.on('trackRemoved', (remote) => {
      if (remote.kind !== 'video' || this.cameras.get(remote.peerId) !== remote.track) return;
      this.cameras.delete(remote.peerId);
      this.renderVideo(remote.peerId);
    });
    client.on('floorState', () => this.renderStage());
    this.gallery.on('page', (page) => this.show(page));
    this.gallery.on('error', (error) => status(`The gallery could not be loaded: ${error.message}`, true));
    $('gallery-prev').onclick = () => this.gallery.previous();
    $('gallery-next').onclick = () => this.gallery.next();
    // A layout change (window, console opened) changes the sizes the server picks layers for.
    this.resize = new ResizeObserver(() => this.sendView());
    this.resize.observe($('stage'));
    this.resize.observe($('tiles'));
  }

  /** Shows this client's own camera in its tile (and on the stage when it speaks). */
  setOwnCamera(track) {
    this.cameras.set(this.client.self.id, track);
    this.renderVideo(this.client.self.id);
  }

  /** Loads the gallery's current page (after joining). */
  reload() {
    return this.gallery.reload();
  }

  show(page) {
    for (const peer of page.peers) this.known.set(peer.id, peer);
    this.renderTiles(page);
    this.renderStage();
    this.sendView();
  }

  renderTiles(page) {
    const peers = page.peers;
    this.shown = peers;
    const selfId = this.client.self.id;
    const tiles = peers.map((peer) => {
      let el = $('tiles').querySelector(`.tile[data-peer="${esc(peer.id)}"]`);
      if (!el) {
        el = document.createElement('section');
        el.className = peer.id === selfId ? 'tile self' : 'tile';
        el.dataset.peer = peer.id;
        el.innerHTML = '<video autoplay playsinline muted></video><div class="label"></div>';
        const role = Object.assign(document.createElement('small'), { textContent: peer.role ? ` (${peer.role.replaceAll('_', ' ')})` : '' });
        el.querySelector('.label').append(label(peer), role);
      }
      showVideo(el, this.cameras.get(peer.id));
      return el;
    });
    $('tiles').replaceChildren(...tiles);
    $('gallery-page').textContent = `page ${page.index + 1} of ${page.pages}`;
    $('gallery-prev').disabled = !page.hasPrevious;
    $('gallery-next').disabled = !page.hasNext;
  }

  /** The active speaker (the server says who, on an edge too); the floor holder until it has said. */
  get stagePeer() {
    return this.client.activeSpeaker ?? this.client.floor.speaker?.id ?? null;
  }

  renderStage() {
    const id = this.stagePeer;
    const stage = $('stage');
    stage.dataset.peer = id ?? '';
    const speaker = this.client.floor.speaker;
    const named = this.client.activeSpeakerPeer?.id === id ? this.client.activeSpeakerPeer : undefined;
    const peer = id === this.client.self?.id ? this.client.self : named ?? this.known.get(id) ?? (speaker?.id === id ? { name: speaker.name, entity: { name: speaker.entity } } : undefined);
    $('stage-label').textContent = !id ? 'Nobody is speaking.' : peer ? label(peer) : 'Someone is speaking.';
    showVideo(stage, id ? this.cameras.get(id) : undefined);
  }

  renderVideo(peerId) {
    const el = $('tiles').querySelector(`.tile[data-peer="${esc(peerId)}"]`);
    if (el) showVideo(el, this.cameras.get(peerId));
    if (peerId === this.stagePeer) this.renderStage();
  }

  /** Declares what this screen shows: the stage and the gallery tiles, with their sizes (only when it changed). */
  sendView() {
    if (!this.client.joined || $('meeting').hidden) return;
    const tiles = this.shown
      .filter((peer) => peer.id !== this.client.self.id)
      .map((peer) => ({ peerId: peer.id, ...sizeOf($('tiles').querySelector(`.tile[data-peer="${esc(peer.id)}"]`)) }));
    const view = { stage: sizeOf($('stage')), tiles };
    const json = JSON.stringify(view);
    if (json === this.lastView) return;
    this.lastView = json;
    this.client.setView(view).catch((error) => {
      this.lastView = '';
      status(`${error.code ?? 'ERROR'}: ${error.message}`, true);
    });
  }

  close() {
    this.gallery.close();
    this.resize.disconnect();
    $('tiles').replaceChildren();
    showVideo($('stage'), undefined);
    $('stage-label').textContent = '';
  }
}
