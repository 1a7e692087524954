import { readFile } from 'node:fs/promises';

/** Reads a JSON-lines file; a missing file is empty, and a torn last line (after a crash) is skipped. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn line
    }
  }
  return out;
}
