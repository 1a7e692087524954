// Votes in the rooms this node serves: opening (with the quorum check), casting for an entity, a roll-call's
// calling, the timer, and the results told to everyone. The rows are in the system of record (VoteStore), so
// a node that takes a room over finds the open vote and re-arms its timer.
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { VoteState, VoteView } from '../../protocol/signaling.js';
import type { SessionDirectory } from '../../accreditation/session-directory.js';
import type { WebhookOutbox } from '../conduct/webhook-outbox.js';
import type { Logger } from '../logger.js';
import type { Participant } from '../rooms/participant.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { calledEntity, rollCallOrder } from './roll-call.js';
import { checkBallot, openVoteInput, type Ballot, type OpenVoteInput, type VoteDefinition } from './vote-model.js';
import { VoteAlreadyOpenError, type VoteRecord, type VoteStore } from './vote-store.js';

/** Who may cast an entity's vote besides designated voters. */
const CASTING_ROLE = 'head_of_delegation';

/** What everyone may see of a vote: never a secret ballot's choices (there are none to see) nor who opened it. */
export function voteView(vote: VoteRecord, cast: number, called?: string): VoteView {
  const d = vote.definition;
  return {
    voteId: vote.voteId,
    question: d.question,
    kind: d.kind,
    eligibleEntityTypes: d.eligibleEntityTypes,
    ...(d.candidates ? { candidates: d.candidates, seats: d.seats ?? 1 } : {}),
    ...(d.order ? { order: d.order } : {}),
    status: vote.status,
    openedAt: vote.openedAt.getTime(),
    closesAt: vote.closesAt?.getTime() ?? null,
    entitled: d.entitled.length,
    cast,
    called: called ?? null,
    result: vote.result,
  };
}

/** How long after it closed a vote's result is still told to whoever (re)joins or asks. */
const RECENT_RESULT_MS = 15 * 60_000;

/** What the meeting's record hears of votes (server/recording writes them into the meeting index). */
type VoteServiceEvents = { opened: [{ sessionId: string; vote: VoteRecord }]; closed: [{ sessionId: string; vote: VoteRecord }] };

export class VoteService extends EventEmitter<VoteServiceEvents> {
  /** Each room's timer for its open vote. */
  private readonly timers = new Map<Room, NodeJS.Timeout>();
  /**
   * A vote whose time ran out while no node served its room (a failover, or a room closed while empty): the
   * node creating the room closes it before those coming back have joined, so its result is told to each who
   * joins, until the next vote opens.
   */
  private readonly closedUnheard = new Map<Room, VoteView>();

  constructor(
    private readonly rooms: RoomRegistry,
    private readonly sessions: SessionDirectory,
    readonly store: VoteStore,
    private readonly webhooks: WebhookOutbox | undefined,
    private readonly log: Logger,
  ) {
    super();
    rooms.on('roomcreated', (room) => this.attach(room));
  }

