import type { IncomingMessage } from 'node:http';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.js';
import type { AuditLog } from '../../../accreditation/audit-log.js';
import type { RequestData, RequestMethod, ResponseData } from '../../../protocol/signaling.js';
import type { JoinGrants, JoinTokenService } from '../../auth/join-token.js';
import type { TranscriptStore } from '../../interpretation/transcript-store.js';
import type { Logger } from '../../logger.js';
import type { Participant } from '../../rooms/participant.js';
import type { RemovalRecord } from '../../rooms/removal-record.js';
import type { Room } from '../../rooms/room.js';
import type { RoomRegistry } from '../../rooms/room-registry.js';
import type { VoteService } from '../../votes/vote-service.js';

export interface ConnectionLimits {
  maxMessageBytes: number;
  ratePerSecond: number;
  rateBurst: number;
  /** Connections from one address still waiting to authenticate (0: no limit). */
  maxPendingPerAddress: number;
}

export interface RequestObserver {
  (method: string, outcome: string): void;
}

export interface ConnectionDeps {
  rooms: RoomRegistry;
  limits: ConnectionLimits;
  log: Logger;
  observe: RequestObserver;
  audit: AuditLog;
  transcripts: TranscriptStore;
  tokens: JoinTokenService;
  /** Removals by the secretariat, cluster-wide. */
  removals: RemovalRecord;
  /** URLs of the cluster's live nodes (this one included). */
  clusterNodes: () => Promise<string[]>;
  /** Whether listeners of a room receive every language channel or only the one they chose. */
  listenerChannels: (roomId: string) => 'all' | 'selected';
  /** The client's address behind trusted proxies (PLENUM_TRUST_PROXY), as HTTP sees it. */
  clientAddress: (req: IncomingMessage) => string;
  /** Votes by entity in the rooms served here. */
  votes?: VoteService;
}

/** What a handler of a joined connection works with; the gate has already checked state and grants. */
export interface JoinedContext {
  readonly participant: Participant;
  readonly room: Room;
  /** The connection's own grants (shared with the participant; changed live by the server). */
  readonly grants: JoinGrants;
  readonly deps: ConnectionDeps;
  readonly log: Logger;
}

export type Handler<M extends RequestMethod> = (ctx: JoinedContext, data: RequestData<M>) => Promise<ResponseData[M]>;
export type HandlerSet<M extends RequestMethod> = { [K in M]: Handler<K> };

export function forbidden(action: string): never {
  throw new ProtocolError(ErrorCode.FORBIDDEN, `your grants do not allow you to ${action}`);
}
