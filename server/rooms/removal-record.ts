import { forClient, type Coordinator } from '../cluster/coordinator.js';

/**
 * Who the secretariat removed from which room, cluster-wide, for as long as a resume token lives: a
 * removed person's resume token no longer lets them back, and a new join token only gets them into the
 * lobby, where the secretariat decides again (admitting them clears the record).
 */
export class RemovalRecord {
  constructor(
    private readonly coordinator: Coordinator,
    private readonly ttlMs: number,
  ) {}

  record(roomId: string, personId: string): Promise<void> {
    return forClient(() => this.coordinator.recordRemoval(roomId, personId, this.ttlMs));
  }

  isRemoved(roomId: string, personId: string): Promise<boolean> {
    return forClient(() => this.coordinator.isRemoved(roomId, personId));
  }

  clear(roomId: string, personId: string): Promise<void> {
    return forClient(() => this.coordinator.clearRemoval(roomId, personId));
  }
}