  /** Opens a vote in the room: one at a time, with the entities present counted for the quorum. */
  async open(room: Room, by: Participant, input: OpenVoteInput): Promise<VoteView> {
    const session = this.sessions.get(room.id);
    if (!session) throw new ProtocolError(ErrorCode.NOT_SUPPORTED, 'votes are taken in sessions of record only');
    const parsed = openVoteInput.safeParse(input);
    if (!parsed.success) throw new ProtocolError(ErrorCode.BAD_REQUEST, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const { data } = parsed;
    const entitled = await this.entitledPresent(room, session.eventId, data.eligibleEntityTypes);
    if (entitled.length < data.quorum) {
      throw new ProtocolError(ErrorCode.QUORUM_NOT_MET, `${entitled.length} entities entitled to vote are present; the quorum is ${data.quorum}`);
    }
    const definition: VoteDefinition = {
      ...data,
      presentAtOpening: entitled.length,
      entitled,
      // The lot draws the entity called first.
      ...(data.kind === 'roll_call' ? { order: rollCallOrder(entitled, entitled.length ? randomInt(entitled.length) : 0) } : {}),
    };
    let vote: VoteRecord;
    try {
      vote = await this.store.open({ eventId: session.eventId, sessionId: room.id, openedBy: by.grants.person, definition });
    } catch (error) {
      if (error instanceof VoteAlreadyOpenError) throw new ProtocolError(ErrorCode.VOTE_ALREADY_OPEN, error.message);
      throw error;
    }
    this.closedUnheard.delete(room);
    this.arm(room, vote);
    const view = voteView(vote, 0, this.called(vote, new Set()));
    room.broadcast('voteOpened', view);
    this.emit('opened', { sessionId: room.id, vote });
    this.webhooks?.send('vote.opened', { sessionId: room.id, eventId: session.eventId, voteId: vote.voteId, kind: definition.kind, question: definition.question, entitled: entitled.length });
    this.log.info({ sessionId: room.id, voteId: vote.voteId, kind: definition.kind, entitled: entitled.length }, 'vote opened');
    return view;
  }

  /** Casts the participant's entity's vote. The choice of a secret ballot is never logged nor told. */
  async cast(room: Room, by: Participant, voteId: string, ballot: Ballot): Promise<{ cast: number }> {
    const vote = await this.openVote(room, voteId);
    const { entity } = by.grants;
    if (!vote.definition.eligibleEntityTypes.includes(entity.type)) throw new ProtocolError(ErrorCode.VOTE_NOT_ENTITLED, `${entity.name} is not entitled to vote on this question`);
    if (by.grants.role !== CASTING_ROLE && (await this.store.designated(vote.eventId, entity.name)) !== by.grants.person) {
      throw new ProtocolError(ErrorCode.VOTE_NOT_ENTITLED, `the head of delegation, or the delegate designated for it, casts ${entity.name}'s vote`);
    }
    if (vote.definition.kind === 'roll_call') {
      const called = this.called(vote, new Set(await this.store.votedEntities(vote.voteId)));
      if (called !== entity.name) throw new ProtocolError(ErrorCode.VOTE_NOT_CALLED, called ? `${called} is called now` : 'the roll-call has ended');
    }
    const wrong = checkBallot(vote.definition, ballot);
    if (wrong) throw new ProtocolError(ErrorCode.BAD_REQUEST, wrong);
    const outcome = await this.store.cast({ vote, entity: entity.name, entityType: entity.type, castBy: by.grants.person, ballot });
    if (outcome === 'already') throw new ProtocolError(ErrorCode.VOTE_ALREADY_CAST, `${entity.name} has voted`);
    const voted = new Set(await this.store.votedEntities(vote.voteId));
    const cast = voted.size;
    // How many have voted, never how: for every kind, while the vote is open.
    room.broadcast('voteProgress', { voteId, cast, entitled: vote.definition.entitled.length, called: this.called(vote, voted) ?? null });
    // The entity's other delegates see that their vote is in (a reconnecting one is told on joining).
    const own = vote.definition.kind === 'secret' ? {} : { position: 'position' in ballot ? ballot.position : undefined };
    for (const p of room.participants.values()) if (p.grants.entity.name === entity.name) p.notify('voteCast', { voteId, entity: entity.name, ...own });
    this.log.info({ sessionId: room.id, voteId, entity: entity.name, cast }, 'vote cast');
    return { cast };
  }

  /** A roll-call: the called entity passes (it is called again after the others; twice, it does not vote). */
  async pass(room: Room, voteId: string): Promise<VoteView> {
    const vote = await this.openVote(room, voteId);
    if (vote.definition.kind !== 'roll_call') throw new ProtocolError(ErrorCode.INVALID_STATE, 'only a roll-call calls entities');
    const voted = new Set(await this.store.votedEntities(voteId));
    const called = this.called(vote, voted);
    if (!called) throw new ProtocolError(ErrorCode.INVALID_STATE, 'the roll-call has ended');
    await this.store.pass(room.id, voteId, called);
    const fresh = (await this.store.get(vote.eventId, room.id, voteId))!;
    const next = this.called(fresh, voted);
    room.broadcast('voteProgress', { voteId, cast: voted.size, entitled: vote.definition.entitled.length, called: next ?? null });
    return voteView(fresh, voted.size, next);
  }

  /** Closes the vote and tells everyone the result (by entity, or totals for a secret ballot). */
  async close(room: Room, voteId: string): Promise<VoteView> {
    const vote = await this.store.get(this.sessions.get(room.id)?.eventId ?? '', room.id, voteId);
    if (!vote) throw new ProtocolError(ErrorCode.NOT_FOUND, `no vote ${voteId} in this session`);
    return this.finish(room, vote);
  }

  /**
   * The open vote as it stands, for this participant's entity; else the vote that closed in the last
   * RECENT_RESULT_MS, with its result: someone whose connection dropped over the close still learns it.
   */
  async state(room: Room, p: Participant): Promise<VoteState> {
    const vote = await this.store.latestIn(room.id);
    if (!vote || (vote.status === 'closed' && Date.now() - (vote.closedAt?.getTime() ?? 0) > RECENT_RESULT_MS)) return { vote: null, ownEntity: null };
    const voted = new Set(await this.store.votedEntities(vote.voteId));
    const own = await this.store.castOf(vote.voteId, p.grants.entity.name);
    return { vote: voteView(vote, voted.size, vote.status === 'open' ? this.called(vote, voted) : undefined), ownEntity: own ? { voted: true, ...(own.position ? { position: own.position } : {}) } : { voted: false } };
  }

  private async finish(room: Room, vote: VoteRecord): Promise<VoteView> {
    clearTimeout(this.timers.get(room));
    this.timers.delete(room);
    const wasOpen = vote.status === 'open';
    const closed = await this.store.close(vote.sessionId, vote.voteId, vote.definition.entitled);
    const view = voteView(closed, await this.store.castCount(vote.voteId));
    if (wasOpen) {
      room.broadcast('voteClosed', view);
      // A secret ballot's result is totals only, so the webhook carries nothing more than the room heard.
      this.emit('closed', { sessionId: room.id, vote: closed });
      this.webhooks?.send('vote.closed', { sessionId: room.id, eventId: vote.eventId, voteId: vote.voteId, kind: vote.definition.kind, question: vote.definition.question, result: closed.result });
      this.log.info({ sessionId: room.id, voteId: vote.voteId }, 'vote closed');
    }
    return view;
  }

  private async openVote(room: Room, voteId: string): Promise<VoteRecord> {
    const vote = await this.store.get(this.sessions.get(room.id)?.eventId ?? '', room.id, voteId);
    if (!vote) throw new ProtocolError(ErrorCode.NOT_FOUND, `no vote ${voteId} in this session`);
    if (vote.status !== 'open' || (vote.closesAt && vote.closesAt.getTime() <= Date.now())) throw new ProtocolError(ErrorCode.VOTE_CLOSED, 'this vote is closed');
    return vote;
  }

  private called(vote: VoteRecord, voted: ReadonlySet<string>): string | undefined {
    return vote.definition.order ? calledEntity(vote.definition.order, voted, vote.definition.passes) : undefined;
  }

  /**
   * Entities whose type may vote and with someone present who casts their vote (the head of delegation or the
   * designated delegate), each once. A chair or an observer seated for a Member State does not make it one.
   */
  private async entitledPresent(room: Room, eventId: string, types: readonly string[]): Promise<string[]> {
    const names = new Set<string>();
    const designated = await this.store.designations(eventId);
    for (const p of room.participants.values()) {
      const { entity, role, person } = p.grants;
      if (!types.includes(entity.type) || names.has(entity.name)) continue;
      if (role === CASTING_ROLE || designated.get(entity.name) === person) names.add(entity.name);
    }
    return [...names];
  }

  /** The timer closes the vote on the node serving the room; a node taking the room over arms it again. */
  private arm(room: Room, vote: VoteRecord): void {
    clearTimeout(this.timers.get(room));
    const ms = Math.max(0, (vote.closesAt?.getTime() ?? Date.now()) - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(room);
      // An edge room mirrors the origin's; only the origin conducts the vote.
      if (!room.closed && !room.isEdge) this.finish(room, vote).catch((error: unknown) => this.log.error({ err: error, voteId: vote.voteId }, 'vote not closed by its timer'));
    }, ms);
    timer.unref();
    this.timers.set(room, timer);
  }

