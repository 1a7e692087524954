// The active speaker large, and a page of the gallery below. The server sends only the cameras this screen
// declares (setView), each at the size it is shown, so a page costs the same in a room of 10 or of 1,000:
// the gallery is paged (the SDK's Gallery), never the whole roster.
import { useCallback, useEffect, useLayoutEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { PeerInfo } from '../../../../protocol/signaling';
import { MediaVideo } from '../../shared/media-video';
import { meetingClient, useDelegateStore } from './delegate-store';

const sizeOf = (el: Element | null): { width: number; height: number } => {
  const r = el?.getBoundingClientRect();
  return { width: Math.round(r?.width ?? 0), height: Math.round(r?.height ?? 0) };
};

function Tile({ peer, self }: { peer: PeerInfo; self: boolean }) {
  const { t } = useTranslation();
  const remote = useDelegateStore((s) => s.cameras[peer.id]);
  const own = useDelegateStore((s) => (self && s.localMedia.camera === 'on' ? s.ownCamera : undefined));
  const track = self ? own : remote;
  const label = t('delegate.personLabel', { name: peer.name, entity: peer.entity.name });
  return (
    <li className={`tile${track ? '' : ' no-video'}${self ? ' self' : ''}`} data-testid="tile" data-peer-id={peer.id}>
      {track && <MediaVideo track={track} aria-hidden="true" />}
      <span className="tile-label">
        {label}
        {self && ` (${t('delegate.floor.you')})`}
      </span>
    </li>
  );
}

export function StageGallery() {
  const { t } = useTranslation();
  const stage = useDelegateStore((s) => s.stage);
  const selfId = useDelegateStore((s) => s.self?.id);
  const stageTrack = useDelegateStore((s) =>
    s.stage.peerId === null ? undefined : s.stage.peerId === selfId ? (s.localMedia.camera === 'on' ? s.ownCamera : undefined) : s.cameras[s.stage.peerId],
  );
  const page = useDelegateStore((s) => s.page);
  const galleryPage = useDelegateStore((s) => s.galleryPage);
  const stageRef = useRef<HTMLElement>(null);
  const tilesRef = useRef<HTMLOListElement>(null);
  const lastView = useRef('');

  /** Declares what this screen shows (only when it changed): the stage and the tiles, with their sizes. */
  const sendView = useCallback(() => {
    const client = meetingClient();
    if (!client?.joined || !stageRef.current || !tilesRef.current) return;
    const tiles = [...tilesRef.current.querySelectorAll<HTMLElement>('[data-peer-id]')]
      .filter((el) => el.dataset.peerId !== client.self?.id)
      .map((el) => ({ peerId: el.dataset.peerId!, ...sizeOf(el) }));
    const view = { stage: sizeOf(stageRef.current), tiles };
    const json = JSON.stringify(view);
    if (json === lastView.current) return;
    lastView.current = json;
    client.setView(view).catch(() => (lastView.current = ''));
  }, []);

  useLayoutEffect(sendView, [page, sendView]);
  useEffect(() => {
    // A layout change (window, panels) changes the sizes the server picks layers for.
    const observer = new ResizeObserver(() => sendView());
    if (stageRef.current) observer.observe(stageRef.current);
    if (tilesRef.current) observer.observe(tilesRef.current);
    return () => observer.disconnect();
  }, [sendView]);

  const stageLabel = !stage.peerId
    ? t('delegate.stage.nobody')
    : stage.name
      ? t('delegate.personLabel', { name: stage.name, entity: stage.entity ?? '' })
      : t('delegate.stage.someone');
  return (
    <div className="stage-gallery">
      <section ref={stageRef} className={`stage${stageTrack ? '' : ' no-video'}`} aria-labelledby="stage-label" data-testid="stage" data-peer-id={stage.peerId ?? ''}>
        {stageTrack && <MediaVideo track={stageTrack} aria-hidden="true" />}
        <h2 id="stage-label" className="stage-label" data-testid="stage-label">
          {stageLabel}
        </h2>
      </section>
      <section aria-labelledby="gallery-heading" className="gallery">
        <div className="gallery-head">
          <h2 id="gallery-heading">{t('delegate.gallery.heading', { count: page?.total ?? 0 })}</h2>
          {page && page.pages > 1 && (
            <nav className="row" aria-label={t('delegate.gallery.pages')}>
              <button type="button" className="secondary" onClick={() => void galleryPage(-1)} disabled={!page.hasPrevious} data-testid="gallery-prev">
                {t('delegate.gallery.previous')}
              </button>
              <span>{t('delegate.gallery.page', { page: page.index + 1, pages: page.pages })}</span>
              <button type="button" className="secondary" onClick={() => void galleryPage(1)} disabled={!page.hasNext} data-testid="gallery-next">
                {t('delegate.gallery.next')}
              </button>
            </nav>
          )}
        </div>
        <ol ref={tilesRef} className="tiles" data-testid="gallery">
          {page?.peers.map((peer) => <Tile key={peer.id} peer={peer} self={peer.id === selfId} />)}
        </ol>
      </section>
    </div>
  );
}
