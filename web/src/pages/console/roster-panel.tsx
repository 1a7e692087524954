// The roster, usable at thousands: filtered on the server (search, role, entity), paged with getRoster's
// cursor as the list scrolls, and virtualised (only the rows in view are in the page). The lobby too.
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { VirtualList } from '../../shared/virtual-list';
import { ROLES, personLabel, roleLabel, sourceLabel } from './console-labels';
import { PersonButton } from './person-button';
import { rosterRows, useRoomStore, type RosterRow, type RosterStatus } from './room-store';

const ROW_HEIGHT = 56;
/** How a person present was confirmed: by the registry now, from its cache, or under the outage grace policy. */
const ACCREDITATION_SOURCES = ['live', 'cache', 'grace'] as const;
const LIST_HEIGHT = 448;

/** Asks for the reason of a removal in a modal dialog; the reason goes to the person removed. */
function RemoveDialog({ person, onClose }: { person?: { id: string; name: string; label: string }; onClose: () => void }) {
  const { t } = useTranslation();
  const act = useRoomStore((s) => s.act);
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  useEffect(() => {
    if (person && !dialog.current?.open) {
      setReason('');
      dialog.current?.showModal();
    }
    if (!person && dialog.current?.open) dialog.current.close();
  }, [person]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!person) return;
    const text = reason.trim();
    await act('remove', person, (c) => c.removeParticipant(person.id, text || undefined));
    onClose();
  };
  return (
    <dialog ref={dialog} onClose={onClose} aria-labelledby="remove-heading" data-testid="remove-dialog">
      <form onSubmit={(e) => void submit(e)}>
        <h3 id="remove-heading">{person ? t('console.roster.removeHeading', { person: person.label }) : ''}</h3>
        <label>
          {t('console.roster.reason')}
          <textarea maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="remove-reason" />
        </label>
        <div className="row">
          <button type="submit" className="danger" data-testid="remove-confirm">
            {t('console.roster.removeConfirm')}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            {t('console.schedule.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

function LobbyActions({ row, label }: { row: RosterRow; label: string }) {
  const { t } = useTranslation();
  const act = useRoomStore((s) => s.act);
  const p = row.person;
  return (
    <>
      <PersonButton text={t('console.lobby.admit')} person={label} className="" onClick={() => void act('admit', p, (c) => c.admitFromLobby(p.id))} data-testid="admit" />
      <PersonButton text={t('console.lobby.deny')} person={label} onClick={() => void act('deny', p, (c) => c.denyFromLobby(p.id))} data-testid="deny" />
    </>
  );
}

function RoomActions({ row, label, onRemove }: { row: RosterRow; label: string; onRemove: () => void }) {
  const { t } = useTranslation();
  const act = useRoomStore((s) => s.act);
  const listed = useRoomStore((s) => s.floor.queue.some((e) => e.id === row.person.id) || s.floor.speaker?.id === row.person.id);
  const stopped = useRoomStore((s) => s.videoStopped.includes(row.person.id));
  const p = row.person;
  return (
    <>
      <PersonButton text={t('console.roster.mute')} person={label} onClick={() => void act('mute', p, (c) => c.muteParticipant(p.id))} data-testid="mute" />
      <PersonButton text={t('console.roster.askToUnmute')} person={label} onClick={() => void act('askToUnmute', p, (c) => c.askToUnmute(p.id))} data-testid="ask-unmute" />
      {stopped ? (
        <PersonButton text={t('console.roster.allowVideo')} person={label} onClick={() => void act('allowVideo', p, (c) => c.allowVideo(p.id))} data-testid="allow-video" />
      ) : (
        <PersonButton text={t('console.roster.stopVideo')} person={label} onClick={() => void act('stopVideo', p, (c) => c.stopVideo(p.id))} data-testid="stop-video" />
      )}
      <PersonButton text={t('console.roster.addSpeaker')} person={label} disabled={listed} onClick={() => void act('addSpeaker', p, (c) => c.addSpeaker(p.id))} data-testid="add-speaker" />
      <PersonButton text={t('console.roster.remove')} person={label} className="danger" onClick={onRemove} data-testid="remove" />
    </>
  );
}

function Filters() {
  const { t } = useTranslation();
  const filters = useRoomStore((s) => s.filters);
  const setFilters = useRoomStore((s) => s.setFilters);
  const quorum = useRoomStore((s) => s.quorum);
  const [search, setSearch] = useState(filters.search);
  // The search goes to the server once typing pauses.
  useEffect(() => {
    const timer = setTimeout(() => search !== useRoomStore.getState().filters.search && setFilters({ search }), 250);
    return () => clearTimeout(timer);
  }, [search, setFilters]);
  const entities = [...new Set(Object.values(quorum?.byType ?? {}).flatMap((b) => b.entities))].sort((a, b) => a.localeCompare(b));
  return (
    <div className="filters" role="search" aria-label={t('console.roster.filters')}>
      <label>
        {t('console.roster.search')}
        <input type="search" maxLength={64} value={search} onChange={(e) => setSearch(e.target.value)} data-testid="roster-search" />
      </label>
      <label>
        {t('console.roster.entity')}
        <select value={filters.entity} onChange={(e) => setFilters({ entity: e.target.value })} data-testid="roster-entity">
          <option value="">{t('console.roster.allEntities')}</option>
          {entities.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('console.roster.role')}
        <select value={filters.role} onChange={(e) => setFilters({ role: e.target.value })} data-testid="roster-role">
          <option value="">{t('console.roster.allRoles')}</option>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {roleLabel(t, r)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('console.roster.accreditation')}
        <select value={filters.accreditation} onChange={(e) => setFilters({ accreditation: e.target.value })} data-testid="roster-accreditation">
          <option value="">{t('console.roster.anyAccreditation')}</option>
          {ACCREDITATION_SOURCES.map((s) => (
            <option key={s} value={s}>
              {sourceLabel(t, s)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('console.roster.status')}
        <select value={filters.status} onChange={(e) => setFilters({ status: e.target.value as RosterStatus })} data-testid="roster-status">
          {(['all', 'room', 'lobby'] as const).map((s) => (
            <option key={s} value={s}>
              {t(`console.roster.statusValue.${s}`)}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

export function RosterPanel() {
  const { t } = useTranslation();
  const lobby = useRoomStore((s) => s.lobby);
  const roster = useRoomStore((s) => s.roster);
  const filters = useRoomStore((s) => s.filters);
  const total = useRoomStore((s) => s.rosterTotal);
  const selfId = useRoomStore((s) => s.selfId);
  const loadMore = useRoomStore((s) => s.loadMore);
  const [removing, setRemoving] = useState<{ id: string; name: string; label: string }>();
  const rows = rosterRows({ lobby, roster, filters });
  const lobbyShown = rows.filter((r) => r.where === 'lobby').length;
  const allCount = (filters.status === 'lobby' ? 0 : total) + lobbyShown;
  const onNearEnd = useCallback(() => void loadMore(), [loadMore]);
  const renderRow = (row: RosterRow) => {
    const label = personLabel(t, row.person);
    return (
      <div className="roster-row" data-testid="roster-row" data-participant-id={row.person.id} data-where={row.where} data-role={row.person.role}>
        <span className="who">
          <span className="name" data-testid="roster-name">
            {label}
          </span>
          <span className="meta">
            {roleLabel(t, row.person.role)}
            {row.person.via === 'phone' && (
              <span className="badge" data-testid="roster-phone">
                <span aria-hidden="true">☎ </span>
                {t('dialIn.byPhone')}
              </span>
            )}
            {row.person.accreditation && (
              <span className="accreditation" data-testid="roster-accreditation-source" data-source={row.person.accreditation.source}>
                {' · '}
                {sourceLabel(t, row.person.accreditation.source)}
              </span>
            )}
            {row.where === 'lobby' && <span className="badge">{t('console.roster.inLobby')}</span>}
          </span>
        </span>
        <span className="actions">
          {row.where === 'lobby' ? <LobbyActions row={row} label={label} /> : row.person.id !== selfId && <RoomActions row={row} label={label} onRemove={() => setRemoving({ id: row.person.id, name: row.person.name, label })} />}
        </span>
      </div>
    );
  };
  return (
    <section aria-labelledby="roster-heading" className="panel roster-panel" data-testid="roster-panel">
      <h2 id="roster-heading">{t('console.roster.heading')}</h2>
      <Filters />
      <p data-testid="roster-count" aria-live="polite">
        {t('console.roster.count', { shown: rows.length, total: allCount })}
      </p>
      {rows.length === 0 ? (
        <p data-testid="roster-empty">{t('console.roster.empty')}</p>
      ) : (
        <VirtualList items={rows} itemKey={(r) => `${r.where}:${r.person.id}`} renderRow={renderRow} label={t('console.roster.heading')} rowHeight={ROW_HEIGHT} height={Math.min(LIST_HEIGHT, rows.length * ROW_HEIGHT)} total={allCount} onNearEnd={onNearEnd} testId="roster" />
      )}
      <RemoveDialog person={removing} onClose={() => setRemoving(undefined)} />
    </section>
  );
}

export function LobbyPanel() {
  const { t } = useTranslation();
  const lobby = useRoomStore((s) => s.lobby);
  return (
    <section aria-labelledby="lobby-heading" className="panel" data-testid="lobby-panel">
      <h2 id="lobby-heading">{t('console.lobby.heading')}</h2>
      {lobby.length === 0 ? (
        <p data-testid="lobby-empty">{t('console.lobby.empty')}</p>
      ) : (
        <ul className="lobby" data-testid="lobby">
          {lobby.map((p) => {
            const label = personLabel(t, p);
            return (
              <li key={p.id} data-testid="lobby-entry" data-participant-id={p.id}>
                <span>
                  <strong>{label}</strong> · {roleLabel(t, p.role)}
                </span>
                <span className="row">
                  <LobbyActions row={{ where: 'lobby', person: p }} label={label} />
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
