import { join } from 'node:path';
import { z } from 'zod';
import { JsonFile } from '../../accreditation/json-file.js';
import type { FloorSnapshot } from './floor-control.js';

const entry = z.object({ id: z.string(), name: z.string(), entity: z.string(), kind: z.enum(['speaker', 'point_of_order']), requestedAt: z.number() });
const snapshotSchema = z.object({
  queue: z.array(entry),
  speaker: entry.extend({ since: z.number(), limitMs: z.number(), warningMs: z.number() }).nullable(),
});

const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Each session's speakers list and floor, saved on every change, so a restart loses nobody's place. */
export class FloorStore {
  constructor(private readonly dir: string) {}

  load(sessionId: string): FloorSnapshot | undefined {
    const file = this.file(sessionId);
    return file.exists() ? file.load() : undefined;
  }

  save(sessionId: string, snapshot: FloorSnapshot): void {
    this.file(sessionId).save(snapshot);
  }

  private file(sessionId: string): JsonFile<typeof snapshotSchema> {
    if (!SAFE.test(sessionId)) throw new Error(`unsafe session id: ${sessionId}`);
    return new JsonFile(join(this.dir, `${sessionId}.json`), snapshotSchema);
  }
}
