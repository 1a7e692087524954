import { ErrorCode, ProtocolError } from '../../protocol/errors.js';

/** What a node tells the others about itself, refreshed by heartbeats. */
export interface NodeStats {
  nodeId: string;
  /** Where clients and peers reach this node. */
  url: string;
  workers: number;
  consumers: number;
  /** Process CPU use over the last interval, 0..1 per core. */
  cpu: number;
  /** A draining node takes no new rooms. */
  draining: boolean;
  /** Where this node's pipe transports are reached (address and port range): an origin pipes only there. */
  pipe?: { address: string; minPort: number; maxPort: number };
  updatedAt: number;
}

/** A node's hold on a room. `token` only grows: a later owner always holds a larger one (fencing). */
export interface RoomLease {
  roomId: string;
  nodeId: string;
  token: number;
}

/** The coordination store cannot be reached; callers refuse or postpone, they never guess. */
export class CoordinatorUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CoordinatorUnavailableError';
  }
}

/**
 * What nodes share: who is alive and how loaded, who owns which room, fenced room state, and join tokens
 * already used. One node runs the in-process implementation; a cluster runs the Redis one. Code above
 * this interface never knows which.
 */
export interface Coordinator {
  readonly nodeId: string;
  /** Resolves once the store answers; rejects with CoordinatorUnavailableError after the timeout. */
  ready(timeoutMs?: number): Promise<void>;
  /** Publishes this node's stats; they expire unless refreshed (a node is dead once its stats are stale). */
  heartbeat(stats: Omit<NodeStats, 'nodeId' | 'updatedAt'>): Promise<void>;
  liveNodes(): Promise<NodeStats[]>;
  /** Takes a room, or renews this node's lease on it. Null when another node holds a live lease. */
  acquireRoom(roomId: string, ttlMs: number): Promise<RoomLease | null>;
  /** False when the lease was lost (expired and taken): the node must stop acting as the owner. */
  renewRoom(lease: RoomLease, ttlMs: number): Promise<boolean>;
  releaseRoom(lease: RoomLease): Promise<void>;
  roomOwner(roomId: string): Promise<RoomLease | null>;
  /** Writes room state only if no newer owner has written: false for a stale owner. */
  writeRoomState(lease: RoomLease, key: string, value: string): Promise<boolean>;
  readRoomState(roomId: string, key: string): Promise<string | null>;
  /** True the first time a join token id is used anywhere in the cluster. */
  claimJti(jti: string, expiresAtSeconds: number): Promise<boolean>;
  /** Records that the secretariat removed a person from a room, for `ttlMs` (at least a resume token's life). */
  recordRemoval(roomId: string, personId: string, ttlMs: number): Promise<void>;
  isRemoved(roomId: string, personId: string): Promise<boolean>;
  /** The secretariat let the person back (admitted from the lobby). */
  clearRemoval(roomId: string, personId: string): Promise<void>;
  close(): Promise<void>;
}

/** Least loaded live node that is not draining. */
export function pickNode(nodes: NodeStats[]): NodeStats | undefined {
  return nodes
    .filter((n) => !n.draining && n.workers > 0)
    .sort((a, b) => a.consumers / a.workers - b.consumers / b.workers || a.cpu - b.cpu)[0];
}

/** A coordinator call made for a client: the store's outage reaches the client as UNAVAILABLE, which it may retry. */
export async function forClient<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CoordinatorUnavailableError) throw new ProtocolError(ErrorCode.UNAVAILABLE, 'the cluster store is unavailable; try again shortly');
    throw error;
  }
}