  private attach(room: Room): void {
    if (!this.sessions.get(room.id)) return;
    room.once('close', () => {
      clearTimeout(this.timers.get(room));
      this.timers.delete(room);
      this.closedUnheard.delete(room);
    });
    // After a failover or a restart: the open vote is found and its timer armed again, or, when its time ran
    // out meanwhile, it is closed now and its result kept for those who come back.
    this.store.openIn(room.id).then(
      (vote) => {
        if (!vote || room.closed || room.isEdge) return;
        if (vote.closesAt && vote.closesAt.getTime() > Date.now()) return this.arm(room, vote);
        this.finish(room, vote).then(
          (view) => !room.closed && this.closedUnheard.set(room, view),
          (error: unknown) => this.log.error({ err: error, voteId: vote.voteId }, 'vote not closed on taking the room'),
        );
      },
      (error: unknown) => this.log.warn({ err: error, sessionId: room.id }, 'open vote not loaded'),
    );
    room.on('participantjoined', (p) => {
      if (room.isEdge) return; // votes are cast at the origin only (edges refuse vote requests)
      this.state(room, p).then(
        (state) => {
          if (state.vote) p.notify('voteState', state);
          // After the state: one read just before the vote closed at takeover must not be the last word.
          const unheard = this.closedUnheard.get(room);
          if (unheard && (!state.vote || state.vote.voteId === unheard.voteId)) p.notify('voteClosed', unheard);
        },
        (error: unknown) => this.log.warn({ err: error, sessionId: room.id }, 'vote state not told'),
      );
    });
  }
}
