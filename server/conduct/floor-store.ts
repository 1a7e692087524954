import { join } from 'node:path';
import { z } from 'zod';
import { JsonFile } from '../../accreditation/json-file.js';
import type { Coordinator, RoomLease } from '../cluster/coordinator.js';
import type { FloorSnapshot } from './floor-control.js';

const entry = z.object({ id: z.string(), name: z.string(), entity: z.string(), kind: z.enum(['speaker', 'point_of_order']), requestedAt: z.number() });
const snapshotSchema = z.object({
  queue: z.array(entry),
  speaker: entry.extend({ since: z.number(), limitMs: z.number(), warningMs: z.number() }).nullable(),
});

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** A write refused because another node has taken the room since: this node must stop acting for it. */
export class StaleOwnerError extends Error {
  constructor(roomId: string) {
    super(`another node owns room ${roomId} now; this node's write was refused`);
    this.name = 'StaleOwnerError';
  }
}

/**
 * Each session's speakers list and floor, saved on every change, so that nobody loses their place when the
 * room restarts (one node) or moves to another node (a cluster).
 */
export interface FloorStore {
  load(sessionId: string): Promise<FloorSnapshot | undefined>;
  save(sessionId: string, snapshot: FloorSnapshot): Promise<void>;
}

/** One node: a JSON file per session in the data directory. */
export class FileFloorStore implements FloorStore {
  constructor(private readonly dir: string) {}

  async load(sessionId: string): Promise<FloorSnapshot | undefined> {
    const file = this.file(sessionId);
    return file.exists() ? file.load() : undefined;
  }

  async save(sessionId: string, snapshot: FloorSnapshot): Promise<void> {
    this.file(sessionId).save(snapshot);
  }

  private file(sessionId: string): JsonFile<typeof snapshotSchema> {
    if (!SAFE.test(sessionId)) throw new Error(`unsafe session id: ${sessionId}`);
    return new JsonFile(join(this.dir, `${sessionId}.json`), snapshotSchema);
  }
}

/**
 * A cluster: the room's state in the coordinator, written under the owner's fencing token. The node that
 * takes a room over after a failure reads it back; a stale owner's late write is refused.
 */
export class ClusterFloorStore implements FloorStore {
  constructor(
    private readonly coordinator: Coordinator,
    /** This node's lease on the room, while it holds one. */
    private readonly leaseOf: (roomId: string) => RoomLease | undefined,
  ) {}

  async load(sessionId: string): Promise<FloorSnapshot | undefined> {
    const raw = await this.coordinator.readRoomState(sessionId, 'floor');
    if (raw === null) return undefined;
    const parsed = snapshotSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  async save(sessionId: string, snapshot: FloorSnapshot): Promise<void> {
    const lease = this.leaseOf(sessionId);
    if (!lease) throw new StaleOwnerError(sessionId);
    if (!(await this.coordinator.writeRoomState(lease, 'floor', JSON.stringify(snapshot)))) throw new StaleOwnerError(sessionId);
  }
}
