// Where a recording's files live: `<storageDir>/recordings/<recordingId>/<fileName>`. The recorders write
// there, the download route serves from there, the retention sweeper deletes there.
import { join } from 'node:path';
import { recordingId } from './recording-model.js';

/** The folder holding every recording. */
export function recordingsRoot(storageDir: string): string {
  return join(storageDir, 'recordings');
}

/**
 * One recording's folder. The id is checked against its format first, so nothing but `r_` and hex digits
 * ever becomes a path segment (no `..`, no separator).
 */
export function recordingFolder(storageDir: string, id: string): string {
  if (!recordingId.safeParse(id).success) throw new Error(`not a recording id: ${JSON.stringify(id)}`);
  return join(recordingsRoot(storageDir), id);
}

/** A file's name in its recording's folder: `<channel>-<part>.ogg|webm` (what recording-model.ts describes). */
export function recordingFileName(channel: string, part: number, mediaType: 'audio/ogg' | 'video/webm'): string {
  return `${channel}-${part}.${mediaType === 'audio/ogg' ? 'ogg' : 'webm'}`;
}
